package policies

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
)

// Explanation is how the policy, and the directory as it stands now, would
// treat one user's request for one role: what `jitflow policy explain`
// shows an administrator before a real request asks.
type Explanation struct {
	// User is the user explained: from the users list (Listed), else as
	// the directory knows them. Groups holds the list's groups and the
	// directory's, nested groups included.
	User   User
	Listed bool
	Role   *Role

	// MayRequest says whether the user may request the role; NotEligible
	// says why not, in the words a refused request gets.
	MayRequest  bool
	NotEligible string

	// Duration is what a request for the asked duration (0: the role's
	// default) would be granted; DurationError why it would be refused.
	Duration      time.Duration
	DurationError string

	// Refusals are the conditions that would refuse the request, each
	// with its message; AutoApprovedBy the auto-approval rule that would
	// approve it ("" for none); RuleErrors the rules that could not be
	// evaluated. Rules are not evaluated when the duration is refused.
	Refusals       []string
	AutoApprovedBy string
	RuleErrors     []string

	// Stages are who each stage's tiers would ask now; Notify, for a
	// break-glass role, who would be told.
	Stages         []ExplainStage
	Notify         []Asked
	NotifyProblems []string

	// Notes say what the explanation assumed (rule inputs it cannot know).
	Notes []string
}

// ExplainStage is one stage of an Explanation.
type ExplainStage struct {
	Name      string
	Approvals int
	Tiers     []ExplainTier
	Problems  []string // e.g. fewer people than approvals
}

// ExplainTier is who one tier would ask now, the requester left out.
type ExplainTier struct {
	Timeout          time.Duration
	Asked            []Asked
	RequesterLeftOut bool     // the tier names the requester, who never approves their own request
	Problems         []string // e.g. an empty group, no manager, nobody to ask
}

// Asked is one person a tier would ask (or a break-glass role tell), and
// which entry of the policy names them.
type Asked struct {
	User User
	Via  string // e.g. "user bob", "group engineers", "Entra group <id>", "manager"
}

// Explain says how the policy would treat user's request for role for d
// (0: the role's default) at now. user is a short name of the users list,
// a user principal name or an object id; one the list lacks is looked up
// in the directory. Rules are evaluated as for a caller without
// multi-factor sign-in and without app roles, with an empty justification
// and ticket (Notes say so). Errors: an unknown user or role (naming
// --user or --role and what is accepted), ErrNoDirectory, *DirectoryError.
func (p *Policy) Explain(ctx context.Context, dir Directory, user, role string, d time.Duration, now time.Time) (Explanation, error) {
	r, ok := p.Role(role)
	if !ok {
		return Explanation{}, fmt.Errorf("--role %q is not a role of this policy; roles: %s", role, orNone(p.RoleNames()))
	}
	if err := p.needDirectory(dir); err != nil {
		return Explanation{}, err
	}
	requester, listed, err := p.explainUser(ctx, dir, user)
	if err != nil {
		return Explanation{}, err
	}
	m := p.member(ctx, dir, requester, requester.ID)
	if dir != nil {
		groups, err := dir.MemberGroups(ctx, requester.ID)
		if err != nil && !errors.Is(err, ErrNotInDirectory) {
			return Explanation{}, directoryError("the groups of user "+requester.ID, err)
		}
		requester.Groups = mergeGroups(requester.Groups, groups)
		m.person, m.groups, m.groupsRead = requester, groups, true
	}
	e := Explanation{User: requester, Listed: listed, Role: r}
	if r.StepUp.MFA {
		e.Notes = append(e.Notes, "requesters and approvers must sign in with multi-factor authentication (require_mfa)")
	}
	if r.StepUp.AuthContext != "" {
		e.Notes = append(e.Notes, fmt.Sprintf("requesters and approvers must pass Entra authentication context %s (auth_context)", r.StepUp.AuthContext))
	}

	if e.MayRequest, err = m.mayRequest(r); err != nil {
		return Explanation{}, err
	}
	if !e.MayRequest {
		e.NotEligible = notEligible(r, requester).Detail
	}
	if err := p.explainEligibility(ctx, dir, r, &e); err != nil {
		return Explanation{}, err
	}

	e.Duration, err = checkDuration(r, d)
	if err != nil {
		e.DurationError = requestDetail(err)
	} else {
		e.explainRules(r, now)
	}

	if r.BreakGlass {
		e.Notify, e.NotifyProblems, err = p.explainSubjects(ctx, dir, r.Notify, "")
		if err != nil {
			return Explanation{}, err
		}
		if len(e.Notify) == 0 {
			e.NotifyProblems = append(e.NotifyProblems, "nobody would be told of the activation")
		}
		return e, nil
	}
	for _, s := range r.Stages {
		es, err := p.explainStage(ctx, dir, s, requester.ID)
		if err != nil {
			return Explanation{}, err
		}
		e.Stages = append(e.Stages, es)
	}
	return e, nil
}

