package server

import (
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

func TestCreateStrictJSON(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		body      string
		status    int
		field     string
		fragments []string
	}{
		{"empty body", "", 400, "", []string{"empty", `"role"`, `"duration"`}},
		{"blank body", "  \n", 400, "", []string{"empty"}},
		{"unknown field", `{"role":"reader","justification":"x","color":"red"}`, 400, "color", []string{`unknown field "color"`, `"ticket"`}},
		{"field name in another case", `{"Role":"reader","justification":"x"}`, 400, "Role", []string{`unknown field "Role"`, "case-sensitive"}},
		{"wrong type", `{"role":"reader","duration":3600}`, 400, "duration", []string{`"duration"`, "string", "number"}},
		{"wrong type nested", `{"role":["reader"]}`, 400, "role", []string{`"role"`, "array"}},
		{"not an object", `["reader"]`, 400, "", []string{"JSON object"}},
		{"syntax error", `{"role":"reader",}`, 400, "", []string{"not valid JSON"}},
		{"cut short", `{"role":"reader"`, 400, "", []string{"cut short"}},
		{"two objects", `{"role":"reader"}{"role":"admin"}`, 400, "", []string{"more than one"}},
		{"missing role", `{"justification":"x"}`, 400, "role", []string{`"role" is required`, "reader", "admin", "breakglass"}},
		{"bad duration", `{"role":"reader","duration":"forever","justification":"x"}`, 400, "duration", []string{`"duration"`, "forever", "PT1H", "15s"}},
		{"number without unit", `{"role":"reader","duration":"90","justification":"x"}`, 400, "duration", []string{`"duration"`, "90s"}},
		{"negative duration", `{"role":"reader","duration":"-1h","justification":"x"}`, 400, "duration", []string{"negative"}},
		{"zero duration", `{"role":"reader","duration":"0s","justification":"x"}`, 400, "duration", []string{"zero"}},
		{"too big", `{"role":"reader","justification":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "", []string{"limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(http.MethodPost, "/api/v1/requests", "alice", tt.body)
			wantStatus(t, r, tt.status)
			p := r.problem(t)
			if p.Field != tt.field {
				t.Errorf("field = %q, want %q", p.Field, tt.field)
			}
			wantContains(t, "detail", p.Detail, tt.fragments...)
		})
	}
	if n := len(e.temporal.starts); n != 0 {
		t.Errorf("%d workflows started from bad bodies", n)
	}
}

func TestCreatePolicyErrors(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		body   string
		status int
		field  string
	}{
		{"unknown role", "alice", `{"role":"root","justification":"x"}`, 422, "role"},
		{"not eligible: no group", "bob", readerBody, 403, "role"},
		{"not eligible: not oncall", "alice", `{"role":"breakglass","justification":"fire"}`, 403, "role"},
		{"over maximum", "alice", `{"role":"reader","duration":"9h","justification":"x"}`, 422, "duration"},
		{"under minimum", "alice", `{"role":"reader","duration":"PT5S","justification":"x"}`, 422, "duration"},
		{"no justification", "alice", `{"role":"reader","duration":"1h"}`, 422, "justification"},
		{"blank justification", "alice", `{"role":"reader","justification":"   "}`, 422, "justification"},
		{"no ticket", "alice", `{"role":"admin","justification":"rotate keys"}`, 422, "ticket"},
		{"justification too long", "alice", `{"role":"reader","justification":"` + strings.Repeat("x", 1001) + `"}`, 422, "justification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.call(http.MethodPost, "/api/v1/requests", tt.user, tt.body)
			wantStatus(t, r, tt.status)
			if p := r.problem(t); p.Field != tt.field {
				t.Errorf("field = %q, want %q (detail %q)", p.Field, tt.field, p.Detail)
			}
		})
	}
}

var uuidID = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestCreateStartsWorkflow(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody)
	wantStatus(t, r, http.StatusCreated)
	req := r.request(t)
	if !uuidID.MatchString(req.ID) {
		t.Errorf("id %q is not req-<uuid>", req.ID)
	}
	if loc := r.header.Get("Location"); loc != "https://jitflow.example.com/api/v1/requests/"+req.ID {
		t.Errorf("Location = %q", loc)
	}
	if req.Status != api.StatusPending || req.Requester != "alice@example.com" || req.RequesterID != aliceID ||
		req.Role != "reader" || req.DurationSeconds != 3600 || req.Justification != "investigate incident 42" {
		t.Errorf("request = %+v", req)
	}

	opts := e.temporal.starts[0]
	if opts.ID != req.ID || opts.TaskQueue != workflows.TaskQueue ||
		opts.WorkflowIDReusePolicy != enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE ||
		opts.WorkflowExecutionTimeout != 0 || !opts.WorkflowExecutionErrorWhenAlreadyStarted {
		t.Errorf("start options = %+v", opts)
	}
	sa := opts.TypedSearchAttributes
	status, _ := sa.GetKeyword(workflows.SearchStatus)
	role, _ := sa.GetKeyword(workflows.SearchRole)
	requester, _ := sa.GetKeyword(workflows.SearchRequesterID)
	approvers, _ := sa.GetKeywordList(workflows.SearchApproverIDs)
	if status != string(api.StatusPending) || role != "reader" || requester != aliceID || !slices.Equal(approvers, []string{bobID, carolID}) {
		t.Errorf("search attributes: status %q role %q requester %q approvers %v", status, role, requester, approvers)
	}

	in := e.temporal.wfs[req.ID].input
	// The workflow runs only a plan the server signed, for the caller it
	// authenticated.
	unproven(t, req.ID, in)
	if in.Proof == nil || in.Proof.Channel != "api" || !strings.Contains(in.Proof.Via, "alice@example.com") {
		t.Errorf("start proof = %+v, want one by the API for alice's token", in.Proof)
	}
	if in.Requester != (workflows.Person{ID: aliceID, UPN: "alice@example.com", Email: "alice@example.com"}) {
		t.Errorf("requester = %+v", in.Requester)
	}
	if in.Target != (workflows.Target{Role: "reader", RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"}) {
		t.Errorf("target = %+v", in.Target)
	}
	if len(in.Stages) != 1 || len(in.Stages[0].Tiers) != 2 || in.Stages[0].Tiers[0].Approvers[0].ID != bobID ||
		in.Stages[0].Tiers[0].Timeout != 20*time.Second || in.Stages[0].Tiers[1].Approvers[0].UPN != "carol@example.com" {
		t.Errorf("stages = %+v", in.Stages)
	}
	if in.BaseURL != "https://jitflow.example.com" || in.CreatedAt.IsZero() || in.CreatedAt.Location() != time.UTC || in.BreakGlass {
		t.Errorf("input = %+v", in)
	}
}

func TestCreateDurationForms(t *testing.T) {
	tests := []struct {
		duration string
		want     time.Duration
	}{
		{"15s", 15 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"PT1H", time.Hour},
		{"PT15M", 15 * time.Minute},
		{"PT0.5S", 0},   // not whole seconds: refused below
		{"", time.Hour}, // the role's default
	}
	for _, tt := range tests {
		t.Run(tt.duration, func(t *testing.T) {
			e := newEnv(t)
			body := `{"role":"reader","duration":"` + tt.duration + `","justification":"x"}`
			r := e.call(http.MethodPost, "/api/v1/requests", "alice", body)
			if tt.want == 0 {
				wantStatus(t, r, http.StatusBadRequest)
				return
			}
			wantStatus(t, r, http.StatusCreated)
			if got := e.temporal.wfs[r.request(t).ID].input.Duration; got != tt.want {
				t.Errorf("duration = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreateBreakGlass(t *testing.T) {
	e := newEnv(t)
	id := e.create("erin", `{"role":"breakglass","duration":"PT30M","justification":"prod down"}`)
	opts := e.temporal.starts[0]
	status, _ := opts.TypedSearchAttributes.GetKeyword(workflows.SearchStatus)
	if ids, _ := opts.TypedSearchAttributes.GetKeywordList(workflows.SearchApproverIDs); len(ids) != 0 || status != string(api.StatusActivating) {
		t.Errorf("break-glass search attributes: status %q, approvers %v", status, ids)
	}
	in := e.temporal.wfs[id].input
	if !in.BreakGlass || len(in.Stages) != 0 || len(in.Notify) != 1 || in.Notify[0].ID != daveID {
		t.Errorf("input = %+v", in)
	}
}

// A second request for a role the requester already asked for is allowed:
// the grants overlap and the role stays until the later one ends.
func TestSecondRequestForSameRoleIsAllowed(t *testing.T) {
	e := newEnv(t)
	first := e.create("alice", readerBody)
	second := e.create("alice", readerBody)
	if first == second {
		t.Fatalf("both submissions answered request %s", first)
	}
}

func TestCreateIdempotency(t *testing.T) {
	e := newEnv(t)
	key := "Idempotency-Key: 6f1c2a7e-deploy-42"
	r1 := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody, key)
	wantStatus(t, r1, http.StatusCreated)
	id := r1.request(t).ID
	if !regexp.MustCompile(`^req-[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("id %q is not req-<32 hex>", id)
	}

	// The repeat finds its request before the conflict check could refuse it.
	r2 := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody, key)
	wantStatus(t, r2, http.StatusOK)
	if got := r2.request(t).ID; got != id {
		t.Errorf("repeat answered %q, want %q", got, id)
	}
	if loc := r2.header.Get("Location"); !strings.HasSuffix(loc, "/"+id) {
		t.Errorf("Location = %q", loc)
	}
	// Same key, the duration spelled differently: still the same request.
	same := `{"role":"reader","duration":"PT1H","justification":"investigate incident 42"}`
	wantStatus(t, e.call(http.MethodPost, "/api/v1/requests", "alice", same, key), http.StatusOK)

	// Same key, another request.
	other := `{"role":"reader","duration":"2h","justification":"investigate incident 42"}`
	r3 := e.call(http.MethodPost, "/api/v1/requests", "alice", other, key)
	wantStatus(t, r3, http.StatusUnprocessableEntity)
	wantContains(t, "detail", r3.problem(t).Detail, "Idempotency-Key reused with a different request")

	// The key is the caller's own: erin's identical key is another request.
	r4 := e.call(http.MethodPost, "/api/v1/requests", "erin", readerBody, key)
	wantStatus(t, r4, http.StatusCreated)
	if r4.request(t).ID == id {
		t.Error("two callers' keys mapped to one request")
	}
	if n := len(e.temporal.starts); n != 2 {
		t.Errorf("%d workflows started, want 2", n)
	}
}

func TestCreateIdempotencyRace(t *testing.T) {
	e := newEnv(t)
	key := "Idempotency-Key: k1"
	id := e.create("alice", readerBody, key)
	// Another server started it just before this one looked: describe
	// misses it, visibility lists it, the start is refused as a duplicate.
	e.temporal.missDescribes = 1
	r := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody, key)
	wantStatus(t, r, http.StatusOK)
	if got := r.request(t).ID; got != id {
		t.Errorf("answered %q, want %q", got, id)
	}
}

