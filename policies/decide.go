package policies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrNoLongerApprover is what MayStillDecide's refusals wrap: the live
// policy no longer lets someone decide whom the request's frozen plan asked.
var ErrNoLongerApprover = errors.New("no longer an approver")

// DecideRefusal says why the live policy refuses a decision.
type DecideRefusal struct {
	Role       string
	ApproverID string
	Reason     string // e.g. "bob@example.com is not an approver of role reader under the current policy"
}

func (e *DecideRefusal) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrNoLongerApprover) hold.
func (e *DecideRefusal) Unwrap() error { return ErrNoLongerApprover }

// MayStillDecide answers the live half of "may this person decide now".
// A request's plan, frozen when it was made, says who was asked and which
// stage and tier they decide (the workflow checks that); the policy and the
// directory as they stand now say whether they still may: the role must
// still be in the policy, and some tier of some stage of the role must
// still name the approver: by the users list (the approver still in it),
// as an Entra user, as a member of an Entra group (nested groups included:
// someone who left the group since cannot decide), or as requesterID's
// manager at a level a tier names. It returns the role, whose step-up then
// applies to the decision. Every way a decision reaches a request (the
// API, an approval link's page and form) asks this one function.
//
// A refusal is a *DecideRefusal; a directory that could not answer gives
// a *DirectoryError (the approver may try again), and a policy naming
// Entra without a directory ErrNoDirectory.
func (p *Policy) MayStillDecide(ctx context.Context, dir Directory, roleName, approverID, requesterID string) (*Role, error) {
	refuse := func(format string, args ...any) (*Role, error) {
		return nil, &DecideRefusal{Role: roleName, ApproverID: approverID, Reason: fmt.Sprintf(format, args...)}
	}
	role, ok := p.Role(roleName)
	if !ok {
		return refuse("role %s is no longer in the policy, so nobody may decide its requests", roleName)
	}
	if err := p.needDirectory(dir); err != nil {
		return nil, err
	}
	// Not the notify list: the people a break-glass role notifies look and
	// revoke, they do not decide.
	tiers := stageSubjects(role)
	u, listed := p.UserByID(approverID)
	if !listed {
		if len(tiers) > 0 && !slices.ContainsFunc(tiers, Subjects.Entra) {
			return refuse("%s is no longer in the policy directory, so they may no longer decide requests for role %s", approverID, roleName)
		}
		u = User{ID: approverID}
	}
	m := p.member(ctx, dir, u, requesterID)
	for _, s := range tiers {
		ok, err := m.in(s, role)
		if err != nil {
			return nil, err
		}
		if ok {
			return role, nil
		}
	}
	return refuse("%s is not an approver of role %s under the current policy%s", who(u), roleName, whyNot(tiers, requesterID))
}

// whyNot names the Entra groups and managers a refused approver is not
// (or no longer) among, e.g. " (not a member of group 5f1c...; not the
// manager of requester 1111...)".
func whyNot(tiers []Subjects, requesterID string) string {
	var groups []string
	levels := map[int]bool{}
	for _, s := range tiers {
		for _, g := range s.GroupIDs {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		if s.Manager > 0 {
			levels[s.Manager] = true
		}
	}
	var parts []string
	if len(groups) > 0 {
		parts = append(parts, "not a member of Entra group "+strings.Join(groups, " or "))
	}
	for level := 1; level <= MaxManagerLevel; level++ {
		if levels[level] {
			parts = append(parts, "not "+managerChain(requesterID, level))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}
