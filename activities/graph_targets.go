package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
)

// Graph's schedule request actions jitflow sends.
const (
	actionAssign = "adminAssign"
	actionUpdate = "adminUpdate"
	actionRemove = "adminRemove"
)

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
}

// eligibility is one active eligibility instance.
type eligibility struct {
	ID    string
	Start time.Time
	End   time.Time
	match Assignment
}

// maxPages bounds paging, in case a server keeps sending next links.
const maxPages = 100

// page is one page of a Graph collection answer.
type page[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// collect reads every page, starting from first's answer.
func collect[T any, P page[T]](op string, resp P, err error, next func(link string) (P, error)) ([]T, error) {
	var out []T
	for n := 0; ; n++ {
		if err != nil {
			return nil, newGraphError(op, err).classify()
		}
		if any(resp) == nil {
			return out, nil
		}
		out = append(out, resp.GetValue()...)
		link := deref(resp.GetOdataNextLink())
		if link == "" {
			return out, nil
		}
		if n+1 >= maxPages {
			return nil, fmt.Errorf("graph %s: more than %d pages", op, maxPages)
		}
		resp, err = next(link)
	}
}

func odataString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// targetFilter selects the principal's rows for the target; role rows are
// matched to the scope afterwards (Graph filters those by principal).
func targetFilter(a Assignment) string {
	f := "principalId eq " + odataString(a.PrincipalID)
	if a.IsGroup() {
		f = "groupId eq " + odataString(a.GroupID) + " and " + f
	}
	return f
}

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

// post sends one schedule request to the target's endpoint.
func (g *GraphPIM) post(ctx context.Context, c scheduleCall) (scheduleAnswer, error) {
	if c.target.IsGroup() {
		return g.postGroup(ctx, c)
	}
	return g.postRole(ctx, c)
}

func (g *GraphPIM) postRole(ctx context.Context, c scheduleCall) (scheduleAnswer, error) {
	body := models.NewUnifiedRoleAssignmentScheduleRequest()
	action := map[string]models.UnifiedRoleScheduleRequestActions{
		actionAssign: models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS,
		actionUpdate: models.ADMINUPDATE_UNIFIEDROLESCHEDULEREQUESTACTIONS,
		actionRemove: models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS,
	}[c.action]
	body.SetAction(&action)
	principal, role, scope := c.target.PrincipalID, c.target.RoleDefinitionID, directoryScope(c.target)
	body.SetPrincipalId(&principal)
	body.SetRoleDefinitionId(&role)
	body.SetDirectoryScopeId(&scope)
	body.SetJustification(&c.justification)
	if s := requestSchedule(c); s != nil {
		body.SetScheduleInfo(s)
	}
	if t := ticketInfo(c.ticket); t != nil {
		body.SetTicketInfo(t)
	}
	resp, err := g.roles.RoleAssignmentScheduleRequests().Post(ctx, body, nil)
	if err != nil {
		return scheduleAnswer{}, err
	}
	ans := scheduleAnswer{
		ID: deref(resp.GetId()), Status: deref(resp.GetStatus()), TargetScheduleID: deref(resp.GetTargetScheduleId()),
		Justification: deref(resp.GetJustification()), Created: resp.GetCreatedDateTime(),
	}
	if a := resp.GetAction(); a != nil {
		ans.Action = a.String()
	}
	ans.Start, ans.End = scheduleTimes(resp.GetScheduleInfo())
	return ans, nil
}

func (g *GraphPIM) postGroup(ctx context.Context, c scheduleCall) (scheduleAnswer, error) {
	body := models.NewPrivilegedAccessGroupAssignmentScheduleRequest()
	action := map[string]models.ScheduleRequestActions{
		actionAssign: models.ADMINASSIGN_SCHEDULEREQUESTACTIONS,
		actionUpdate: models.ADMINUPDATE_SCHEDULEREQUESTACTIONS,
		actionRemove: models.ADMINREMOVE_SCHEDULEREQUESTACTIONS,
	}[c.action]
	body.SetAction(&action)
	access := models.MEMBER_PRIVILEGEDACCESSGROUPRELATIONSHIPS
	if c.target.AccessID == AccessOwner {
		access = models.OWNER_PRIVILEGEDACCESSGROUPRELATIONSHIPS
	}
	body.SetAccessId(&access)
	principal, group := c.target.PrincipalID, c.target.GroupID
	body.SetPrincipalId(&principal)
	body.SetGroupId(&group)
	body.SetJustification(&c.justification)
	if s := requestSchedule(c); s != nil {
		body.SetScheduleInfo(s)
	}
	if t := ticketInfo(c.ticket); t != nil {
		body.SetTicketInfo(t)
	}
	resp, err := g.governance.AssignmentScheduleRequests().Post(ctx, body, nil)
	if err != nil {
		return scheduleAnswer{}, err
	}
	return groupAnswer(resp), nil
}

func groupAnswer(resp models.PrivilegedAccessGroupAssignmentScheduleRequestable) scheduleAnswer {
	ans := scheduleAnswer{
		ID: deref(resp.GetId()), Status: deref(resp.GetStatus()), TargetScheduleID: deref(resp.GetTargetScheduleId()),
		Justification: deref(resp.GetJustification()), Created: resp.GetCreatedDateTime(),
	}
	if a := resp.GetAction(); a != nil {
		ans.Action = a.String()
	}
	ans.Start, ans.End = scheduleTimes(resp.GetScheduleInfo())
	return ans
}

func scheduleTimes(si models.RequestScheduleable) (start, end *time.Time) {
	if si == nil {
		return nil, nil
	}
	if x := si.GetExpiration(); x != nil {
		end = x.GetEndDateTime()
	}
	return si.GetStartDateTime(), end
}

// instances lists the principal's active instances of exactly the target.
func (g *GraphPIM) instances(ctx context.Context, a Assignment) ([]Instance, error) {
	filter := targetFilter(a)
	var all []Instance
	if a.IsGroup() {
		b := g.governance.AssignmentScheduleInstances()
		resp, err := b.Get(ctx, &identitygovernance.PrivilegedAccessGroupAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &identitygovernance.PrivilegedAccessGroupAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
		rows, err := collect("list group instances", resp, err, func(link string) (models.PrivilegedAccessGroupAssignmentScheduleInstanceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			all = append(all, groupInstance(r))
		}
	} else {
		b := g.roles.RoleAssignmentScheduleInstances()
		resp, err := b.Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
		rows, err := collect("list instances", resp, err, func(link string) (models.UnifiedRoleAssignmentScheduleInstanceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			all = append(all, roleInstance(r))
		}
	}
	var out []Instance
	for _, inst := range all {
		if sameTarget(inst.target(), a) {
			out = append(out, inst)
		}
	}
	return out, nil
}

func roleInstance(v models.UnifiedRoleAssignmentScheduleInstanceable) Instance {
	return Instance{
		ID:               deref(v.GetId()),
		PrincipalID:      deref(v.GetPrincipalId()),
		RoleDefinitionID: deref(v.GetRoleDefinitionId()),
		DirectoryScopeID: deref(v.GetDirectoryScopeId()),
		StartDateTime:    utc(v.GetStartDateTime()),
		EndDateTime:      utc(v.GetEndDateTime()),
		AssignmentType:   deref(v.GetAssignmentType()),
		MemberType:       deref(v.GetMemberType()),
		ScheduleID:       deref(v.GetRoleAssignmentScheduleId()),
	}
}

func groupInstance(v models.PrivilegedAccessGroupAssignmentScheduleInstanceable) Instance {
	inst := Instance{
		ID:            deref(v.GetId()),
		PrincipalID:   deref(v.GetPrincipalId()),
		GroupID:       deref(v.GetGroupId()),
		StartDateTime: utc(v.GetStartDateTime()),
		EndDateTime:   utc(v.GetEndDateTime()),
		ScheduleID:    deref(v.GetAssignmentScheduleId()),
	}
	if x := v.GetAccessId(); x != nil {
		inst.AccessID = x.String()
	}
	if x := v.GetAssignmentType(); x != nil {
		inst.AssignmentType = capitalize(x.String())
	}
	if x := v.GetMemberType(); x != nil {
		inst.MemberType = capitalize(x.String())
	}
	return inst
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

// sameTarget compares principal and target; Graph's ids are
// case-insensitive.
func sameTarget(x, a Assignment) bool {
	if !strings.EqualFold(x.PrincipalID, a.PrincipalID) || x.IsGroup() != a.IsGroup() {
		return false
	}
	if a.IsGroup() {
		return strings.EqualFold(x.GroupID, a.GroupID) && strings.EqualFold(x.AccessID, a.AccessID)
	}
	return strings.EqualFold(x.RoleDefinitionID, a.RoleDefinitionID) && strings.EqualFold(directoryScope(x), directoryScope(a))
}

// eligibilities lists the principal's eligibility instances of exactly the
// target.
func (g *GraphPIM) eligibilities(ctx context.Context, a Assignment) ([]eligibility, error) {
	filter := targetFilter(a)
	var all []eligibility
	if a.IsGroup() {
		b := g.governance.EligibilityScheduleInstances()
		resp, err := b.Get(ctx, &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
		rows, err := collect("list group eligibilities", resp, err, func(link string) (models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			e := eligibility{ID: deref(r.GetId()), Start: utc(r.GetStartDateTime()), End: utc(r.GetEndDateTime()),
				match: Assignment{PrincipalID: deref(r.GetPrincipalId()), GroupID: deref(r.GetGroupId())}}
			if x := r.GetAccessId(); x != nil {
				e.match.AccessID = x.String()
			}
			all = append(all, e)
		}
	} else {
		b := g.roles.RoleEligibilityScheduleInstances()
		resp, err := b.Get(ctx, &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
		rows, err := collect("list eligibilities", resp, err, func(link string) (models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			all = append(all, eligibility{ID: deref(r.GetId()), Start: utc(r.GetStartDateTime()), End: utc(r.GetEndDateTime()),
				match: Assignment{PrincipalID: deref(r.GetPrincipalId()), RoleDefinitionID: deref(r.GetRoleDefinitionId()), DirectoryScopeID: deref(r.GetDirectoryScopeId())}})
		}
	}
	var out []eligibility
	for _, e := range all {
		if sameTarget(e.match, a) {
			out = append(out, e)
		}
	}
	return out, nil
}

// scheduleRequests lists the schedule requests Graph holds for the
// principal and target.
func (g *GraphPIM) scheduleRequests(ctx context.Context, a Assignment) ([]scheduleAnswer, error) {
	filter := targetFilter(a)
	var out []scheduleAnswer
	if a.IsGroup() {
		b := g.governance.AssignmentScheduleRequests()
		resp, err := b.Get(ctx, &identitygovernance.PrivilegedAccessGroupAssignmentScheduleRequestsRequestBuilderGetRequestConfiguration{
			QueryParameters: &identitygovernance.PrivilegedAccessGroupAssignmentScheduleRequestsRequestBuilderGetQueryParameters{Filter: &filter}})
		rows, err := collect("list group schedule requests", resp, err, func(link string) (models.PrivilegedAccessGroupAssignmentScheduleRequestCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			x := Assignment{PrincipalID: deref(r.GetPrincipalId()), GroupID: deref(r.GetGroupId())}
			if acc := r.GetAccessId(); acc != nil {
				x.AccessID = acc.String()
			}
			if sameTarget(x, a) {
				out = append(out, groupAnswer(r))
			}
		}
		return out, nil
	}
	b := g.roles.RoleAssignmentScheduleRequests()
	resp, err := b.Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleRequestsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleRequestsRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list schedule requests", resp, err, func(link string) (models.UnifiedRoleAssignmentScheduleRequestCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		x := Assignment{PrincipalID: deref(r.GetPrincipalId()), RoleDefinitionID: deref(r.GetRoleDefinitionId()), DirectoryScopeID: deref(r.GetDirectoryScopeId())}
		if !sameTarget(x, a) {
			continue
		}
		ans := scheduleAnswer{ID: deref(r.GetId()), Status: deref(r.GetStatus()), TargetScheduleID: deref(r.GetTargetScheduleId()),
			Justification: deref(r.GetJustification()), Created: r.GetCreatedDateTime()}
		if act := r.GetAction(); act != nil {
			ans.Action = act.String()
		}
		out = append(out, ans)
	}
	return out, nil
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
