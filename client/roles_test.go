package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/jitflow/jitflow/api"
)

func TestRoles(t *testing.T) {
	const answer = `{"roles":[{"name":"reader","description":"Read","role_definition_id":"f2ef992c-3afb-46b9-b7cf-a126ee74c451","directory_scope_id":"/",
"duration":{"min":"10s","max":"8h0m0s","default":"1h0m0s"},"justification":{"required":true,"max":1000},
"ticket":{"required":true,"pattern":"CHG-[0-9]+","max":100},"break_glass":false,"require_eligibility":true,"eligibility_held":false,
"step_up":{"mfa":true,"auth_context":"c1"},"extension":{"without_approval_up_to":"15m0s","max":"8h0m0s"},
"stages":[{"name":"team-lead","approvals":1,"tiers":[{"timeout":"20s","approvers":[{"user":"bob@example.com"},{"group":"aaaaaaaa-0000-4000-8000-000000000002"},{"manager":1}]}]}],
"auto_approve":[{"name":"short","would_apply":true},{"name":"broken","would_apply":false,"error":"rule \"broken\": no such zone"}],
"unknown_to_the_client":1}]}`
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/roles" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("%s %s with %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}, StaticToken("tok"))
	roles, err := c.Roles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 1 {
		t.Fatalf("roles = %+v", roles)
	}
	r := roles[0]
	switch {
	case r.Name != "reader" || r.Duration != (api.RoleDuration{Min: "10s", Max: "8h0m0s", Default: "1h0m0s"}):
		t.Errorf("name, duration: %+v", r)
	case r.Ticket != (api.TicketRule{Required: true, Pattern: "CHG-[0-9]+", Max: 100}) || r.Justification != (api.JustificationRule{Required: true, Max: 1000}):
		t.Errorf("ticket %+v, justification %+v", r.Ticket, r.Justification)
	case !r.RequireEligibility || r.EligibilityHeld == nil || *r.EligibilityHeld:
		t.Errorf("eligibility: require %v, held %v; want required and not held", r.RequireEligibility, r.EligibilityHeld)
	case r.StepUp != (api.StepUpRule{MFA: true, AuthContext: "c1"}) || r.Extension.WithoutApprovalUpTo != "15m0s":
		t.Errorf("step_up %+v, extension %+v", r.StepUp, r.Extension)
	}
	tier := r.Stages[0].Tiers[0]
	if want := []api.RoleApprover{{User: "bob@example.com"}, {Group: "aaaaaaaa-0000-4000-8000-000000000002"}, {Manager: 1}}; tier.Timeout != "20s" || len(tier.Approvers) != 3 ||
		tier.Approvers[0] != want[0] || tier.Approvers[1] != want[1] || tier.Approvers[2] != want[2] {
		t.Errorf("tier %+v, want %+v", tier, want)
	}
	if len(r.AutoApprove) != 2 || !r.AutoApprove[0].WouldApply || r.AutoApprove[1].Error == "" {
		t.Errorf("auto_approve %+v", r.AutoApprove)
	}
}

func TestRolesNoneAndErrors(t *testing.T) {
	status := http.StatusOK
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if status != http.StatusOK {
			writeProblem(w, status, "the directory (Microsoft Graph) that says who may request and approve could not be read; try again shortly", "")
			return
		}
		io.WriteString(w, `{"roles":[]}`)
	}, StaticToken("tok"))
	roles, err := c.Roles(context.Background())
	if err != nil || roles == nil || len(roles) != 0 {
		t.Errorf("Roles = %v, %v; want an empty list", roles, err)
	}
	status = http.StatusServiceUnavailable
	_, err = c.Roles(context.Background())
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Errorf("Roles on a 503 = %v, want an *Error with status 503", err)
	}
}
