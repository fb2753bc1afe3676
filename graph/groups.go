package graph

import (
	"context"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// groups are PIM for Groups memberships and ownerships:
// /identityGovernance/privilegedAccess/group/assignmentSchedule{Requests,Instances}
// and eligibilityScheduleInstances.
type groups struct {
	b *identitygovernance.PrivilegedAccessGroupRequestBuilder
}

var groupActions = map[string]models.ScheduleRequestActions{
	actionAssign: models.ADMINASSIGN_SCHEDULEREQUESTACTIONS,
	actionUpdate: models.ADMINUPDATE_SCHEDULEREQUESTACTIONS,
	actionRemove: models.ADMINREMOVE_SCHEDULEREQUESTACTIONS,
}

func (groups) filter(a Assignment) string {
	return "groupId eq " + odataString(a.GroupID) + " and " + principalFilter(a)
}

func (groups) sameTarget(x, a Assignment) bool {
	return strings.EqualFold(x.GroupID, a.GroupID) && strings.EqualFold(x.AccessID, a.AccessID)
}

func (g groups) post(ctx context.Context, c scheduleCall) (scheduleAnswer, error) {
	body := models.NewPrivilegedAccessGroupAssignmentScheduleRequest()
	action := groupActions[c.action]
	body.SetAction(&action)
	access := models.MEMBER_PRIVILEGEDACCESSGROUPRELATIONSHIPS
	if c.target.AccessID == AccessOwner {
		access = models.OWNER_PRIVILEGEDACCESSGROUPRELATIONSHIPS
	}
	body.SetAccessId(&access)
	group := c.target.GroupID
	body.SetGroupId(&group)
	fill(body, c)
	resp, err := g.b.AssignmentScheduleRequests().Post(ctx, body, nil)
	if err != nil {
		return scheduleAnswer{}, err
	}
	return groupAnswer(resp), nil
}

func groupAnswer(r models.PrivilegedAccessGroupAssignmentScheduleRequestable) scheduleAnswer {
	return answer(r, enumString(r.GetAction()), Assignment{PrincipalID: deref(r.GetPrincipalId()),
		GroupID: deref(r.GetGroupId()), AccessID: enumString(r.GetAccessId())})
}

func (g groups) instances(ctx context.Context, filter string) ([]Instance, error) {
	b := g.b.AssignmentScheduleInstances()
	resp, err := b.Get(ctx, &identitygovernance.PrivilegedAccessGroupAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &identitygovernance.PrivilegedAccessGroupAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list group instances", maxPages, resp, err, func(link string) (models.PrivilegedAccessGroupAssignmentScheduleInstanceCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	return convert(rows, err, func(v models.PrivilegedAccessGroupAssignmentScheduleInstanceable) Instance {
		return Instance{
			ID:             deref(v.GetId()),
			PrincipalID:    deref(v.GetPrincipalId()),
			GroupID:        deref(v.GetGroupId()),
			AccessID:       enumString(v.GetAccessId()),
			StartDateTime:  utc(v.GetStartDateTime()),
			EndDateTime:    utc(v.GetEndDateTime()),
			AssignmentType: capitalize(enumString(v.GetAssignmentType())),
			MemberType:     capitalize(enumString(v.GetMemberType())),
			ScheduleID:     deref(v.GetAssignmentScheduleId()),
		}
	})
}

func (g groups) eligibilities(ctx context.Context, filter string) ([]eligibility, error) {
	b := g.b.EligibilityScheduleInstances()
	resp, err := b.Get(ctx, &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list group eligibilities", maxPages, resp, err, func(link string) (models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	return convert(rows, err, func(v models.PrivilegedAccessGroupEligibilityScheduleInstanceable) eligibility {
		return eligibility{ID: deref(v.GetId()), Start: utc(v.GetStartDateTime()), End: utc(v.GetEndDateTime()),
			target: Assignment{PrincipalID: deref(v.GetPrincipalId()), GroupID: deref(v.GetGroupId()), AccessID: enumString(v.GetAccessId())}}
	})
}

func (g groups) requests(ctx context.Context, filter string) ([]scheduleAnswer, error) {
	b := g.b.AssignmentScheduleRequests()
	resp, err := b.Get(ctx, &identitygovernance.PrivilegedAccessGroupAssignmentScheduleRequestsRequestBuilderGetRequestConfiguration{
		QueryParameters: &identitygovernance.PrivilegedAccessGroupAssignmentScheduleRequestsRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list group schedule requests", maxPages, resp, err, func(link string) (models.PrivilegedAccessGroupAssignmentScheduleRequestCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	return convert(rows, err, groupAnswer)
}