// explainUser finds --user in the users list (by name, principal name or
// object id), else in the directory.
func (p *Policy) explainUser(ctx context.Context, dir Directory, user string) (User, bool, error) {
	accepted := fmt.Sprintf("give a short name of the policy's users list (%s), a user principal name (name@domain) or an Entra object id (a GUID)", orNone(p.userNames()))
	if strings.TrimSpace(user) == "" {
		return User{}, false, fmt.Errorf("--user is empty; %s", accepted)
	}
	for _, find := range []func(string) (User, bool){p.UserByName, p.UserByUPN, p.UserByID} {
		if u, ok := find(user); ok {
			return u, true, nil
		}
	}
	if !guidPattern.MatchString(user) && !upnPattern.MatchString(user) {
		return User{}, false, fmt.Errorf("--user %q is not in the policy's users list; %s", user, accepted)
	}
	if dir == nil {
		return User{}, false, fmt.Errorf("--user %q is not in the policy's users list, and no directory (Microsoft Graph) is configured to look it up; %s", user, accepted)
	}
	u, err := dir.User(ctx, user)
	switch {
	case errors.Is(err, ErrNotInDirectory):
		return User{}, false, fmt.Errorf("--user %q is neither in the policy's users list nor in the directory; %s", user, accepted)
	case err != nil:
		return User{}, false, directoryError("look up user "+user, err)
	}
	if listed, ok := p.UserByID(u.ID); ok {
		return listed, true, nil
	}
	return User{ID: strings.ToLower(u.ID), UPN: u.UPN, Email: cmp.Or(u.Email, u.UPN)}, false, nil
}

func (p *Policy) userNames() []string {
	names := make([]string, len(p.Users))
	for i, u := range p.Users {
		names[i] = u.Name
	}
	return names
}

// explainEligibility adds what the API checks of a role with
// require_eligibility before it starts a request.
func (p *Policy) explainEligibility(ctx context.Context, dir Directory, r *Role, e *Explanation) error {
	if !r.RequireEligibility {
		return nil
	}
	if dir == nil {
		e.Notes = append(e.Notes, "require_eligibility was not checked: no directory (Microsoft Graph) is configured")
		return nil
	}
	ok, err := dir.Eligible(ctx, e.User.ID, r)
	if err != nil && !errors.Is(err, ErrNotInDirectory) {
		return directoryError(fmt.Sprintf("the PIM eligibilities of user %s for %s", e.User.ID, r.Target()), err)
	}
	if !ok || err != nil {
		refusal := fmt.Sprintf("%s holds no PIM eligibility for %s in Entra, which role %q requires (require_eligibility)", who(e.User), r.Target(), r.Name)
		e.NotEligible = strings.TrimPrefix(e.NotEligible+"; "+refusal, "; ")
		e.MayRequest = false
	}
	return nil
}

// explainRules evaluates the role's conditions (all of them, so each that
// would refuse is listed) and auto-approval rules.
func (e *Explanation) explainRules(r *Role, now time.Time) {
	if now.IsZero() {
		now = time.Now()
	}
	in := RequestInput{Role: r.Name, Duration: e.Duration, Time: now}
	vars := ruleInput{caller: e.User, in: in, role: r.Name, dur: e.Duration}.activation()
	e.Notes = append(e.Notes, fmt.Sprintf("rules were evaluated as for a caller without multi-factor sign-in (caller.mfa false) and without app roles (caller.roles empty), with an empty justification and ticket, at %s",
		now.UTC().Format(time.RFC3339)))
	for i := range r.Conditions {
		c := &r.Conditions[i]
		ok, err := c.eval(vars)
		switch {
		case err != nil:
			e.Refusals = append(e.Refusals, fmt.Sprintf("condition %q could not be checked (%v)", c.Name, err))
		case !ok:
			e.Refusals = append(e.Refusals, fmt.Sprintf("condition %q does not hold: %s", c.Name, c.Message))
		}
	}
	rule, err := autoApproval(r, vars)
	if rule != nil {
		e.AutoApprovedBy = rule.Name
	}
	for _, err := range unjoin(err) {
		e.RuleErrors = append(e.RuleErrors, err.Error())
	}
}

