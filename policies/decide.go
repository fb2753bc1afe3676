package policies

import (
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
// stage and tier they decide (the workflow checks that); the policy as it
// stands now says whether they still may: the role must still be in the
// policy, the approver still in its directory and still listed in some
// tier of some stage of the role. It returns the role, whose step-up then
// applies to the decision. Every way a decision reaches a request (the
// API, an approval link's page and form) asks this one function.
func (p *Policy) MayStillDecide(roleName, approverID string) (*Role, error) {
	refuse := func(format string, args ...any) (*Role, error) {
		return nil, &DecideRefusal{Role: roleName, ApproverID: approverID, Reason: fmt.Sprintf(format, args...)}
	}
	role, ok := p.Role(roleName)
	if !ok {
		return refuse("role %s is no longer in the policy, so nobody may decide its requests", roleName)
	}
	u, ok := p.UserByID(approverID)
	if !ok {
		return refuse("%s is no longer in the policy directory, so they may no longer decide requests for role %s", approverID, roleName)
	}
	// Not RoleApproverIDs: the people a break-glass role notifies look and
	// revoke, they do not decide.
	if !slices.ContainsFunc(p.stageApprovers(role), func(a User) bool { return strings.EqualFold(a.ID, u.ID) }) {
		return refuse("%s is not an approver of role %s under the current policy", u.UPN, roleName)
	}
	return role, nil
}
