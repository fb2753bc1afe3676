package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// fastPolicy is the dev policy with an escalation and grant short enough
// for a test that runs on real time.
func fastPolicy(t testing.TB) *policies.Policy {
	t.Helper()
	pol, err := policies.Parse("dev.yaml", policies.DevYAML)
	if err != nil {
		t.Fatal(err)
	}
	role, ok := pol.Role("reader")
	if !ok {
		t.Fatal("dev policy has no reader role")
	}
	role.MinDuration = time.Second
	role.Stages[0].Tiers[0].Timeout = 2 * time.Second
	return pol
}

func startStack(t testing.TB, dir string, pol *policies.Policy) *Stack {
	t.Helper()
	return startStackWith(t, dir, pol)
}

// startStackWith starts the stack with options adjusted by opts.
func startStackWith(t testing.TB, dir string, pol *policies.Policy, opts ...func(*Options)) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := Options{
		DataDir:   dir,
		HTTPAddr:  "127.0.0.1:0",
		GraphAddr: "127.0.0.1:0",
		NoUI:      true,
		Policy:    pol,
		Namespace: "default",
		Retention: 365 * 24 * time.Hour,
	}
	for _, f := range opts {
		f(&o)
	}
	st, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "healthz 200", func() bool {
		resp, err := http.Get(st.APIURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return st
}

// TestRequestLifecycleEndToEnd runs the real embedded Temporal server,
// worker, API and Graph emulator: request, restart, escalation, approval,
// activation in the emulator, expiry and removal, and the audit trail.
func TestRequestLifecycleEndToEnd(t *testing.T) {
	dir := t.TempDir()
	pol := fastPolicy(t)
	alice, _ := pol.UserByName("alice")
	st := startStack(t, dir, pol)
	api := apiClient{t: t, base: st.APIURL}

	var req workflows.Request
	status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"4s","justification":"e2e check of the reader role"}`, &req)
	if status != http.StatusCreated || req.Status != apitypes.StatusPending {
		t.Fatalf("create: %d %+v", status, req)
	}

	// A restart on the same data dir resumes the request where it was.
	st.Stop()
	st = startStack(t, dir, pol)
	defer st.Stop()
	api.base = st.APIURL

	waitFor(t, 20*time.Second, "escalation to carol", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Tier == 2
	})
	waitFor(t, 10*time.Second, "escalation email to carol", func() bool {
		return slices.ContainsFunc(st.Outbox.Emails(), func(e outbox.Email) bool {
			return slices.Contains(e.To, "carol@example.com")
		})
	})

	var decided workflows.Request
	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("alice"), `{"comment":"me"}`, nil); status != http.StatusForbidden {
		t.Fatalf("self-approval: status %d, want 403", status)
	}
	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("carol"), `{"comment":"ok for the audit"}`, &decided); status != http.StatusOK {
		t.Fatalf("approve: status %d", status)
	}
	waitFor(t, 20*time.Second, "active", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusActive
	})
	if !holds(st, alice.ID, "f2ef992c-3afb-46b9-b7cf-a126ee74c451") {
		t.Fatalf("emulator holds no Global Reader assignment for alice: %+v", st.Graph.Instances())
	}
	if req.ActivatedAt == nil || req.ExpiresAt == nil || req.ExpiresAt.Sub(*req.ActivatedAt) != 4*time.Second {
		t.Fatalf("grant window %v..%v, want 4s from activation", req.ActivatedAt, req.ExpiresAt)
	}

	waitFor(t, 30*time.Second, "expired", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusExpired
	})
	if holds(st, alice.ID, "f2ef992c-3afb-46b9-b7cf-a126ee74c451") {
		t.Fatal("the role is still assigned after expiry")
	}

	var audit struct {
		Events []workflows.AuditEvent `json:"events"`
	}
	api.do("GET", "/api/v1/requests/"+req.ID+"/audit", api.token("alice"), "", &audit)
	var types []string
	for _, ev := range audit.Events {
		types = append(types, ev.Type)
	}
	for _, want := range []string{"requested", "notified", "escalated", "approved", "activated", "deactivated", "expired"} {
		if !slices.Contains(types, want) {
			t.Errorf("audit lacks %q: %v", want, types)
		}
	}
	for _, ev := range audit.Events {
		if ev.Type == "approved" && ev.Actor != "carol@example.com" {
			t.Errorf("approved by %q, want carol@example.com", ev.Actor)
		}
	}

	var listed struct {
		Requests []workflows.Request `json:"requests"`
	}
	api.do("GET", "/api/v1/requests?status=expired&role=reader", api.token("carol"), "", &listed)
	if len(listed.Requests) != 1 || listed.Requests[0].ID != req.ID || listed.Requests[0].ExpiresAt == nil ||
		len(listed.Requests[0].Decisions) != 1 {
		t.Errorf("carol's list of expired reader requests = %+v", listed.Requests)
	}
}

func holds(st *Stack, principal, role string) bool {
	for _, in := range st.Graph.Instances() {
		if in.PrincipalID == principal && in.RoleDefinitionID == role {
			return true
		}
	}
	return false
}

type apiClient struct {
	t    testing.TB
	base string
}

func (c apiClient) token(user string) string {
	c.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if status := c.do("GET", "/dev/token?user="+user, "", "", &out); status != http.StatusOK {
		c.t.Fatalf("dev token for %s: status %d", user, status)
	}
	return out.Token
}

// do sends one request and decodes a 2xx JSON answer into out.
func (c apiClient) do(method, path, token, body string, out any) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	} else if resp.StatusCode/100 != 2 {
		c.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

func waitFor(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStartingAnswers503(t *testing.T) {
	rec := httptest.NewRecorder()
	starting(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("starting: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["instance"] != "/healthz" {
		t.Fatalf("starting body %s: %v", rec.Body, err)
	}
}

// TestCancelledWorkflowRemovesRole cancels an active request's workflow in
// Temporal itself, as an operator might from the CLI or Web UI: the role
// must still be removed.
func TestCancelledWorkflowRemovesRole(t *testing.T) {
	pol := fastPolicy(t)
	alice, _ := pol.UserByName("alice")
	st := startStack(t, t.TempDir(), pol)
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	var req workflows.Request
	api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"1h","justification":"cancel check"}`, &req)
	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("bob"), `{}`, nil); status != http.StatusOK {
		t.Fatalf("approve: status %d", status)
	}
	waitFor(t, 20*time.Second, "active", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusActive
	})
	if err := st.Client.CancelWorkflow(context.Background(), req.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "revoked", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusRevoked
	})
	if holds(st, alice.ID, "f2ef992c-3afb-46b9-b7cf-a126ee74c451") {
		t.Fatal("the role is still assigned after the workflow was cancelled")
	}
}