// unjoin splits an errors.Join result.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func requestDetail(err error) string {
	if re := (*RequestError)(nil); errors.As(err, &re) {
		return re.Detail
	}
	return err.Error()
}

// explainStage resolves every tier of a stage as the workflow would when
// the stage starts.
func (p *Policy) explainStage(ctx context.Context, dir Directory, s Stage, requesterID string) (ExplainStage, error) {
	es := ExplainStage{Name: s.Name, Approvals: s.Approvals}
	var distinct []User
	for _, t := range s.Tiers {
		asked, problems, err := p.explainSubjects(ctx, dir, t.Approvers, requesterID)
		if err != nil {
			return ExplainStage{}, err
		}
		et := ExplainTier{Timeout: t.Timeout, Problems: problems}
		for _, a := range asked {
			if strings.EqualFold(a.User.ID, requesterID) {
				et.RequesterLeftOut = true
				continue
			}
			et.Asked = append(et.Asked, a)
			distinct = dedupe(append(distinct, a.User))
		}
		if len(et.Asked) == 0 {
			et.Problems = append(et.Problems, "nobody would be asked in this tier")
		}
		es.Tiers = append(es.Tiers, et)
	}
	switch {
	case len(distinct) == 0:
		es.Problems = append(es.Problems, "nobody would be asked: a request would fail when this stage starts")
	case len(distinct) < s.Approvals:
		es.Problems = append(es.Problems, fmt.Sprintf("needs %s but only %s would be asked: a request would fail when this stage starts",
			plural(s.Approvals, "approval", "approvals"), plural(len(distinct), "person", "people")))
	}
	return es, nil
}

// explainSubjects resolves subjects completely, each person once with the
// first entry naming them: users, groups, Entra users, Entra groups (with
// ResolveApprovers, as the workflow does), the manager of requesterID.
// The requester is kept (callers say they are left out).
func (p *Policy) explainSubjects(ctx context.Context, dir Directory, s Subjects, requesterID string) (asked []Asked, problems []string, err error) {
	add := func(via string, users ...User) {
		for _, u := range users {
			if !slices.ContainsFunc(asked, func(a Asked) bool { return strings.EqualFold(a.User.ID, u.ID) }) {
				asked = append(asked, Asked{User: u, Via: via})
			}
		}
	}
	for _, name := range s.Users {
		if u, ok := p.UserByName(name); ok {
			add("user "+name, u)
		}
	}
	for _, g := range s.Groups {
		members := p.members(g)
		if len(members) == 0 {
			problems = append(problems, fmt.Sprintf("group %s has no members", g))
		}
		add("group "+g, members...)
	}
	for _, ref := range s.UserIDs {
		u, found, err := p.refUser(ctx, dir, ref)
		if err != nil {
			return nil, nil, err
		}
		if !found {
			problems = append(problems, fmt.Sprintf("Entra user %s does not exist in the directory", ref))
			continue
		}
		add("Entra user "+ref, p.known(u))
	}
	var refs []ApproverRefs
	for _, g := range s.GroupIDs {
		refs = append(refs, ApproverRefs{GroupIDs: []string{g}})
	}
	if s.Manager > 0 {
		refs = append(refs, ApproverRefs{Manager: s.Manager})
	}
	for _, ref := range refs {
		// The requester "" keeps everyone: a requester who is also a member
		// is left out by the caller, so that it can say so.
		people, found, err := ResolveApprovers(ctx, dir, requesterIDFor(ref, requesterID), ref)
		switch {
		case errors.Is(err, ErrNoDirectory):
			return nil, nil, err
		case err != nil:
			return nil, nil, directoryError(describeRefs(ref), err)
		}
		problems = append(problems, found...)
		via := describeRefs(ref)
		for _, u := range people {
			add(via, p.known(u))
		}
	}
	return asked, problems, nil
}

