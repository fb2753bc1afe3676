package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/jitflow/jitflow/workflows"
)

// A burst of starts that visibility has not caught up with yet fills the
// first page at most: each listed request is read from its workflow, so
// thousands would outlast the listing's deadline.
func TestRecentStartsFillOnePageAtMost(t *testing.T) {
	now := time.Date(2036, 1, 1, 9, 0, 0, 0, time.UTC)
	r := &recentStarts{now: func() time.Time { return now }}
	for i := range 500 {
		r.add(workflows.AccessRequestInput{RequestID: fmt.Sprintf("req-%08d", i), CreatedAt: now.Add(-time.Duration(500-i) * time.Millisecond),
			Requester: workflows.Person{ID: "alice-id", UPN: "alice@example.com"}, Target: workflows.Target{Role: "reader"}})
	}
	me := &identity{person: workflows.Person{ID: "alice-id"}}
	got := r.matching(listFilter{limit: 50}, me, nil)
	if len(got) != 50 {
		t.Fatalf("%d recent starts on a page of 50", len(got))
	}
	if got[0].ID != "req-00000499" || got[49].ID != "req-00000450" {
		t.Fatalf("not the newest first: %s .. %s", got[0].ID, got[49].ID)
	}
}
