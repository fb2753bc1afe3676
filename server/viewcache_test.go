package server

import (
	"net/http"
	"testing"
	"time"
)

// A request whose history has not grown is read from the view kept when
// its workflow last answered, by GET and by the list alike; once its
// history grows (a decision, an escalation), the workflow is asked again
// and its new view shown.
func TestViewsKeptWhileHistoryStands(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.mu.Lock()
	e.temporal.wfs[id].historyLength = 12
	e.temporal.mu.Unlock()
	queries := func() int {
		_, calls := e.temporal.callCount()
		return calls["QueryWorkflow"]
	}

	before := queries()
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/"+id, "alice", ""), http.StatusOK)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/"+id, "bob", ""), http.StatusOK)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests?status=pending_approval", "bob", ""), http.StatusOK)
	if n := queries() - before; n != 1 {
		t.Fatalf("%d queries for three reads of a history that did not grow, want 1", n)
	}

	// The workflow moves on: its view changes and its history grows.
	e.temporal.mu.Lock()
	w := e.temporal.wfs[id]
	w.view.Tier = 2
	w.historyLength = 15
	e.temporal.mu.Unlock()
	r := e.call(http.MethodGet, "/api/v1/requests/"+id, "alice", "")
	wantStatus(t, r, http.StatusOK)
	if got := r.request(t); got.Tier != 2 {
		t.Fatalf("after the history grew the view shows tier %d, want 2", got.Tier)
	}
	if n := queries() - before; n != 2 {
		t.Fatalf("%d queries, want 2: one more once the history grew", n)
	}
}

// The cache keeps at most its bound, and never answers for another run
// or an unknown length.
func TestViewCacheBounds(t *testing.T) {
	c := viewCache{max: 10}
	for i := range 25 {
		c.put(string(rune('a'+i)), "run", 5, []byte("{}"))
	}
	if n := len(c.views); n > 10 {
		t.Fatalf("%d views kept, bound 10", n)
	}
	c.put("x", "run-1", 7, []byte(`{"id":"x"}`))
	if _, ok := c.get("x", "run-2", 7); ok {
		t.Error("answered for another run")
	}
	if _, ok := c.get("x", "run-1", 8); ok {
		t.Error("answered for a longer history")
	}
	if _, ok := c.get("x", "", 0); ok {
		t.Error("answered without a key")
	}
	if data, ok := c.get("x", "run-1", 7); !ok || string(data) != `{"id":"x"}` {
		t.Errorf("get = %q, %v", data, ok)
	}
}

// A query the reader stopped waiting for goes on in the background: once
// the workflow answers, its view is kept, and the next read shows it
// without asking the workflow again.
func TestSlowViewKeptForTheNextRead(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	gate := make(chan struct{})
	e.temporal.mu.Lock()
	e.temporal.wfs[id].queryGate = gate
	e.temporal.wfs[id].historyLength = 9
	e.temporal.mu.Unlock()
	getAsSubmitted(t, e, "bob", id)
	close(gate) // the workflow answers, after the reader stopped waiting
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := e.server.viewCache.get(id, "run", 9); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late answer was not kept")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, calls := e.temporal.callCount()
	before := calls["QueryWorkflow"]
	r := e.call(http.MethodGet, "/api/v1/requests/"+id, "bob", "")
	wantStatus(t, r, http.StatusOK)
	if v := r.request(t).View; v != "" {
		t.Errorf("the next read is still %q", v)
	}
	if _, calls := e.temporal.callCount(); calls["QueryWorkflow"] != before {
		t.Errorf("the next read asked the workflow again")
	}
}
