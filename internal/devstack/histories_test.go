package devstack

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/workflows"
)

// TestRecordHistories writes the history of one request per path to
// workflows/testdata/histories, where the replay tests check that the
// current workflow code still replays them. Run it after a workflow change
// that is safe for running requests (see docs/workflow-changes.md):
//
//	JITFLOW_RECORD_HISTORIES=1 go test -run TestRecordHistories ./internal/devstack/
func TestRecordHistories(t *testing.T) {
	if os.Getenv("JITFLOW_RECORD_HISTORIES") == "" {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 to record new histories")
	}
	pol := fastPolicy(t)
	for _, name := range []string{"reader", "admin", "breakglass"} {
		r, _ := pol.Role(name)
		r.MinDuration = time.Second
	}
	reader, _ := pol.Role("reader")
	reader.Stages[0].Tiers[1].Timeout = 2 * time.Second
	st := startStack(t, t.TempDir(), pol)
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	out := filepath.Join("..", "..", "workflows", "testdata", "histories")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	create := func(user, body string) string {
		var req workflows.Request
		if status := api.do("POST", "/api/v1/requests", api.token(user), body, &req); status != http.StatusCreated {
			t.Fatalf("create: %d", status)
		}
		return req.ID
	}
	bodies := map[string]string{"approve": `{"comment":"recorded"}`, "deny": `{"comment":"recorded"}`, "revoke": `{"reason":"recorded"}`, "cancel": `{}`}
	act := func(user, id, action string) {
		if status := api.do("POST", "/api/v1/requests/"+id+"/"+action, api.token(user), bodies[action], nil); status != http.StatusOK {
			t.Fatalf("%s by %s: %d", action, user, status)
		}
	}
	status := func(id string) workflows.Status {
		var req workflows.Request
		api.do("GET", "/api/v1/requests/"+id, api.token("dave"), "", &req)
		return req.Status
	}
	waitStatus := func(id string, want workflows.Status) {
		waitFor(t, 30*time.Second, string(want), func() bool { return status(id) == want })
	}
	reader1s := `{"role":"reader","duration":"1s","justification":"recorded history"}`
	paths := []struct {
		name string
		run  func() string
	}{
		{"expired", func() string {
			id := create("alice", reader1s)
			act("bob", id, "approve")
			waitStatus(id, workflows.StatusExpired)
			return id
		}},
		{"escalated_expired", func() string {
			id := create("alice", reader1s)
			waitFor(t, 10*time.Second, "escalation", func() bool {
				var req workflows.Request
				api.do("GET", "/api/v1/requests/"+id, api.token("alice"), "", &req)
				return req.Tier == 2
			})
			act("carol", id, "approve")
			waitStatus(id, workflows.StatusExpired)
			return id
		}},
		{"revoked", func() string {
			id := create("alice", `{"role":"reader","duration":"1h","justification":"recorded history"}`)
			act("bob", id, "approve")
			waitStatus(id, workflows.StatusActive)
			act("alice", id, "revoke")
			waitStatus(id, workflows.StatusRevoked)
			return id
		}},
		{"denied", func() string {
			id := create("alice", reader1s)
			act("bob", id, "deny")
			waitStatus(id, workflows.StatusDenied)
			return id
		}},
		{"canceled", func() string {
			id := create("alice", reader1s)
			act("alice", id, "cancel")
			waitStatus(id, workflows.StatusCanceled)
			return id
		}},
		{"timed_out", func() string {
			id := create("alice", reader1s)
			waitStatus(id, workflows.StatusTimedOut)
			return id
		}},
		{"two_stages_expired", func() string {
			id := create("alice", `{"role":"admin","duration":"1s","justification":"recorded history","ticket":"CHG-1"}`)
			act("bob", id, "approve")
			act("dave", id, "approve")
			waitStatus(id, workflows.StatusExpired)
			return id
		}},
		{"breakglass_expired", func() string {
			id := create("erin", `{"role":"breakglass","duration":"1s","justification":"recorded history"}`)
			waitStatus(id, workflows.StatusExpired)
			return id
		}},
		{"failed", func() string {
			id := create("alice", reader1s)
			if err := st.Graph.InjectFault(graphemu.Fault{Status: http.StatusBadRequest, Count: 1}); err != nil {
				t.Fatal(err)
			}
			act("bob", id, "approve")
			waitStatus(id, workflows.StatusFailed)
			return id
		}},
		{"throttled_revoked", func() string {
			id := create("alice", `{"role":"reader","duration":"1h","justification":"recorded history"}`)
			zero := 0
			if err := st.Graph.InjectFault(graphemu.Fault{Status: http.StatusTooManyRequests, Count: 5, RetryAfterSeconds: &zero}); err != nil {
				t.Fatal(err)
			}
			act("bob", id, "approve")
			waitStatus(id, workflows.StatusActive)
			act("alice", id, "revoke")
			waitStatus(id, workflows.StatusRevoked)
			return id
		}},
	}
	for _, p := range paths {
		id := p.run()
		saveHistory(t, st, id, filepath.Join(out, p.name+".json"))
	}
}

func saveHistory(t *testing.T, st *Stack, id, path string) {
	t.Helper()
	var h historypb.History
	it := st.Client.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
