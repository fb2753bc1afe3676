package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// TestAuditPage: a browser asking for HTML gets the trail as a page, with
// what people wrote escaped, behind the same token check as the JSON.
func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	at := time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC)
	e.temporal.history = []*historypb.HistoryEvent{
		auditMarker(t, 2, workflows.AuditEvent{Time: at, Type: api.EventRequested, Actor: "alice@example.com", ActorID: aliceID, Detail: "reader for 1h: <script>alert(1)</script>"}),
		auditMarker(t, 3, workflows.AuditEvent{Time: at.Add(time.Second), Type: api.EventApproved, Actor: "bob@example.com", ActorID: bobID, Stage: 1, Detail: "stage 1 of 1: fine"}),
	}
	r := e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "bob", "", "Accept: text/html,application/xhtml+xml,*/*;q=0.8")
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type = %q", ct)
	}
	page := string(r.body)
	wantContains(t, "page", page, "bob@example.com", "approved (stage 1)", "2030-01-01 00:00:02 UTC", "&lt;script&gt;", bobID)
	if strings.Contains(page, "<script>") {
		t.Error("the page shows a detail unescaped")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "", "", "Accept: text/html"), http.StatusUnauthorized)
}

func TestPrefersHTML(t *testing.T) {
	tests := map[string]bool{
		"":                                    false,
		"application/json":                    false,
		"text/html":                           true,
		"text/html,application/xhtml+xml,*/*": true,
		"application/json, text/html":         false,
		"*/*":                                 false,
		"text/html;q=0.9, application/json":   true,
	}
	for accept, want := range tests {
		if got := prefersHTML(accept); got != want {
			t.Errorf("prefersHTML(%q) = %v, want %v", accept, got, want)
		}
	}
}
