package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/policies"
)

// extraRoles adds to the dev policy a role that needs MFA (and approves
// on-call engineers' short requests at once), one that needs the
// authentication context c1, and one with a ticket format.
const extraRoles = `
  - name: secreader
    role_definition_id: 5d6b6bb7-de71-4623-b4af-96380a352509
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 4h}
    require_justification: true
    justification_max: 40
    require_mfa: true
    auto_approve:
      - name: oncall-short
        expr: "'oncall' in caller.groups && request.duration < duration('30m')"
    approval:
      stages:
        - tiers: [{approvers: {users: [bob]}, timeout: 20s}]
  - name: ctxreader
    role_definition_id: 5d6b6bb7-de71-4623-b4af-96380a352509
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 4h}
    auth_context: c1
    approval:
      stages:
        - tiers: [{approvers: {users: [bob]}, timeout: 20s}]
  - name: changer
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 4h}
    require_ticket: true
    ticket_pattern: "CHG-[0-9]{1,6}"
    approval:
      stages:
        - tiers: [{approvers: {users: [bob]}, timeout: 20s}]
`

func extraPolicy(t *testing.T) *policies.Policy {
	t.Helper()
	p, err := policies.Parse("extra.yaml", append(append([]byte{}, policies.DevYAML...), extraRoles...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var claimsParam = regexp.MustCompile(`claims="([^"]*)"`)

// challenge decodes the claims request of a step-up answer.
func challenge(t *testing.T, r response) map[string]any {
	t.Helper()
	h := r.header.Get("WWW-Authenticate")
	wantContains(t, "WWW-Authenticate", h, `Bearer realm=""`, `error="insufficient_claims"`)
	m := claimsParam.FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("WWW-Authenticate %q has no claims", h)
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatalf("claims %q: %v", m[1], err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("claims %s: %v", raw, err)
	}
	return out
}

func TestStepUpForRequesting(t *testing.T) {
	e := newEnvWith(t, extraPolicy(t), nil)
	sec := `{"role":"secreader","duration":"1h","justification":"audit"}`
	ctx := `{"role":"ctxreader","duration":"1h"}`
	tests := []struct {
		name   string
		opts   devauth.TokenOptions
		body   string
		claims string // the claims request JSON; "" means accepted
		detail string
	}{
		{"mfa role without mfa", devauth.TokenOptions{}, sec,
			`{"access_token":{"amr":{"essential":true,"values":["mfa"]}}}`, `requesting role "secreader" needs multi-factor authentication (the token's amr claim lists pwd)`},
		{"mfa role with mfa", devauth.TokenOptions{MFA: true}, sec, "", ""},
		{"context role without it", devauth.TokenOptions{MFA: true, ACRS: []string{"c2"}}, ctx,
			`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`, `needs authentication context c1 (the token's acrs claim lists c2)`},
		{"context role with it", devauth.TokenOptions{ACRS: []string{"c1"}}, ctx, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", tt.opts), tt.body)
			if tt.claims == "" {
				wantStatus(t, r, http.StatusCreated)
				id := r.request(t).ID
				e.call(http.MethodPost, "/api/v1/requests/"+id+"/cancel", "alice", "")
				return
			}
			wantStatus(t, r, http.StatusUnauthorized)
			wantContains(t, "detail", r.problem(t).Detail, tt.detail)
			got, _ := json.Marshal(challenge(t, r))
			if string(got) != tt.claims {
				t.Errorf("claims = %s, want %s", got, tt.claims)
			}
		})
	}
	if n := len(e.temporal.starts); n != 2 {
		t.Errorf("%d workflows started, want 2 (only the stepped-up calls)", n)
	}
}

func TestStepUpForApproving(t *testing.T) {
	e := newEnvWith(t, extraPolicy(t), nil)
	r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", devauth.TokenOptions{MFA: true}),
		`{"role":"secreader","duration":"1h","justification":"audit"}`)
	wantStatus(t, r, http.StatusCreated)
	id := r.request(t).ID
	r = e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, "detail", r.problem(t).Detail, `deciding on role "secreader" needs multi-factor authentication`)
	challenge(t, r)
	if len(e.temporal.updates) != 0 {
		t.Fatalf("an approval without MFA reached the workflow")
	}
	r = e.callToken(http.MethodPost, "/api/v1/requests/"+id+"/approve", e.tokenWith("bob", devauth.TokenOptions{MFA: true}), "")
	wantStatus(t, r, http.StatusOK)
}

func TestCreateAutoApproved(t *testing.T) {
	e := newEnvWith(t, extraPolicy(t), nil)
	mfa := devauth.TokenOptions{MFA: true}
	r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("erin", mfa), `{"role":"secreader","duration":"15m","justification":"page"}`)
	wantStatus(t, r, http.StatusCreated)
	req := r.request(t)
	if req.AutoApprovedBy != "oncall-short" || req.Status != "activating" {
		t.Errorf("request = %+v, want auto-approved by oncall-short", req)
	}
	in := e.temporal.starts[0]
	got := e.temporal.wfs[in.ID].input.AutoApproval
	if got == nil || got.Rule != "oncall-short" || got.Expression == "" {
		t.Errorf("workflow input auto_approval = %+v", got)
	}
	// Longer, or by someone not on call: people decide.
	for _, c := range []struct{ user, body string }{
		{"erin", `{"role":"secreader","duration":"1h","justification":"page"}`},
		{"alice", `{"role":"secreader","duration":"15m","justification":"page"}`},
	} {
		r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith(c.user, mfa), c.body)
		if r.status == http.StatusConflict {
			continue
		}
		wantStatus(t, r, http.StatusCreated)
		if req := r.request(t); req.AutoApprovedBy != "" || req.Status != "pending_approval" {
			t.Errorf("%s %s: request = %+v, want pending", c.user, c.body, req)
		}
	}
}

func TestCreateRoleTextLimits(t *testing.T) {
	e := newEnvWith(t, extraPolicy(t), nil)
	mfa := devauth.TokenOptions{MFA: true}
	tests := []struct {
		body, field, detail string
	}{
		{`{"role":"changer","ticket":"JIRA-1"}`, "ticket", `"JIRA-1" is not a ticket role "changer" accepts; give one matching the pattern CHG-[0-9]{1,6}`},
		{`{"role":"changer"}`, "ticket", "matching the pattern CHG-[0-9]{1,6}"},
		{`{"role":"secreader","justification":"01234567890123456789012345678901234567890"}`, "justification", "at most 40"},
	}
	for _, tt := range tests {
		r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", mfa), tt.body)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		p := r.problem(t)
		if p.Field != tt.field {
			t.Errorf("%s: field = %q, want %q", tt.body, p.Field, tt.field)
		}
		wantContains(t, "detail", p.Detail, tt.detail)
	}
	r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", mfa), `{"role":"changer","ticket":"CHG-123"}`)
	wantStatus(t, r, http.StatusCreated)
}
