package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// rolesAnswer is what GET /api/v1/roles answers erin in a dev policy with
// a few more roles.
const rolesAnswer = `{"roles":[` +
	`{"name":"reader","description":"Read","role_definition_id":"f2ef992c-3afb-46b9-b7cf-a126ee74c451","directory_scope_id":"/","duration":{"min":"10s","max":"8h0m0s","default":"1h0m0s"},"justification":{"required":true,"max":1000},"ticket":{"required":false,"pattern":"","max":100},"break_glass":false,"require_eligibility":false,"step_up":{"mfa":false,"auth_context":""},"extension":{"without_approval_up_to":"15m0s","max":"8h0m0s"},"stages":[{"name":"team-lead","approvals":1,"tiers":[{"timeout":"20s","approvers":[{"user":"bob@example.com"}]},{"timeout":"1m0s","approvers":[{"user":"carol@example.com"}]}]}],"auto_approve":[]},` +
	`{"name":"changer","description":"","role_definition_id":"194ae4cb-b126-40b2-bd5b-6091b380977d","directory_scope_id":"/","duration":{"min":"10s","max":"4h0m0s","default":"30m0s"},"justification":{"required":false,"max":1000},"ticket":{"required":true,"pattern":"CHG-[0-9]{1,6}","max":100},"break_glass":false,"require_eligibility":true,"eligibility_held":false,"step_up":{"mfa":true,"auth_context":"c1"},"extension":{"without_approval_up_to":"0s","max":"4h0m0s"},"stages":[{"name":"leads","approvals":2,"tiers":[{"timeout":"20s","approvers":[{"group":"aaaaaaaa-0000-4000-8000-000000000002"},{"manager":1}]}]}],"auto_approve":[{"name":"oncall-short","would_apply":true},{"name":"broken-zone","would_apply":false,"error":"rule \"broken-zone\": unknown time zone Nowhere/Atlantis"}]},` +
	`{"name":"breakglass","description":"","role_definition_id":"62e90394-69f5-4237-9190-012177145e10","directory_scope_id":"/","duration":{"min":"10s","max":"1h0m0s","default":"15m0s"},"justification":{"required":true,"max":1000},"ticket":{"required":false,"pattern":"","max":100},"break_glass":true,"require_eligibility":false,"step_up":{"mfa":false,"auth_context":""},"extension":{"without_approval_up_to":"0s","max":"1h0m0s"},"stages":[],"auto_approve":[]}` +
	`]}`

// startRolesAPI serves GET /api/v1/roles: the answer above for erin's
// token, nothing for dave's, a 503 for anyone else.
func startRolesAPI(t *testing.T) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dev/token" {
			io.WriteString(w, `{"token":"`+devToken(r.URL.Query().Get("user"))+`"}`)
			return
		}
		auth := r.Header.Get("Authorization")
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/api/v1/roles":
			t.Errorf("%s %s", r.Method, r.URL.Path)
		case auth == "Bearer "+devToken("erin"):
			io.WriteString(w, rolesAnswer)
		case auth == "Bearer "+devToken("dave"):
			io.WriteString(w, `{"roles":[]}`)
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the directory (Microsoft Graph) that says who may request and approve could not be read; try again shortly"}`)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("JITFLOW_API", srv.URL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")
}

func TestRolesCommand(t *testing.T) {
	startRolesAPI(t)
	res := run(t, "roles", "--as", "erin")
	if res.err != nil {
		t.Fatalf("roles: %v\n%s", res.err, res.stderr)
	}
	lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
	want := []string{
		"ROLE        DEFAULT  MAX  REQUIRES  APPROVAL",
		"reader      1h       8h   justification                                                       team-lead: bob@example.com, then carol@example.com",
		"changer     30m      4h   ticket CHG-[0-9]{1,6}, MFA, auth context c1, PIM eligibility (NOT held)  auto-approved now by rule oncall-short; leads (2 approvals): group aaaaaaaa-0000-4000-8000-000000000002 or your manager",
		"breakglass  15m      1h   justification  none: break-glass, active at once",
		`role changer: auto-approval rule broken-zone could not be evaluated, so it approves nothing: rule "broken-zone": unknown time zone Nowhere/Atlantis`,
	}
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s\nwant %d lines", res.stdout, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], strings.Fields(w)[0]) || !containsFields(lines[i], w) {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, lines[i], w)
		}
	}

	// --json prints the API's answer: every member of it, nothing added.
	res = run(t, "roles", "--as", "erin", "--json")
	var printed, answered any
	if err := json.Unmarshal([]byte(res.stdout), &printed); err != nil {
		t.Fatalf("--json: %v\n%s", err, res.stdout)
	}
	if err := json.Unmarshal([]byte(rolesAnswer), &answered); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(printed, answered) {
		t.Errorf("--json printed\n%s\nwant the API's answer\n%s", res.stdout, rolesAnswer)
	}

	res = run(t, "roles", "--as", "dave")
	if res.err != nil || res.stdout != "No roles you may request.\n" {
		t.Errorf("dave: %q, %v; want the empty message", res.stdout, res.err)
	}
	if res = run(t, "roles", "--as", "dave", "--json"); strings.TrimSpace(res.stdout) != `{"roles":[]}` {
		t.Errorf("dave --json: %q, want {\"roles\":[]}", res.stdout)
	}

	res = run(t, "roles", "--as", "bob")
	if res.code != ExitUnavailable || !strings.Contains(res.err.Error(), "directory (Microsoft Graph)") {
		t.Errorf("bob: code %d, error %v; want exit %d naming the directory", res.code, res.err, ExitUnavailable)
	}
	if res = run(t, "roles", "extra"); res.code != ExitUsage || !strings.Contains(res.err.Error(), "takes no arguments") {
		t.Errorf("roles with an argument: exit %d, want %d", res.code, ExitUsage)
	}
}

// containsFields reports whether line has want's words in order, however
// the table spaced them.
func containsFields(line, want string) bool {
	return strings.Join(strings.Fields(line), " ") == strings.Join(strings.Fields(want), " ")
}
