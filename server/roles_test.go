package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/policies"
)

// roles reads GET /api/v1/roles as the token's user, which must answer 200.
func (e *env) roles(token string) []api.Role {
	e.t.Helper()
	r := e.callToken(http.MethodGet, "/api/v1/roles", token, "")
	wantStatus(e.t, r, http.StatusOK)
	var list api.RoleList
	if err := json.Unmarshal(r.body, &list); err != nil {
		e.t.Fatalf("roles: %v: %s", err, r.body)
	}
	if list.Roles == nil {
		e.t.Fatalf("roles: %s; want a list, never null", r.body)
	}
	return list.Roles
}

func roleNamesOf(rs []api.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func findRole(t *testing.T, rs []api.Role, name string) api.Role {
	t.Helper()
	i := slices.IndexFunc(rs, func(r api.Role) bool { return r.Name == name })
	if i < 0 {
		t.Fatalf("role %s not listed among %v", name, roleNamesOf(rs))
	}
	return rs[i]
}

// Each caller of the dev policy sees only what they may request, in the
// policy's order; the break-glass role only on-call engineers.
func TestRolesPerCaller(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		user string
		want []string
	}{
		{"alice", []string{"reader", "admin"}},
		{"erin", []string{"reader", "admin", "breakglass"}},
		{"dave", []string{}},
		{"bob", []string{}},
	} {
		if got := roleNamesOf(e.roles(e.token(tt.user))); !slices.Equal(got, tt.want) {
			t.Errorf("%s sees %v, want %v", tt.user, got, tt.want)
		}
	}
	if r := e.call(http.MethodGet, "/api/v1/roles", "dave", ""); strings.TrimSpace(string(r.body)) != `{"roles":[]}` {
		t.Errorf("dave's answer %s, want {\"roles\":[]}", r.body)
	}

	roles := e.roles(e.token("erin"))
	reader := findRole(t, roles, "reader")
	want := api.Role{
		Name:             "reader",
		Description:      "Read everything in the tenant (Global Reader).",
		RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
		DirectoryScopeID: "/",
		Duration:         api.RoleDuration{Min: "10s", Max: "8h0m0s", Default: "1h0m0s"},
		Justification:    api.JustificationRule{Required: true, Max: policies.MaxJustification},
		Ticket:           api.TicketRule{Max: policies.MaxTicket},
		Extension:        api.ExtensionRule{WithoutApprovalUpTo: "15m0s", Max: "8h0m0s"},
		Stages: []api.RoleStage{{Name: "team-lead", Approvals: 1, Tiers: []api.RoleTier{
			{Timeout: "20s", Approvers: []api.RoleApprover{{User: "bob@example.com"}}},
			{Timeout: "1m0s", Approvers: []api.RoleApprover{{User: "carol@example.com"}}},
		}}},
		AutoApprove: []api.AutoApproveRule{},
	}
	if !reflect.DeepEqual(reader, want) {
		t.Errorf("reader:\n got %+v\nwant %+v", reader, want)
	}
	admin := findRole(t, roles, "admin")
	if !admin.Ticket.Required || len(admin.Stages) != 2 || admin.Stages[1].Name != "security" ||
		!slices.Equal(admin.Stages[1].Tiers[0].Approvers, []api.RoleApprover{{User: "dave@example.com"}}) {
		t.Errorf("admin: ticket %+v, stages %+v; want a required ticket and the security stage asking dave", admin.Ticket, admin.Stages)
	}
	glass := findRole(t, roles, "breakglass")
	if !glass.BreakGlass || glass.Stages == nil || len(glass.Stages) != 0 || glass.Duration.Max != "1h0m0s" {
		t.Errorf("breakglass: %+v; want break_glass, no stages, max 1h", glass)
	}
	if glass.EligibilityHeld != nil {
		t.Errorf("breakglass: eligibility_held set for a role that does not require it")
	}

	wantStatus(t, e.call(http.MethodGet, "/api/v1/roles", "", ""), http.StatusUnauthorized)
}

