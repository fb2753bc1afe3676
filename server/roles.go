package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// listRoles answers GET /api/v1/roles: the roles the caller may request
// under the policy in force, decided as a request is (Policy.Requestable
// and Resolve share the check), each with its limits and who would be
// asked. A directory that cannot say who may request is a 503.
func (s *Server) listRoles(c echo.Context) error {
	_, roles, err := s.offeredRoles(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.RoleList{Roles: roles})
}

// offeredRoles is what the caller may request, as the policy has it and
// as GET /api/v1/roles shows it (one entry each, in the same order): for
// the API's list and the portal's request form.
func (s *Server) offeredRoles(c echo.Context) ([]policies.Requestable, []api.Role, error) {
	me := currentIdentity(c)
	pol := s.policy(c)
	ctx := c.Request().Context()
	offered, err := pol.Requestable(ctx, s.directory, me.caller(), s.now())
	if err != nil {
		return nil, nil, policyError(err)
	}
	roles := make([]api.Role, 0, len(offered))
	for _, o := range offered {
		r := roleView(pol, o, me.person)
		if o.Role.RequireEligibility && s.eligible != nil {
			held, _, err := s.holdsEligibility(ctx, o.Role, me.person.ID)
			if err != nil {
				return nil, nil, err
			}
			r.EligibilityHeld = &held
		}
		roles = append(roles, r)
	}
	return offered, roles, nil
}

// roleView is a role as the caller may request it; the caller is left out
// of the approvers, since nobody approves their own request.
func roleView(pol *policies.Policy, o policies.Requestable, caller workflows.Person) api.Role {
	r := o.Role
	t := target(r)
	v := api.Role{
		Name:             r.Name,
		Description:      r.Description,
		RoleDefinitionID: t.RoleDefinitionID,
		DirectoryScopeID: t.DirectoryScopeID,
		GroupID:          t.GroupID,
		AccessID:         t.AccessID,
		Duration: api.RoleDuration{
			Min:     r.MinDuration.String(),
			Max:     r.MaxDuration.String(),
			Default: r.DefaultDuration.String(),
		},
		Justification:      api.JustificationRule{Required: r.RequireJustification, Max: r.JustificationLimit()},
		Ticket:             api.TicketRule{Required: r.RequireTicket, Pattern: r.TicketPatternText(), Max: policies.MaxTicket},
		BreakGlass:         r.BreakGlass,
		RequireEligibility: r.RequireEligibility,
		StepUp:             api.StepUpRule{MFA: r.StepUp.MFA, AuthContext: r.StepUp.AuthContext},
		Extension: api.ExtensionRule{
			WithoutApprovalUpTo: r.ExtendWithoutApprovalUpTo.String(),
			Max:                 r.ExtendMax.String(),
		},
		Stages:      []api.RoleStage{},
		AutoApprove: []api.AutoApproveRule{},
	}
	for _, st := range r.Stages {
		vs := api.RoleStage{Name: st.Name, Approvals: st.Approvals, Tiers: []api.RoleTier{}}
		for _, tier := range st.Tiers {
			vs.Tiers = append(vs.Tiers, api.RoleTier{Timeout: tier.Timeout.String(), Approvers: approverView(pol, tier.Approvers, caller)})
		}
		v.Stages = append(v.Stages, vs)
	}
	for _, rc := range o.AutoApprove {
		ar := api.AutoApproveRule{Name: rc.Name, WouldApply: rc.Holds}
		if rc.Err != nil {
			ar.Error = rc.Err.Error()
		}
		v.AutoApprove = append(v.AutoApprove, ar)
	}
	return v
}

// approverView names a tier's approvers as the policy does: the people of
// its users list by principal name, Entra users as written, Entra groups
// and the manager chain as references. The caller is left out.
func approverView(pol *policies.Policy, s policies.Subjects, caller workflows.Person) []api.RoleApprover {
	out := []api.RoleApprover{}
	for _, u := range pol.Listed(s) {
		if !strings.EqualFold(u.ID, caller.ID) {
			out = append(out, api.RoleApprover{User: u.UPN})
		}
	}
	for _, ref := range s.UserIDs {
		if !strings.EqualFold(ref, caller.ID) && !strings.EqualFold(ref, caller.UPN) {
			out = append(out, api.RoleApprover{User: ref})
		}
	}
	for _, g := range s.GroupIDs {
		out = append(out, api.RoleApprover{Group: g})
	}
	if s.Manager > 0 {
		out = append(out, api.RoleApprover{Manager: s.Manager})
	}
	return out
}
