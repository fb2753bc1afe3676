// Package policies decides who may request which Entra role, for how long,
// and who must approve. A policy is one YAML file (see dev.yaml, the
// commented example) that names people through its own users list, through
// Entra (users, groups, managers, PIM eligibilities, read by a Directory),
// or both.
package policies

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Policy is a parsed and validated policy file.
type Policy struct {
	TenantID  string   // Entra tenant id
	Users     []User   // the policy's own users list, in file order; may be empty
	Operators Subjects // who holds the operator role (may see and revoke everything)
	Roles     []Role   // in file order

	// refs keeps the Entra users the policy names by object id or principal
	// name, as the directory first answered: each is looked up once per
	// loaded policy. nil (a Policy not made by Parse) looks up every time.
	refs *refCache
}

// User is one person of the directory.
type User struct {
	Name   string   // short name, e.g. "alice"
	ID     string   // Entra object id (lower-case GUID): the identity that decides
	UPN    string   // user principal name, e.g. alice@example.com
	Email  string   // where mail goes; the UPN unless the file says otherwise
	Groups []string // group names
}

// Subjects names people: through the policy's own users list (Users,
// Groups) and through Entra (the rest), resolved by a Directory.
type Subjects struct {
	Users  []string // short names of the policy's users list
	Groups []string // group names of the policy's users list

	// UserIDs are Entra users named by object id (lower-case GUIDs) or by
	// user principal name, as written; each is looked up once.
	UserIDs []string
	// GroupIDs are Entra groups by object id (lower-case GUIDs): their
	// members, nested groups included.
	GroupIDs []string
	// Manager (tiers only) asks the requester's manager (1) or the
	// manager's manager (2); 0 for neither.
	Manager int
	// Eligible (requesters only): anyone holding a PIM eligibility for the
	// role's target in Entra may request it.
	Eligible bool
}

// Entra reports whether the subjects name anyone through the directory.
func (s Subjects) Entra() bool {
	return len(s.UserIDs) > 0 || len(s.GroupIDs) > 0 || s.Manager > 0 || s.Eligible
}

// Tier is one step of an escalation chain.
type Tier struct {
	Approvers Subjects
	Timeout   time.Duration
}

// Stage needs Approvals decisions from distinct approvers of its tiers.
type Stage struct {
	Name      string
	Approvals int
	Tiers     []Tier
}

// Role is one Entra role assignment people may request: a directory role
// at a directory scope, or (GroupID set) the membership or ownership of a
// group through PIM for Groups.
type Role struct {
	Name, Description string
	RoleDefinitionID  string // Entra role definition (template) id; empty for a group
	DirectoryScopeID  string // "/" (the whole tenant) by default; empty for a group

	GroupID     string // the group's object id, for PIM for Groups
	GroupAccess string // GroupMember or GroupOwner

	// RequireEligibility: requesters must hold a PIM eligibility for the
	// target in Entra; the API checks before starting, the workflow again
	// before activating.
	RequireEligibility bool

	// ExtendWithoutApprovalUpTo: an extension of at most this long needs no
	// approval (0: every extension goes through the stages again).
	// ExtendMax bounds one extension; it defaults to MaxDuration.
	ExtendWithoutApprovalUpTo, ExtendMax time.Duration

	// EndNoticeBefore is how long before a grant ends its requester is
	// emailed that it ends soon and how to extend it; 0 for no notice.
	// A grant no longer than it gets none. Parse defaults it to
	// DefaultEndNoticeBefore.
	EndNoticeBefore time.Duration

	Requesters Subjects

	MinDuration, MaxDuration, DefaultDuration time.Duration

	RequireJustification, RequireTicket bool

	// ApproverSignIn makes an approver sign in (OIDC) as the person an
	// approval link was made for before the link decides: possession of
	// the link alone is then not enough.
	ApproverSignIn bool
	// JustificationMax bounds a justification, in characters.
	JustificationMax int
	// TicketPattern, when set, is what a ticket must match in full.
	TicketPattern *regexp.Regexp

	// StepUp is what a caller's token must show to request or approve
	// this role.
	StepUp StepUp

	// Conditions must all hold for a request to be accepted.
	Conditions []Rule
	// AutoApprove approves a request at once when one of them holds.
	AutoApprove []Rule

	Stages []Stage // empty for break-glass
	// Remind says when approvers who have not decided are reminded before
	// a tier runs out.
	Remind Reminder

	BreakGlass bool // activates without approval; Notify is told
	Notify     Subjects
}

