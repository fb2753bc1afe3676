package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Graph's schedule request actions jitflow sends.
const (
	actionAssign = "adminAssign"
	actionUpdate = "adminUpdate"
	actionRemove = "adminRemove"
)

// kind is one kind of PIM target in Graph: directory roles (roles) or PIM
// for Groups (groups). Client.kindOf picks it once per assignment; every
// PIM operation is written once for both kinds on top of these calls.
type kind interface {
	// post sends one schedule request.
	post(ctx context.Context, c scheduleCall) (scheduleAnswer, error)
	// instances, eligibilities and requests list the rows filter selects;
	// each row names its target, which the caller matches.
	instances(ctx context.Context, filter string) ([]Instance, error)
	eligibilities(ctx context.Context, filter string) ([]eligibility, error)
	requests(ctx context.Context, filter string) ([]scheduleAnswer, error)
	// filter selects a principal's rows of the target from Graph.
	filter(a Assignment) string
	// sameTarget compares the kind's target fields (not the principal).
	sameTarget(x, a Assignment) bool
}

func (g *Client) kindOf(a Assignment) kind {
	if a.IsGroup() {
		return g.groups
	}
	return g.roles
}

// scheduleCall is one schedule request, for either kind of target.
type scheduleCall struct {
	action        string
	target        Assignment
	justification string
	ticket        string
	start         *time.Time    // nil: now
	duration      time.Duration // > 0: an afterDuration expiration
	end           *time.Time    // set: an afterDateTime expiration
}

// scheduleAnswer is what jitflow reads of a schedule request Graph holds.
type scheduleAnswer struct {
	ID               string
	Action           string
	Status           string
	TargetScheduleID string
	Justification    string
	Created          *time.Time
	Start            *time.Time
	End              *time.Time
	target           Assignment
}

// eligibility is one active eligibility instance.
type eligibility struct {
	ID     string
	Start  time.Time
	End    time.Time
	target Assignment
}

// scheduleRequest is what both kinds' schedule requests have in common.
type scheduleRequest interface {
	GetId() *string
	GetStatus() *string
	GetTargetScheduleId() *string
	GetJustification() *string
	GetCreatedDateTime() *time.Time
	GetScheduleInfo() models.RequestScheduleable
}

// answer reads a schedule request of either kind; action and target are
// the kind's own fields.
func answer(r scheduleRequest, action string, target Assignment) scheduleAnswer {
	ans := scheduleAnswer{
		ID: deref(r.GetId()), Action: action, Status: deref(r.GetStatus()), TargetScheduleID: deref(r.GetTargetScheduleId()),
		Justification: deref(r.GetJustification()), Created: r.GetCreatedDateTime(), target: target,
	}
	if si := r.GetScheduleInfo(); si != nil {
		ans.Start = si.GetStartDateTime()
		if x := si.GetExpiration(); x != nil {
			ans.End = x.GetEndDateTime()
		}
	}
	return ans
}

// enumString spells an SDK enum pointer; "" when Graph sent none.
func enumString[E fmt.Stringer](p *E) string {
	if p == nil {
		return ""
	}
	return (*p).String()
}

func (g *Client) post(ctx context.Context, c scheduleCall) (scheduleAnswer, error) {
	return g.kindOf(c.target).post(ctx, c)
}

// instances lists the principal's active instances of exactly the target.
func (g *Client) instances(ctx context.Context, a Assignment) ([]Instance, error) {
	k := g.kindOf(a)
	all, err := k.instances(ctx, k.filter(a))
	return matching(k, all, a, Instance.target), err
}

// eligibilities lists the principal's eligibility instances of exactly
// the target.
func (g *Client) eligibilities(ctx context.Context, a Assignment) ([]eligibility, error) {
	k := g.kindOf(a)
	all, err := k.eligibilities(ctx, k.filter(a))
	return matching(k, all, a, func(e eligibility) Assignment { return e.target }), err
}

// scheduleRequests lists the schedule requests Graph holds for the
// principal and target.
func (g *Client) scheduleRequests(ctx context.Context, a Assignment) ([]scheduleAnswer, error) {
	k := g.kindOf(a)
	all, err := k.requests(ctx, k.filter(a))
	return matching(k, all, a, func(r scheduleAnswer) Assignment { return r.target }), err
}

