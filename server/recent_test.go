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

// A recent start's submitted view is a copy, and is forgotten with the
// start after the window.
func TestRecentStartsSubmittedView(t *testing.T) {
	now := time.Date(2036, 1, 1, 9, 0, 0, 0, time.UTC)
	r := &recentStarts{now: func() time.Time { return now }}
	r.add(workflows.AccessRequestInput{RequestID: "req-00000001", CreatedAt: now, Justification: "incident 7",
		Requester: workflows.Person{ID: "alice-id", UPN: "alice@example.com"}, Target: workflows.Target{Role: "reader"}})
	got, ok := r.request("req-00000001")
	if !ok || got.ID != "req-00000001" || got.Justification != "incident 7" || got.Role != "reader" {
		t.Fatalf("request = %+v, %v", got, ok)
	}
	got.Decisions = append(got.Decisions, workflows.Decision{Decision: "approve"})
	if again, _ := r.request("req-00000001"); len(again.Decisions) != 0 {
		t.Errorf("a caller's change reached the kept view: %+v", again.Decisions)
	}
	if _, ok := r.request("req-00000002"); ok {
		t.Error("found a request never started")
	}
	now = now.Add(recentWindow)
	if _, ok := r.request("req-00000001"); ok {
		t.Error("still known after the window")
	}
}
