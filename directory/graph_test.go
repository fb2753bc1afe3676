package directory

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

const alice = "11111111-1111-4111-8111-000000000001"

// fakeGroups answers from a map and counts the lookups; err, when set,
// fails the next one.
type fakeGroups struct {
	groups map[string][]string
	calls  int
	err    error
}

func (f *fakeGroups) MemberGroups(_ context.Context, userID string) ([]string, error) {
	f.calls++
	if err := f.err; err != nil {
		f.err = nil
		return nil, err
	}
	return f.groups[userID], nil
}

func TestMemberGroupsCache(t *testing.T) {
	src := &fakeGroups{groups: map[string][]string{alice: {"g1", "engineers"}}}
	g, err := NewGraph(Config{Graph: src})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	g.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if got, err := g.MemberGroups(ctx, alice); err != nil || !slices.Equal(got, []string{"g1", "engineers"}) {
			t.Fatalf("groups %v, %v", got, err)
		}
	}
	if src.calls != 1 {
		t.Fatalf("%d Graph calls for three lookups within the cache time, want 1", src.calls)
	}
	now = now.Add(6 * time.Minute)
	src.err = errors.New("graph read the groups: HTTP 403")
	if _, err := g.MemberGroups(ctx, alice); err == nil {
		t.Error("a failed lookup after the cache time answered from the cache")
	}
	if got, err := g.MemberGroups(ctx, alice); err != nil || len(got) != 2 {
		t.Errorf("after the fault: %v, %v", got, err)
	}
}

func TestNewGraphNeedsAClient(t *testing.T) {
	if _, err := NewGraph(Config{}); err == nil {
		t.Error("a directory without a Graph client accepted")
	}
}
