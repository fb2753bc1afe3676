package policies

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jitflow/jitflow/durations"
)

// Limits on free text a requester writes: it travels into mail, workflow history and Graph.
const (
	MaxJustification = 1000 // characters
	MaxTicket        = 100  // characters
)

// Caller is an authenticated principal as the API knows it (from the token).
type Caller struct {
	ID     string // Entra object id (oid claim)
	UPN    string
	Groups []string // group names/ids from the token, merged by the caller with directory groups
	Roles  []string // app roles from the token
	MFA    bool     // the token shows multi-factor authentication
}

// RequestInput is what the requester asked for. Duration 0 means "the role's default".
type RequestInput struct {
	Role          string
	Duration      time.Duration
	Justification string
	Ticket        string
	// Time is when the request is made, for rules that look at the clock
	// (zero means now).
	Time time.Time
}

// Plan is a request resolved against the policy: approvers are concrete
// users (the users list's groups expanded, Entra user references looked
// up, in file order, duplicates removed, the requester never among them),
// and each tier's Entra groups and managers are named for the workflow to
// resolve when the tier's stage starts.
type Plan struct {
	Role      *Role
	Requester User          // from the directory when known, else built from Caller (Name empty)
	Duration  time.Duration // defaulted
	Stages    []PlanStage   // empty for break-glass
	Notify    []User        // break-glass notify list, expanded
	// AutoApprovedBy is the auto-approval rule that approved the request,
	// nil when people must decide.
	AutoApprovedBy *Rule
	// RuleErrors holds auto-approval rules that failed to evaluate (they
	// approved nothing); the caller should log them.
	RuleErrors error
}

// PlanStage is a stage with its approvers resolved.
type PlanStage struct {
	Name      string
	Approvals int
	Tiers     []PlanTier
}

// PlanTier is a tier with its approvers resolved.
type PlanTier struct {
	// Approvers are the people resolved when the request is made: users of
	// the policy's list and Entra users named by id or principal name.
	Approvers []User
	// Directory names the approvers resolved when the tier's stage starts
	// (Entra groups, the requester's manager).
	Directory ApproverRefs
	Timeout   time.Duration
	// RemindBefore is how long before the tier runs out its approvers who
	// have not decided are reminded; 0 for no reminder.
	RemindBefore time.Duration
}

// Resolve checks a request against the policy, and the directory as it
// stands now for what the policy names through Entra. Errors are
// *RequestError for a request the policy refuses, *DirectoryError when the
// directory could not answer (never read as "not eligible": the caller may
// try again), and ErrNoDirectory when the policy names Entra and dir is
// nil. Eligibility is checked before the request's fields, so someone who
// may not request the role learns nothing else about it.
func (p *Policy) Resolve(ctx context.Context, dir Directory, c Caller, in RequestInput) (Plan, error) {
	role, err := p.lookupRole(in.Role)
	if err != nil {
		return Plan{}, err
	}
	if err := p.needDirectory(dir); err != nil {
		return Plan{}, err
	}
	m := p.asRequester(ctx, dir, c)
	requester := m.person
	ok, err := m.mayRequest(role)
	if err != nil {
		return Plan{}, err
	}
	if !ok {
		return Plan{}, notEligible(role, requester)
	}
	duration, err := checkDuration(role, in.Duration)
	if err != nil {
		return Plan{}, err
	}
	if err := checkText(role, in); err != nil {
		return Plan{}, err
	}
	vars := ruleInput{caller: requester, roles: c.Roles, mfa: c.MFA, in: in, role: role.Name, dur: duration}.activation()
	if err := checkConditions(role, vars); err != nil {
		return Plan{}, err
	}
	plan := Plan{Role: role, Requester: requester, Duration: duration}
	if role.BreakGlass {
		if plan.Notify, err = p.notifyList(ctx, dir, role.Notify); err != nil {
			return Plan{}, err
		}
		return plan, nil
	}
	for _, s := range role.Stages {
		ps, err := p.planStage(ctx, dir, role, s, requester)
		if err != nil {
			return Plan{}, err
		}
		plan.Stages = append(plan.Stages, ps)
	}
	plan.AutoApprovedBy, plan.RuleErrors = autoApproval(role, vars)
	return plan, nil
}

// notEligible is Resolve's refusal of someone the role's requesters do not name.
func notEligible(role *Role, requester User) *RequestError {
	return &RequestError{Kind: NotEligible, Field: "role", Detail: fmt.Sprintf(
		"%s may not request role %q; it is for %s", who(requester), role.Name, describeSubjects(role.Requesters))}
}

func (p *Policy) lookupRole(name string) (*Role, error) {
	if strings.TrimSpace(name) == "" {
		return nil, invalid("role", "no role given; known roles: %s", strings.Join(p.RoleNames(), ", "))
	}
	role, ok := p.Role(name)
	if !ok {
		return nil, invalid("role", "unknown role %q; known roles: %s", name, strings.Join(p.RoleNames(), ", "))
	}
	return role, nil
}

// requester finds the caller in the directory by object id, never by
// principal name (names can be reassigned; object ids cannot). A caller the
// directory lacks keeps the token's groups, and mail goes to the UPN.
func (p *Policy) requester(c Caller) User {
	if u, ok := p.UserByID(c.ID); ok {
		u.Groups = mergeGroups(u.Groups, c.Groups)
		return u
	}
	return User{ID: c.ID, UPN: c.UPN, Email: c.UPN, Groups: slices.Clone(c.Groups)}
}

func mergeGroups(dir, token []string) []string {
	out := slices.Clone(dir)
	for _, g := range token {
		if !inGroups(out, g) {
			out = append(out, g)
		}
	}
	return out
}