// requesterIDFor is whom ResolveApprovers leaves out: nobody for a group
// (the caller reports the requester), the requester for a manager chain,
// which starts from them.
func requesterIDFor(ref ApproverRefs, requesterID string) string {
	if ref.Manager > 0 {
		return requesterID
	}
	return ""
}

func describeRefs(ref ApproverRefs) string {
	switch {
	case len(ref.GroupIDs) > 0:
		return "Entra group " + strings.Join(ref.GroupIDs, ", ")
	case ref.Manager == 1:
		return "manager"
	case ref.Manager == 2:
		return "manager's manager"
	}
	return "nobody"
}

// known is the users list's entry for a directory user, when there is one.
func (p *Policy) known(u User) User {
	if listed, ok := p.UserByID(u.ID); ok {
		return listed
	}
	return u
}

// WriteText writes the explanation as plain text for a terminal. Text from
// the directory and the policy is escaped, so no control character reaches
// the terminal.
func (e Explanation) WriteText(w io.Writer) error {
	var lines []string
	say := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }

	say("User: %s", describeUser(e.User))
	if !e.Listed {
		say("  (not in the policy's users list; found in the directory)")
	}
	if len(e.User.Groups) > 0 {
		say("  groups: %s", strings.Join(e.User.Groups, ", "))
	}
	say("Role: %s (%s)", e.Role.Name, e.Role.Target())
	if e.MayRequest {
		say("May request: yes")
	} else {
		say("May request: NO: %s", e.NotEligible)
	}
	if e.DurationError != "" {
		say("Duration: REFUSED: %s", e.DurationError)
	} else {
		say("Duration: %s would be granted", durations.Format(e.Duration))
	}
	switch {
	case e.DurationError != "":
	case len(e.Refusals) > 0:
		say("Conditions that would REFUSE the request:")
		for _, r := range e.Refusals {
			say("  - %s", r)
		}
	case len(e.Role.Conditions) == 0:
		say("Conditions: none")
	default:
		say("Conditions: all hold")
	}
	switch {
	case e.Role.BreakGlass:
		say("Break-glass: activates at once without approval")
	case e.DurationError != "":
	case e.AutoApprovedBy != "":
		say("Auto-approval: rule %q would approve at once; the stages below would not ask anyone", e.AutoApprovedBy)
	case len(e.Role.AutoApprove) > 0:
		say("Auto-approval: no rule would approve; the stages below decide")
	}
	for _, r := range e.RuleErrors {
		say("  rule error (approves nothing): %s", r)
	}
	if e.Role.BreakGlass {
		say("Would tell:")
		writeAsked(say, e.Notify)
		for _, p := range e.NotifyProblems {
			say("  PROBLEM: %s", p)
		}
	}
	for i, s := range e.Stages {
		say("Stage %d %q: needs %s", i+1, s.Name, plural(s.Approvals, "approval", "approvals"))
		for j, t := range s.Tiers {
			say("  Tier %d, timeout %s, would ask:", j+1, durations.Format(t.Timeout))
			writeAsked(say, t.Asked)
			if t.RequesterLeftOut {
				say("    (the requester is named here and left out: nobody approves their own request)")
			}
			for _, p := range t.Problems {
				say("    PROBLEM: %s", p)
			}
		}
		for _, p := range s.Problems {
			say("  PROBLEM: %s", p)
		}
	}
	for _, n := range e.Notes {
		say("Note: %s", n)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(freetext.EscapeLine(l))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeAsked(say func(string, ...any), asked []Asked) {
	if len(asked) == 0 {
		say("    (nobody)")
	}
	for _, a := range asked {
		say("    - %s (%s)", describeUser(a.User), a.Via)
	}
}

// describeUser reads "alice@example.com (alice, 1111...)".
func describeUser(u User) string {
	var detail []string
	if u.Name != "" {
		detail = append(detail, u.Name)
	}
	if u.ID != "" {
		detail = append(detail, u.ID)
	}
	head := u.UPN
	if head == "" {
		head = "user"
	}
	if len(detail) == 0 {
		return head
	}
	return head + " (" + strings.Join(detail, ", ") + ")"
}
