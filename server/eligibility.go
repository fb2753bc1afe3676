package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// Eligibility answers whether a principal holds a PIM eligibility for a
// target in Entra. The PIM provider (graph.Client) is one.
type Eligibility interface {
	Eligible(ctx context.Context, a graph.Assignment) (graph.EligibilityResult, error)
}

// eligibilityRole names the first role that requires an eligibility.
func eligibilityRole(p *policies.Policy) string {
	for _, r := range p.Roles {
		if r.RequireEligibility {
			return r.Name
		}
	}
	return ""
}

// checkEligibility refuses a requester without the PIM eligibility the
// role requires, naming what is missing.
func (s *Server) checkEligibility(ctx context.Context, plan policies.Plan, caller workflows.Person) error {
	if !plan.Role.RequireEligibility {
		return nil
	}
	principal := caller.ID
	if plan.Requester.ID != "" {
		principal = plan.Requester.ID
	}
	held, a, err := s.holdsEligibility(ctx, plan.Role, principal)
	if err != nil {
		return err
	}
	if !held {
		return &apiError{status: http.StatusForbidden, field: "role",
			detail: fmt.Sprintf("role %q requires a PIM eligibility in Entra and you hold none for %s; ask an administrator to make you eligible", plan.Role.Name, a.TargetString())}
	}
	return nil
}

// holdsEligibility asks Entra whether principal holds a PIM eligibility
// for what the role grants. An Entra that cannot answer is a 503.
func (s *Server) holdsEligibility(ctx context.Context, role *policies.Role, principal string) (bool, graph.Assignment, error) {
	t := target(role)
	a := graph.Assignment{PrincipalID: principal, RoleDefinitionID: t.RoleDefinitionID, DirectoryScopeID: t.DirectoryScopeID, GroupID: t.GroupID, AccessID: t.AccessID}
	res, err := s.eligible.Eligible(ctx, a)
	if err != nil {
		return false, a, &apiError{status: http.StatusServiceUnavailable, cause: err,
			detail: fmt.Sprintf("could not check your PIM eligibility for %s in Entra; try again shortly", a.TargetString())}
	}
	return res.Eligible, a, nil
}