// A role's step-up, ticket format and justification limit are listed;
// auto-approval rules are evaluated for the caller with the default
// duration, a rule that fails to evaluate saying why; the caller is left
// out of the approvers, and the other entries are named as the policy
// names them.
func TestRolesLimitsAndRules(t *testing.T) {
	const quick = `
  - name: quickread
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [oncall]}
    duration: {min: 10s, max: 1h, default: 10m}
    auto_approve:
      - name: oncall-short
        expr: "'oncall' in caller.groups && request.duration <= duration('15m')"
      - name: mfa-only
        expr: "caller.mfa"
      - name: broken-zone
        expr: "now.getHours('Nowhere/Atlantis') < 18"
    approval:
      stages:
        - tiers: [{approvers: {users: [bob, erin], groups: [security]}, timeout: 20s}]
`
	p, err := policies.Parse("quick.yaml", append(append(append([]byte{}, policies.DevYAML...), extraRoles...), quick...))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, p, nil)
	roles := e.roles(e.token("erin"))
	if got, want := roleNamesOf(roles), []string{"reader", "admin", "breakglass", "secreader", "ctxreader", "changer", "quickread"}; !slices.Equal(got, want) {
		t.Fatalf("erin sees %v, want %v", got, want)
	}
	if sec := findRole(t, roles, "secreader"); !sec.StepUp.MFA || sec.StepUp.AuthContext != "" || sec.Justification.Max != 40 {
		t.Errorf("secreader: step_up %+v, justification %+v; want mfa and at most 40 characters", sec.StepUp, sec.Justification)
	}
	if ctx := findRole(t, roles, "ctxreader"); ctx.StepUp != (api.StepUpRule{AuthContext: "c1"}) {
		t.Errorf("ctxreader: step_up %+v, want auth_context c1", ctx.StepUp)
	}
	if ch := findRole(t, roles, "changer"); ch.Ticket != (api.TicketRule{Required: true, Pattern: "CHG-[0-9]{1,6}", Max: policies.MaxTicket}) {
		t.Errorf("changer: ticket %+v, want required with the pattern as written", ch.Ticket)
	}

	q := findRole(t, roles, "quickread")
	if got, want := q.Stages[0].Tiers[0].Approvers, []api.RoleApprover{{User: "bob@example.com"}, {User: "dave@example.com"}}; !slices.Equal(got, want) {
		t.Errorf("quickread approvers for erin %+v, want %+v (erin left out)", got, want)
	}
	rules := q.AutoApprove
	if len(rules) != 3 || rules[0] != (api.AutoApproveRule{Name: "oncall-short", WouldApply: true}) ||
		rules[1] != (api.AutoApproveRule{Name: "mfa-only"}) || rules[2].Name != "broken-zone" || rules[2].WouldApply {
		t.Fatalf("quickread rules %+v", rules)
	}
	wantContains(t, "broken rule error", rules[2].Error, `rule "broken-zone"`)

	// With a multi-factor sign-in the mfa rule would apply.
	mfa := e.roles(e.tokenWith("erin", devauth.TokenOptions{MFA: true}))
	if r := findRole(t, mfa, "quickread").AutoApprove[1]; !r.WouldApply {
		t.Errorf("mfa-only after a multi-factor sign-in: %+v, want would_apply", r)
	}
}

// Requesters named by Entra group are asked of the directory, as a request
// is; approvers named by group are listed as the group; a directory that
// cannot answer is a 503 that says so, never an empty list.
func TestRolesThroughTheDirectory(t *testing.T) {
	dir := &entraDirectory{groups: map[string][]string{engineersID: {aliceID, daveID}, leadsID: {bobID, carolID}}}
	e := newEnvWith(t, entraReader(t), func(c *Config) { c.Directory = dir })

	dave := e.roles(e.token("dave"))
	if got := roleNamesOf(dave); !slices.Equal(got, []string{"reader"}) {
		t.Fatalf("dave (in the Entra group) sees %v, want [reader]", got)
	}
	if got := findRole(t, dave, "reader").Stages[0].Tiers[0].Approvers; !slices.Equal(got, []api.RoleApprover{{Group: leadsID}}) {
		t.Errorf("reader approvers %+v, want group %s", got, leadsID)
	}
	if got := roleNamesOf(e.roles(e.token("bob"))); len(got) != 0 {
		t.Errorf("bob (not in the group) sees %v, want nothing", got)
	}

	dir.down.Store(true)
	r := e.call(http.MethodGet, "/api/v1/roles", "dave", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "problem detail", r.problem(t).Detail, "directory (Microsoft Graph)", "try again")
}

// A role that requires a PIM eligibility says whether the caller holds
// one; Entra not answering is a 503.
func TestRolesEligibilityHeld(t *testing.T) {
	elig := &fakeEligibility{held: map[string]bool{aliceID + " member of group 22222222-2222-4222-8222-000000000001": true}}
	e := newEnv(t, requireEligibility(elig))
	for user, want := range map[string]bool{"alice": true, "erin": false} {
		roles := e.roles(e.token(user))
		reader := findRole(t, roles, "reader")
		if !reader.RequireEligibility || reader.EligibilityHeld == nil || *reader.EligibilityHeld != want ||
			reader.GroupID != "22222222-2222-4222-8222-000000000001" || reader.AccessID != "member" || reader.RoleDefinitionID != "" {
			t.Errorf("%s: reader %+v, want require_eligibility with eligibility_held %v on the group target", user, reader, want)
		}
		if admin := findRole(t, roles, "admin"); admin.EligibilityHeld != nil {
			t.Errorf("%s: admin has eligibility_held without require_eligibility", user)
		}
	}

	elig.mu.Lock()
	elig.err = errors.New("graph: HTTP 503")
	elig.mu.Unlock()
	r := e.call(http.MethodGet, "/api/v1/roles", "alice", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "problem detail", r.problem(t).Detail, "could not check your PIM eligibility", "try again")
}

// The answers, every field of the dev policy's roles filled in for some
// caller, and the refusals have the shapes the spec gives.
func TestRolesAnswersMatchSpec(t *testing.T) {
	v := newValidator(t)
	elig := &fakeEligibility{held: map[string]bool{}}
	e := newEnv(t, requireEligibility(elig))
	for _, user := range []string{"alice", "erin", "dave", ""} {
		req, _ := http.NewRequest(http.MethodGet, "http://jitflow.test/api/v1/roles", nil)
		if user != "" {
			req.Header.Set("Authorization", "Bearer x")
		}
		v.check(req, "", e.call(http.MethodGet, "/api/v1/roles", user, ""))
	}
	elig.mu.Lock()
	elig.err = errors.New("graph: HTTP 503")
	elig.mu.Unlock()
	req, _ := http.NewRequest(http.MethodGet, "http://jitflow.test/api/v1/roles", nil)
	req.Header.Set("Authorization", "Bearer x")
	r := e.call(http.MethodGet, "/api/v1/roles", "alice", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	v.check(req, "", r)
}
