package devstack

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/workflows"
)

// TestRecordHistories writes the history of one request per path to
// workflows/testdata/histories, where the replay tests check that the
// current workflow code still replays them. Run it after a workflow change
// that is safe for running requests (see docs/workflow-changes.md):
//
//	JITFLOW_RECORD_HISTORIES=1 go test -run TestRecordHistories ./internal/devstack/
//
// Any value other than 1 records only the paths whose file name starts
// with it (JITFLOW_RECORD_HISTORIES=i3- records the grant paths).
func TestRecordHistories(t *testing.T) {
	only := os.Getenv("JITFLOW_RECORD_HISTORIES")
	if only == "" {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 to record new histories")
	}
	if only == "1" {
		only = ""
	}
	pol := fastPolicy(t)
	for _, name := range []string{"reader", "admin", "breakglass"} {
		r, _ := pol.Role(name)
		r.MinDuration = time.Second
	}
	reader, _ := pol.Role("reader")
	reader.Stages[0].Tiers[1].Timeout = 2 * time.Second
	reader.ExtendWithoutApprovalUpTo = 0 // the recorded extension is approved
	// Entra's minimum active time, shorter than Entra's five minutes,
	// so that a revoke right after activation waits for it.
	st := startStackWith(t, t.TempDir(), pol, func(o *Options) {
		o.ConfigureGraph = func(g *graphemu.Options) { g.MinActiveTime = 2 * time.Second }
	})
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
	bodies := map[string]string{"approve": `{"comment":"recorded"}`, "deny": `{"comment":"recorded"}`, "revoke": `{"reason":"recorded"}`, "cancel": `{}`,
		"extend": `{"duration":"2s","justification":"recorded history"}`}
	// An approval or cancel that reaches the workflow with its start is
	// recorded before "requested" (the API answers pending from the start
	// input at once): act only once the trail shows the request.
	requested := func(id string) {
		waitFor(t, 30*time.Second, id+" requested", func() bool {
			var trail struct {
				Events []struct{} `json:"events"`
			}
			api.do("GET", "/api/v1/requests/"+id+"/audit", api.token("dave"), "", &trail)
			return len(trail.Events) > 0
		})
	}
	act := func(user, id, action string) {
		requested(id)
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
			waitStatus(id, apitypes.StatusExpired)
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
			waitStatus(id, apitypes.StatusExpired)
			return id
		}},
		{"revoked", func() string {
			id := create("alice", `{"role":"reader","duration":"1h","justification":"recorded history"}`)
			act("bob", id, "approve")
			waitStatus(id, apitypes.StatusActive)
			act("alice", id, "revoke")
			waitStatus(id, apitypes.StatusRevoked)
			return id
		}},
		{"denied", func() string {
			id := create("alice", reader1s)
			act("bob", id, "deny")
			waitStatus(id, apitypes.StatusDenied)
			return id
		}},
		{"canceled", func() string {
			id := create("alice", reader1s)
			act("alice", id, "cancel")
			waitStatus(id, apitypes.StatusCanceled)
			return id
		}},
		{"timed_out", func() string {
			id := create("alice", reader1s)
			waitStatus(id, apitypes.StatusTimedOut)
			return id
		}},
		{"two_stages_expired", func() string {
			id := create("alice", `{"role":"admin","duration":"1s","justification":"recorded history","ticket":"CHG-1"}`)
			act("bob", id, "approve")
			act("dave", id, "approve")
			waitStatus(id, apitypes.StatusExpired)
			return id
		}},
		{"breakglass_expired", func() string {
			id := create("erin", `{"role":"breakglass","duration":"1s","justification":"recorded history"}`)
			waitStatus(id, apitypes.StatusExpired)
			return id
		}},
		{"failed", func() string {
			id := create("alice", reader1s)
			if err := st.Graph.InjectFault(graphemu.Fault{Status: http.StatusBadRequest, Count: 1}); err != nil {
				t.Fatal(err)
			}
			act("bob", id, "approve")
			waitStatus(id, apitypes.StatusFailed)
			return id
		}},
		{"throttled_revoked", func() string {
			id := create("alice", `{"role":"reader","duration":"1h","justification":"recorded history"}`)
			zero := 0
			if err := st.Graph.InjectFault(graphemu.Fault{Status: http.StatusTooManyRequests, Count: 5, RetryAfterSeconds: &zero}); err != nil {
				t.Fatal(err)
			}
			act("bob", id, "approve")
			waitStatus(id, apitypes.StatusActive)
			act("alice", id, "revoke")
			waitStatus(id, apitypes.StatusRevoked)
			return id
		}},
	}
	alice, _ := pol.UserByName("alice")
	aliceReader := assignments.WorkflowID(graph.Assignment{PrincipalID: alice.ID, RoleDefinitionID: reader.RoleDefinitionID, DirectoryScopeID: "/"})
	active := func(duration string) string {
		id := create("alice", `{"role":"reader","duration":"`+duration+`","justification":"recorded history"}`)
		act("bob", id, "approve")
		waitStatus(id, apitypes.StatusActive)
		return id
	}
	revokedAfterActive := func() string {
		id := active("1h")
		act("alice", id, "revoke")
		waitStatus(id, apitypes.StatusRevoked)
		return id
	}
	// Throttled long enough that the hold outlasts HoldFastWait.
	throttledHoldExpired := func() string {
		one := 1
		if err := st.Graph.InjectFault(graphemu.Fault{Status: http.StatusTooManyRequests, Count: 8, RetryAfterSeconds: &one, Action: "adminAssign"}); err != nil {
			t.Fatal(err)
		}
		id := active("2s")
		waitStatus(id, apitypes.StatusExpired)
		return id
	}
	paths = append(paths, []struct {
		name string
		run  func() string
	}{
		{"i3-overlap_earlier_revoked", func() string {
			first, second := active("1h"), active("3s")
			act("alice", first, "revoke")
			waitStatus(first, apitypes.StatusRevoked)
			waitStatus(second, apitypes.StatusExpired)
			return first
		}},
		{"i3-assignment_overlap", func() string { return aliceReader }},
		{"i3-overlap_later_expired", func() string {
			first, second := active("2s"), active("4s")
			waitStatus(first, apitypes.StatusExpired)
			waitStatus(second, apitypes.StatusExpired)
			return second
		}},
		{"i3-extended_expired", func() string {
			id := active("2s")
			act("alice", id, "extend")
			act("bob", id, "approve")
			waitStatus(id, apitypes.StatusExpired)
			return id
		}},
		{"xl-extension_links_revoked", func() string {
			// Bob denies extension 1 and approves extension 2, each through
			// the personal link of its own email.
			id := active("1h")
			decideByLink := func(n int, decision string) {
				var mail outbox.Email
				subject := fmt.Sprintf("alice@example.com asks to extend reader (extension %d)", n)
				// An earlier request's extension email has the same subject.
				waitFor(t, 20*time.Second, subject, func() bool {
					for _, e := range st.Outbox.Emails() {
						if slices.Contains(e.To, "bob@example.com") && strings.HasPrefix(e.Subject, subject) && strings.Contains(e.Text, id) {
							mail = e
							return true
						}
					}
					return false
				})
				if code, page := plain(t, http.MethodPost, approvalLink(t, st, mail.Text), url.Values{"decision": {decision}}); code != http.StatusOK {
					t.Fatalf("%s extension %d by link: %d\n%s", decision, n, code, page)
				}
			}
			act("alice", id, "extend")
			decideByLink(1, "deny")
			waitFor(t, 10*time.Second, "extension 1 refused", func() bool {
				var req workflows.Request
				api.do("GET", "/api/v1/requests/"+id, api.token("dave"), "", &req)
				return req.Extension == nil
			})
			act("alice", id, "extend")
			decideByLink(2, "approve")
			waitFor(t, 10*time.Second, "extension 2 applied", func() bool {
				var req workflows.Request
				api.do("GET", "/api/v1/requests/"+id, api.token("dave"), "", &req)
				return req.Extensions == 1
			})
			act("alice", id, "revoke")
			waitStatus(id, apitypes.StatusRevoked)
			return id
		}},
		{"i3-removal_waits_revoked", revokedAfterActive},
		{"i3-throttled_slow_hold_expired", throttledHoldExpired},
		// The approval's answer waits for a quick activation: recorded
		// once quick, once with the hold moved to an activity.
		{"i7-approval_answers_active_revoked", revokedAfterActive},
		{"i7-approval_answers_activating_expired", throttledHoldExpired},
		// Grants end by the assignment workflow's notice: the earlier of
		// two hears the role stays, the later that it was removed.
		{"i7-grant_end_notice_overlap", func() string {
			first, second := active("2s"), active("4s")
			waitStatus(first, apitypes.StatusExpired)
			waitStatus(second, apitypes.StatusExpired)
			return first
		}},
		{"i7-grant_end_notice_removed", func() string {
			id := active("2s")
			waitStatus(id, apitypes.StatusExpired)
			return id
		}},
		{"i7-assignment_ends_grants", func() string { return aliceReader }},
		// The requester's own activation ends mid-grant: jitflow assigns
		// the role again for the rest of it (before the standing
		// assignment below, which would carry every later grant).
		{"i8-reassigned_expired", func() string {
			end := time.Now().Add(5 * time.Second)
			if _, err := st.Graph.SeedAssignment(graphemu.Target{PrincipalID: alice.ID, RoleDefinitionID: reader.RoleDefinitionID, DirectoryScopeID: "/",
				EndDateTime: &end, AssignmentType: graphemu.AssignmentTypeActivated}); err != nil {
				t.Fatal(err)
			}
			id := active("10s")
			waitStatus(id, apitypes.StatusExpired)
			return id
		}},
		{"i8-assignment_reassigned", func() string { return aliceReader }},
		{"i3-already_held_revoked", func() string {
			if _, err := st.Graph.SeedAssignment(graphemu.Target{PrincipalID: alice.ID, RoleDefinitionID: reader.RoleDefinitionID, DirectoryScopeID: "/"}); err != nil {
				t.Fatal(err)
			}
			id := active("1h")
			act("alice", id, "revoke")
			waitStatus(id, apitypes.StatusRevoked)
			return id
		}},
		// Proofs (start-proof): a request whose start, decision, extension
		// and revoke the API proved; and one started straight through
		// Temporal, which fails at once.
		{"i8-proven_extended_revoked", func() string {
			id := active("1h")
			act("alice", id, "extend")
			act("bob", id, "approve")
			act("dave", id, "revoke")
			waitStatus(id, apitypes.StatusRevoked)
			return id
		}},
		{"i8-forged_start_failed", func() string {
			in := workflows.AccessRequestInput{
				RequestID: "req-forged-start", Requester: workflows.Person{ID: alice.ID, UPN: alice.UPN, Email: alice.Email},
				Target:   workflows.Target{Role: "breakglass", RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", DirectoryScopeID: "/"},
				Duration: time.Hour, Justification: "recorded history", CreatedAt: time.Now(), BreakGlass: true,
			}
			run, err := st.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: in.RequestID, TaskQueue: workflows.TaskQueue}, workflows.WorkflowName, in)
			if err != nil {
				t.Fatal(err)
			}
			var req workflows.Request
			if err := run.Get(context.Background(), &req); err != nil || req.Status != apitypes.StatusFailed {
				t.Fatalf("forged start: %+v, %v", req, err)
			}
			return in.RequestID
		}},
	}...)
	for _, p := range paths {
		if !strings.HasPrefix(p.name, only) {
			continue
		}
		id := p.run()
		if strings.HasPrefix(id, "assignment/") {
			// It lingers for the next request: record it once idle.
			waitFor(t, 30*time.Second, "assignment workflow "+id+" idle", func() bool {
				v, err := st.Client.QueryWorkflow(context.Background(), id, "", assignments.QueryAssignment)
				var view assignments.View
				return err == nil && v.Get(&view) == nil && len(view.Grants) == 0 && !view.Assigned
			})
		}
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
