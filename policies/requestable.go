package policies

import (
	"context"
	"strings"
	"time"
)

// Requestable is a role a caller may request, with how its auto-approval
// rules would treat a request for the role's default duration.
type Requestable struct {
	Role        *Role
	AutoApprove []RuleCheck // in the role's order
}

// RuleCheck is one auto-approval rule evaluated for a caller.
type RuleCheck struct {
	Name  string
	Holds bool
	// Err is why the rule could not be evaluated; such a rule approves
	// nothing (Holds is false).
	Err error
}

// Requestable lists, in the policy's order, the roles the caller may
// request: those whose requesters name them, as Resolve decides. Each
// role's auto-approval rules are evaluated as for a request of the role's
// default duration at now (zero: the current time) with an empty
// justification and ticket. Errors are ErrNoDirectory or *DirectoryError,
// never a "no".
func (p *Policy) Requestable(ctx context.Context, dir Directory, c Caller, now time.Time) ([]Requestable, error) {
	if err := p.needDirectory(dir); err != nil {
		return nil, err
	}
	m := p.asRequester(ctx, dir, c)
	var out []Requestable
	for i := range p.Roles {
		role := &p.Roles[i]
		ok, err := m.mayRequest(role)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		in := RequestInput{Role: role.Name, Time: now}
		vars := ruleInput{caller: m.person, roles: c.Roles, mfa: c.MFA, in: in, role: role.Name, dur: role.DefaultDuration}.activation()
		r := Requestable{Role: role}
		for j := range role.AutoApprove {
			rule := &role.AutoApprove[j]
			holds, err := rule.eval(vars)
			r.AutoApprove = append(r.AutoApprove, RuleCheck{Name: rule.Name, Holds: holds, Err: err})
		}
		out = append(out, r)
	}
	return out, nil
}

// asRequester is the caller as requester: found in the policy's users list
// by object id, with the token's groups; the directory is asked each
// question about them at most once however many roles are checked.
func (p *Policy) asRequester(ctx context.Context, dir Directory, c Caller) *member {
	requester := p.requester(c)
	return p.member(ctx, dir, requester, requester.ID)
}

// mayRequest is the one check of whether the person may request the role:
// the role's requesters name them (users and groups of the policy's list,
// Entra users and groups, PIM eligibility).
func (m *member) mayRequest(role *Role) (bool, error) {
	return m.in(role.Requesters, role)
}

// Listed lists the people of the policy's own users list the subjects
// name: the named users in the order given, then each group's members,
// each person once. People named through Entra are not listed.
func (p *Policy) Listed(s Subjects) []User {
	return p.expand(s)
}

// TicketPatternText is the ticket pattern as the policy wrote it (a ticket
// must match it in full); "" when the role has none.
func (r *Role) TicketPatternText() string {
	if r.TicketPattern == nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(r.TicketPattern.String(), "^(?:"), ")$")
}

// JustificationLimit is the longest justification the role accepts, in
// characters: its justification_max, else MaxJustification.
func (r *Role) JustificationLimit() int {
	if r.JustificationMax > 0 {
		return r.JustificationMax
	}
	return MaxJustification
}