// matching keeps the rows of exactly a's principal and target; Graph's ids
// are case-insensitive.
func matching[T any](k kind, rows []T, a Assignment, target func(T) Assignment) []T {
	var out []T
	for _, r := range rows {
		if x := target(r); strings.EqualFold(x.PrincipalID, a.PrincipalID) && x.IsGroup() == a.IsGroup() && k.sameTarget(x, a) {
			out = append(out, r)
		}
	}
	return out
}

// maxPages bounds paging, in case a server keeps sending next links.
const maxPages = 100

// page is one page of a Graph collection answer.
type page[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// collect reads every page, starting from the first's answer, up to limit
// pages. A refusal comes back classified for Temporal (see classify).
func collect[T any, P page[T]](op string, limit int, resp P, err error, next func(link string) (P, error)) ([]T, error) {
	rows, err := readPages(op, limit, resp, err, next)
	if ge, ok := err.(*Error); ok {
		return nil, ge.classify()
	}
	return rows, err
}

// readPages is collect for the directory reads: a failed call comes back
// as the *Error itself, so a caller can tell a 404 from throttling.
func readPages[T any, P page[T]](op string, limit int, resp P, err error, next func(link string) (P, error)) ([]T, error) {
	var out []T
	for n := 0; ; n++ {
		if err != nil {
			return nil, newError(op, err)
		}
		if any(resp) == nil {
			return out, nil
		}
		out = append(out, resp.GetValue()...)
		link := deref(resp.GetOdataNextLink())
		if link == "" {
			return out, nil
		}
		if n+1 >= limit {
			return nil, fmt.Errorf("graph %s: more than %d pages", op, limit)
		}
		resp, err = next(link)
	}
}

// convert maps rows of the SDK's model to jitflow's.
func convert[T, U any](rows []T, err error, f func(T) U) ([]U, error) {
	if err != nil {
		return nil, err
	}
	out := make([]U, 0, len(rows))
	for _, r := range rows {
		out = append(out, f(r))
	}
	return out, nil
}

func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func principalFilter(a Assignment) string { return "principalId eq " + odataString(a.PrincipalID) }

func requestSchedule(c scheduleCall) models.RequestScheduleable {
	schedule := models.NewRequestSchedule()
	if c.start != nil {
		schedule.SetStartDateTime(c.start)
	}
	exp := models.NewExpirationPattern()
	switch {
	case c.end != nil:
		t := models.AFTERDATETIME_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&t)
		exp.SetEndDateTime(c.end)
	case c.duration > 0:
		t := models.AFTERDURATION_EXPIRATIONPATTERNTYPE
		exp.SetTypeEscaped(&t)
		exp.SetDuration(serialization.FromDuration(c.duration))
	default:
		return nil
	}
	schedule.SetExpiration(exp)
	return schedule
}

func ticketInfo(number string) models.TicketInfoable {
	if number == "" {
		return nil
	}
	t := models.NewTicketInfo()
	t.SetTicketNumber(&number)
	return t
}

// scheduleBody is what both kinds' schedule request bodies set alike.
type scheduleBody interface {
	SetPrincipalId(*string)
	SetJustification(*string)
	SetScheduleInfo(models.RequestScheduleable)
	SetTicketInfo(models.TicketInfoable)
}

// fill sets the fields both kinds share.
func fill(body scheduleBody, c scheduleCall) {
	principal, justification := c.target.PrincipalID, c.justification
	body.SetPrincipalId(&principal)
	body.SetJustification(&justification)
	if s := requestSchedule(c); s != nil {
		body.SetScheduleInfo(s)
	}
	if t := ticketInfo(c.ticket); t != nil {
		body.SetTicketInfo(t)
	}
}

// capitalize spells the group API's enum values ("assigned", "direct") as
// the directory API's strings ("Assigned", "Direct"), so callers compare
// one spelling.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (i Instance) target() Assignment {
	return Assignment{PrincipalID: i.PrincipalID, RoleDefinitionID: i.RoleDefinitionID, DirectoryScopeID: i.DirectoryScopeID, GroupID: i.GroupID, AccessID: i.AccessID}
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