// DefaultEndNoticeBefore is a role's end_notice_before when the policy
// does not say.
const DefaultEndNoticeBefore = 10 * time.Minute

// StepUp is the strength of sign-in a role demands of its requesters and
// approvers. Entra reports it in the token: "amr" lists the methods used
// ("mfa" after multi-factor), "acrs" the authentication contexts satisfied
// (Conditional Access policies tied to ids "c1" to "c99").
type StepUp struct {
	MFA         bool
	AuthContext string // "" for none
}

// Required reports whether any step-up is asked for.
func (s StepUp) Required() bool { return s.MFA || s.AuthContext != "" }

// Access kinds of a PIM for Groups target.
const (
	GroupMember = "member"
	GroupOwner  = "owner"
)

// IsGroup reports whether the role is a PIM for Groups target.
func (r *Role) IsGroup() bool { return r.GroupID != "" }

// Target names what the role grants, for messages: "role <id> at <scope>"
// or "member of group <id>".
func (r *Role) Target() string {
	if r.IsGroup() {
		return r.GroupAccess + " of group " + r.GroupID
	}
	return "role " + r.RoleDefinitionID + " at " + r.DirectoryScopeID
}

// Role returns the role with this name.
func (p *Policy) Role(name string) (*Role, bool) {
	for i := range p.Roles {
		if p.Roles[i].Name == name {
			return &p.Roles[i], true
		}
	}
	return nil, false
}

// RoleNames lists the roles' names in file order.
func (p *Policy) RoleNames() []string {
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = r.Name
	}
	return names
}

// UserByID finds a user by Entra object id (GUIDs compare case-insensitively).
func (p *Policy) UserByID(id string) (User, bool) {
	return p.findUser(func(u User) bool { return id != "" && strings.EqualFold(u.ID, id) })
}

// UserByName finds a user by short name.
func (p *Policy) UserByName(name string) (User, bool) {
	return p.findUser(func(u User) bool { return u.Name == name })
}

// UserByUPN finds a user by principal name, ignoring case as Entra does.
func (p *Policy) UserByUPN(upn string) (User, bool) {
	return p.findUser(func(u User) bool { return upn != "" && strings.EqualFold(u.UPN, upn) })
}

func (p *Policy) findUser(match func(User) bool) (User, bool) {
	for _, u := range p.Users {
		if match(u) {
			return u, true
		}
	}
	return User{}, false
}

// IsOperator reports whether the user with this object id holds the
// operator role: named by the policy's users list, by an Entra user
// reference, or as a member (nested groups included) of an Entra group.
// Errors are ErrNoDirectory or *DirectoryError, never a "no".
func (p *Policy) IsOperator(ctx context.Context, dir Directory, id string) (bool, error) {
	if err := p.needDirectory(dir); err != nil {
		return false, err
	}
	u, ok := p.UserByID(id)
	if !ok {
		u = User{ID: id}
	}
	return p.member(ctx, dir, u, "").in(p.Operators, nil)
}

// RequesterIDs returns the object id of everyone the policy's own users
// list lets request the role, in list order (the dev stack seeds their PIM
// eligibilities). People the role names through Entra are not listed.
func (p *Policy) RequesterIDs(role *Role) []string {
	return ids(p.expand(role.Requesters))
}