// TestForgedUpdatesThroughTemporalAreRefused acts as someone who reaches
// Temporal's frontend but not a jitflow server's keys: every decide,
// cancel, revoke and extend sent straight through a Temporal client with a
// forged actor is refused, and a request started straight through Temporal
// with a forged plan fails at once. Nothing activates, and the decisions
// and audit trail show nothing of them. The API's own approval then goes
// through, on the record with its channel and identity; cancelling the
// workflow in Temporal still ends it.
func TestForgedUpdatesThroughTemporalAreRefused(t *testing.T) {
	pol := fastPolicy(t)
	alice, _ := pol.UserByName("alice")
	bob, _ := pol.UserByName("bob")
	dave, _ := pol.UserByName("dave")
	st := startStack(t, t.TempDir(), pol)
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	var req workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"1h","justification":"forgery check"}`, &req); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	outsider, err := client.Dial(client.Options{HostPort: st.TemporalAddr, Namespace: st.Namespace, Identity: "outsider"})
	if err != nil {
		t.Fatal(err)
	}
	defer outsider.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	person := func(u policies.User) workflows.Person { return workflows.Person{ID: u.ID, UPN: u.UPN, Email: u.Email} }
	forged := []struct {
		name string
		arg  any
	}{
		{workflows.UpdateDecide, workflows.DecideInput{ApproverID: bob.ID, Decision: apitypes.DecisionApprove, Comment: "forged"}},
		{workflows.UpdateCancel, workflows.CancelInput{ActorID: alice.ID}},
		{workflows.UpdateRevoke, workflows.RevokeInput{Actor: person(dave), Operator: true, Reason: "forged"}},
		{workflows.UpdateExtend, workflows.ExtendInput{Actor: person(alice), Duration: time.Hour, Justification: "forged"}},
	}
	for _, f := range forged {
		h, err := outsider.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: req.ID, UpdateName: f.name, Args: []any{f.arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != workflows.ErrForbidden {
			t.Errorf("forged %s: %v, want a %s refusal", f.name, err, workflows.ErrForbidden)
		}
	}

	// A request started straight through Temporal: break-glass, no stages.
	bg, _ := pol.Role("breakglass")
	forgedStart := workflows.AccessRequestInput{
		RequestID: "req-forged-start", Requester: person(alice), Duration: time.Hour, Justification: "forged",
		Target:     workflows.Target{Role: "breakglass", RoleDefinitionID: bg.RoleDefinitionID, DirectoryScopeID: "/"},
		BreakGlass: true, Notify: []workflows.Person{person(dave)}, CreatedAt: time.Now(),
	}
	run, err := outsider.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: forgedStart.RequestID, TaskQueue: workflows.TaskQueue},
		workflows.WorkflowName, forgedStart)
	if err != nil {
		t.Fatal(err)
	}
	var ended workflows.Request
	if err := run.Get(ctx, &ended); err != nil || ended.Status != apitypes.StatusFailed || ended.Reason != workflows.NotIssued {
		t.Errorf("forged start ended %+v, %v; want failed, %q", ended, err, workflows.NotIssued)
	}
	if holds(st, alice.ID, bg.RoleDefinitionID) || holds(st, alice.ID, "f2ef992c-3afb-46b9-b7cf-a126ee74c451") {
		t.Fatalf("a forged update or start assigned a role: %+v", st.Graph.Instances())
	}
	for _, e := range st.Outbox.Emails() {
		if strings.Contains(e.Subject, "forged") || strings.Contains(e.Text, "req-forged-start") {
			t.Errorf("the forged start sent an email: %+v", e)
		}
	}

	api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
	if req.Status != apitypes.StatusPending || len(req.Decisions) != 0 {
		t.Fatalf("after the forged updates the request is %s with decisions %+v", req.Status, req.Decisions)
	}
	var trail struct {
		Events []audit.Event `json:"events"`
	}
	api.do("GET", "/api/v1/requests/"+req.ID+"/audit", api.token("alice"), "", &trail)
	for _, ev := range trail.Events {
		if ev.Type != apitypes.EventRequested && ev.Type != apitypes.EventNotified {
			t.Errorf("the forged updates left an audit event: %+v", ev)
		}
	}

	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("bob"), `{"comment":"real"}`, nil); status != http.StatusOK {
		t.Fatalf("approve through the API: status %d", status)
	}
	waitFor(t, 20*time.Second, "active", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusActive
	})
	if err := outsider.CancelWorkflow(ctx, req.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "revoked", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusRevoked
	})
	api.do("GET", "/api/v1/requests/"+req.ID+"/audit", api.token("alice"), "", &trail)
	var seen []string
	for _, ev := range trail.Events {
		switch ev.Type {
		case apitypes.EventRequested, apitypes.EventApproved:
			if ev.Channel != "api" || ev.KeyID == "" || !strings.Contains(ev.Via, ev.Actor) {
				t.Errorf("%s event on the record as %+v; want channel api, the token of %s and a key id", ev.Type, ev, ev.Actor)
			}
		case apitypes.EventCancelRequested, apitypes.EventRevoked:
			if ev.Channel != workflows.ChannelTemporalCancel {
				t.Errorf("%s event on the record as %+v; want channel %s", ev.Type, ev, workflows.ChannelTemporalCancel)
			}
		default:
			continue
		}
		seen = append(seen, ev.Type)
	}
	if want := []string{"requested", "approved", "cancel_requested", "revoked"}; !slices.Equal(seen, want) {
		t.Errorf("audit events %v, want %v", seen, want)
	}
}