func TestCreateIdempotencyKeyValidation(t *testing.T) {
	e := newEnv(t)
	tests := map[string][]string{
		"too long":      {"Idempotency-Key: " + strings.Repeat("k", 201)},
		"control chars": {"Idempotency-Key: a\tb"},
		"non-ASCII":     {"Idempotency-Key: clé"},
		"two headers":   {"Idempotency-Key: a", "Idempotency-Key: b"},
	}
	for name, headers := range tests {
		t.Run(name, func(t *testing.T) {
			r := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody, headers...)
			wantStatus(t, r, http.StatusBadRequest)
			wantContains(t, "detail", r.problem(t).Detail, "Idempotency-Key")
		})
	}
}

func TestCreateTemporalDown(t *testing.T) {
	e := newEnv(t)
	e.temporal.startErr = serviceerror.NewUnavailable("connection refused")
	r := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody)
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "detail", r.problem(t).Detail, "unavailable")
}

func TestCreateLogsNoSecrets(t *testing.T) {
	e := newEnv(t)
	tok := e.token("alice")
	r := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody, "X-Request-Id: trace-123")
	wantStatus(t, r, http.StatusCreated)
	if got := r.header.Get("X-Request-Id"); got != "trace-123" {
		t.Errorf("X-Request-Id = %q, want it echoed", got)
	}
	logs := e.logs.String()
	wantContains(t, "log", logs, `"request_id":"trace-123"`, `"status":201`, `"method":"POST"`, `"path":"/api/v1/requests"`)
	signature := tok[strings.LastIndex(tok, ".")+1:]
	for _, secret := range []string{"investigate incident 42", signature, "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
}

// waitFor polls cond, yielding, for at most five seconds.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		runtime.Gosched()
	}
	return false
}