// RoleApproverIDs returns the object id of everyone of the policy's own
// users list who may approve some stage of the role (all tiers), in file
// order. A break-glass role has no approvers; the people it notifies stand
// in for them (they are told so that they can look and revoke), so they
// are listed. People the role names through Entra are not listed: access
// checks use IsRoleApprover, which asks the directory about them too.
func (p *Policy) RoleApproverIDs(role *Role) []string {
	var people []User
	if role.BreakGlass {
		people = p.expand(role.Notify)
	}
	return ids(dedupe(append(people, p.stageApprovers(role)...)))
}

// IsRoleApprover reports whether the user may act on the role's requests as
// an approver does (see them, follow them): someone some tier of some stage
// of the role names, or for a break-glass role someone it notifies. A tier
// naming the manager counts the manager of requesterID. Errors are
// ErrNoDirectory or *DirectoryError, never a "no".
func (p *Policy) IsRoleApprover(ctx context.Context, dir Directory, role *Role, userID, requesterID string) (bool, error) {
	if err := p.needDirectory(dir); err != nil {
		return false, err
	}
	u, ok := p.UserByID(userID)
	if !ok {
		u = User{ID: userID}
	}
	m := p.member(ctx, dir, u, requesterID)
	if role.BreakGlass {
		if ok, err := m.in(role.Notify, role); ok || err != nil {
			return ok, err
		}
	}
	for _, s := range stageSubjects(role) {
		if ok, err := m.in(s, role); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// UsesDirectory reports whether the policy names anyone through Entra, so
// that it cannot be used without a Directory.
func (p *Policy) UsesDirectory() bool {
	if p.Operators.Entra() {
		return true
	}
	for i := range p.Roles {
		r := &p.Roles[i]
		if r.Requesters.Entra() || r.Notify.Entra() {
			return true
		}
		for _, s := range stageSubjects(r) {
			if s.Entra() {
				return true
			}
		}
	}
	return false
}

// stageSubjects lists the approvers of every tier of every stage of the
// role, in plan order.
func stageSubjects(role *Role) []Subjects {
	var out []Subjects
	for _, s := range role.Stages {
		for _, t := range s.Tiers {
			out = append(out, t.Approvers)
		}
	}
	return out
}

// stageApprovers is everyone some tier of some stage of the role names, in
// plan order (a person may appear more than once).
func (p *Policy) stageApprovers(role *Role) []User {
	var people []User
	for _, s := range role.Stages {
		for _, t := range s.Tiers {
			people = append(people, p.expand(t.Approvers)...)
		}
	}
	return people
}

// expand turns subjects into users: the named users in the order given,
// then each group's members in directory order, each person once. Names the
// directory does not know are skipped (Parse has refused them already).
func (p *Policy) expand(s Subjects) []User {
	var out []User
	for _, name := range s.Users {
		if u, ok := p.UserByName(name); ok {
			out = append(out, u)
		}
	}
	for _, g := range s.Groups {
		out = append(out, p.members(g)...)
	}
	return dedupe(out)
}

// members lists a group's users in directory order. Group names compare
// case-insensitively, like Entra display names.
func (p *Policy) members(group string) []User {
	var out []User
	for _, u := range p.Users {
		if inGroups(u.Groups, group) {
			out = append(out, u)
		}
	}
	return out
}

// groupNames lists every group some user belongs to, sorted, for messages.
func (p *Policy) groupNames() []string {
	var names []string
	for _, u := range p.Users {
		for _, g := range u.Groups {
			if !inGroups(names, g) {
				names = append(names, g)
			}
		}
	}
	slices.Sort(names)
	return names
}

func inGroups(groups []string, g string) bool {
	return slices.ContainsFunc(groups, func(x string) bool { return strings.EqualFold(x, g) })
}

// dedupe keeps the first of each object id.
func dedupe(users []User) []User {
	out := users[:0:0]
	for _, u := range users {
		if !slices.ContainsFunc(out, func(x User) bool { return strings.EqualFold(x.ID, u.ID) }) {
			out = append(out, u)
		}
	}
	return out
}

func ids(users []User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}
