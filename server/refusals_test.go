package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jitflow/jitflow/telemetry"
)

// TestRefusalsAreLoggedAndCounted: refused updates leave no history, so
// the log line and the counter must carry them.
func TestRefusalsAreLoggedAndCounted(t *testing.T) {
	e := newEnv(t)
	e.server.metrics = telemetry.New()
	id := e.create("alice", readerBody)
	wantStatus(t, e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "alice", ""), http.StatusForbidden)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/"+id, "", "", "Authorization: Bearer forged.token.value"), http.StatusUnauthorized)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/nowhere", "alice", ""), http.StatusNotFound)

	refusals := e.server.metrics.Refusals
	if got := testutil.ToFloat64(refusals.WithLabelValues("POST", "/api/v1/requests/:id/approve", "403")); got != 1 {
		t.Errorf("403 refusals of approve = %v, want 1", got)
	}
	if got := testutil.ToFloat64(refusals.WithLabelValues("GET", "/api/v1/requests/:id", "401")); got != 1 {
		t.Errorf("401 refusals of read = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(refusals); n != 2 {
		t.Errorf("refusal series = %d, want 2 (a 404 is no refusal)", n)
	}

	var self map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "call refused" && rec["status"] == float64(403) {
			self = rec
		}
		if strings.Contains(line, "forged.token.value") {
			t.Errorf("the log shows a token: %s", line)
		}
	}
	if self == nil {
		t.Fatalf("no refusal line for the self-approval in:\n%s", e.logs)
	}
	for key, want := range map[string]any{"access_request_id": id, "caller_id": aliceID, "route": "/api/v1/requests/:id/approve"} {
		if self[key] != want {
			t.Errorf("refusal line %s = %v, want %v", key, self[key], want)
		}
	}
	wantContains(t, "refusal detail", self["detail"].(string), "alice@example.com is not an approver of role reader under the current policy")
}
