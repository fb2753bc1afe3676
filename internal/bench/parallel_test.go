package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestParallelRunsEachIndexOnceWithinTheLimit(t *testing.T) {
	var seen [50]atomic.Int32
	var running, most atomic.Int32
	err := parallel(context.Background(), 4, len(seen), func(_ context.Context, i int) error {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		seen[i].Add(1)
		running.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Errorf("index %d ran %d times", i, seen[i].Load())
		}
	}
	if most.Load() > 4 {
		t.Errorf("%d ran at once, limit 4", most.Load())
	}
}

func TestParallelStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var ran atomic.Int32
	err := parallel(context.Background(), 1, 100, func(ctx context.Context, i int) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ran.Add(1)
		if i == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if ran.Load() > 4 {
		t.Errorf("%d calls ran after the error", ran.Load()-3)
	}
}