func checkDuration(role *Role, d time.Duration) (time.Duration, error) {
	bounds := fmt.Sprintf("%s to %s", durations.Format(role.MinDuration), durations.Format(role.MaxDuration))
	switch {
	case d == 0:
		return role.DefaultDuration, nil
	case d < 0:
		return 0, invalid("duration", "%s is negative; role %q accepts %s (leave it out for %s)", durations.Format(d), role.Name, bounds, durations.Format(role.DefaultDuration))
	case d < role.MinDuration:
		return 0, invalid("duration", "%s is under the minimum of role %q; accepted: %s", durations.Format(d), role.Name, bounds)
	case d > role.MaxDuration:
		return 0, invalid("duration", "%s is over the maximum of role %q; accepted: %s", durations.Format(d), role.Name, bounds)
	}
	return d, nil
}

// CheckExtension checks an extension of a request for role against the
// role's rules: a positive duration up to the role's extension maximum, and
// a justification when the role needs one. Errors are *RequestError.
func (p *Policy) CheckExtension(roleName string, d time.Duration, justification string) error {
	role, err := p.lookupRole(roleName)
	if err != nil {
		return err
	}
	switch {
	case d <= 0:
		return invalid("duration", "must be positive, such as \"30m\" or \"PT30M\"")
	case d > role.ExtendMax:
		return invalid("duration", "%s is over the longest extension of role %q; accepted: up to %s", durations.Format(d), role.Name, durations.Format(role.ExtendMax))
	}
	return checkText(role, RequestInput{Justification: justification})
}

func checkText(role *Role, in RequestInput) error {
	limit := role.JustificationLimit()
	if role.RequireJustification && strings.TrimSpace(in.Justification) == "" {
		return invalid("justification", "role %q needs a justification: say why you need it (up to %d characters)", role.Name, limit)
	}
	if n := utf8.RuneCountInString(in.Justification); n > limit {
		return invalid("justification", "is %d characters long; at most %d are accepted for role %q", n, limit, role.Name)
	}
	if role.RequireTicket && strings.TrimSpace(in.Ticket) == "" {
		return invalid("ticket", "role %q needs a ticket: give the change or incident number (%s)", role.Name, describeTicket(role))
	}
	if n := utf8.RuneCountInString(in.Ticket); n > MaxTicket {
		return invalid("ticket", "is %d characters long; at most %d are accepted", n, MaxTicket)
	}
	if in.Ticket != "" && role.TicketPattern != nil && !role.TicketPattern.MatchString(in.Ticket) {
		return invalid("ticket", "%q is not a ticket role %q accepts; give one %s", in.Ticket, role.Name, describeTicket(role))
	}
	return nil
}

// planStage resolves a stage's tiers without the requester: the users
// list's people and Entra users now, Entra groups and managers when the
// stage starts (PlanTier.Directory). Tiers left with no one are dropped. A
// stage left with too few people cannot be decided; with directory
// references only the workflow can count them.
func (p *Policy) planStage(ctx context.Context, dir Directory, role *Role, s Stage, requester User) (PlanStage, error) {
	ps := PlanStage{Name: s.Name, Approvals: s.Approvals}
	var distinct []User
	later := false // some tier is resolved when the stage starts
	for _, t := range s.Tiers {
		people, err := p.people(ctx, dir, t.Approvers)
		if err != nil {
			return PlanStage{}, err
		}
		approvers := slices.DeleteFunc(people, func(u User) bool { return strings.EqualFold(u.ID, requester.ID) })
		refs := ApproverRefs{GroupIDs: slices.Clone(t.Approvers.GroupIDs), Manager: t.Approvers.Manager}
		if len(approvers) == 0 && refs.Empty() {
			continue
		}
		ps.Tiers = append(ps.Tiers, PlanTier{Approvers: approvers, Directory: refs, Timeout: t.Timeout, RemindBefore: role.Remind.For(t.Timeout)})
		distinct = dedupe(append(distinct, approvers...))
		later = later || !refs.Empty()
	}
	switch {
	case later:
	case len(distinct) == 0:
		return PlanStage{}, invalid("role", "no one but you can approve stage %q of role %q; ask an administrator to add another approver", s.Name, role.Name)
	case len(distinct) < s.Approvals:
		return PlanStage{}, invalid("role", "stage %q of role %q needs %s but only %s besides you can approve it; ask an administrator to add approvers",
			s.Name, role.Name, plural(s.Approvals, "approval", "approvals"), plural(len(distinct), "person", "people"))
	}
	return ps, nil
}

func who(u User) string {
	switch {
	case u.UPN != "":
		return u.UPN
	case u.ID != "":
		return "user " + u.ID
	}
	return "a caller without an object id"
}

// describeSubjects reads "users bob, carol and groups engineers", naming
// Entra references by object id or principal name.
func describeSubjects(s Subjects) string {
	var parts []string
	if len(s.Users) > 0 {
		parts = append(parts, "users "+strings.Join(s.Users, ", "))
	}
	if len(s.Groups) > 0 {
		parts = append(parts, "groups "+strings.Join(s.Groups, ", "))
	}
	if len(s.UserIDs) > 0 {
		parts = append(parts, "Entra users "+strings.Join(s.UserIDs, ", "))
	}
	if len(s.GroupIDs) > 0 {
		parts = append(parts, "members of Entra groups "+strings.Join(s.GroupIDs, ", "))
	}
	switch s.Manager {
	case 1:
		parts = append(parts, "the requester's manager")
	case 2:
		parts = append(parts, "the requester's manager's manager")
	}
	if s.Eligible {
		parts = append(parts, "holders of a PIM eligibility for it in Entra")
	}
	if len(parts) == 0 {
		return "no one"
	}
	return strings.Join(parts, " and ")
}
