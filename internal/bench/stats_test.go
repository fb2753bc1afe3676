package bench

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	msd := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Dist
	}{
		{"empty", nil, Dist{}},
		{"one", msd(7), Dist{N: 1, P50: 7, P99: 7, Max: 7}},
		{"two", msd(9, 3), Dist{N: 2, P50: 3, P99: 9, Max: 9}},
		{"hundred", msd(hundred...), Dist{N: 100, P50: 50, P99: 99, Max: 100}},
		{"sub-millisecond", []time.Duration{1500 * time.Microsecond, 250 * time.Microsecond}, Dist{N: 2, P50: 0.25, P99: 1.5, Max: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("Summarize = %+v, want %+v", got, tt.want)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatal("Summarize reordered its input")
				}
			}
		})
	}
}

func TestPerSecond(t *testing.T) {
	tests := []struct {
		n    int
		d    time.Duration
		want float64
	}{
		{300, 10 * time.Second, 30},
		{1, 3 * time.Second, 0.33},
		{5, 0, 0},
	}
	for _, tt := range tests {
		if got := perSecond(tt.n, tt.d); got != tt.want {
			t.Errorf("perSecond(%d, %s) = %v, want %v", tt.n, tt.d, got, tt.want)
		}
	}
}
