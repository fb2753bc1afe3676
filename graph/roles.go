package graph

import (
	"context"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
)

// roles are Entra directory roles at a directory scope:
// /roleManagement/directory/roleAssignmentSchedule{Requests,Instances} and
// roleEligibilityScheduleInstances.
type roles struct {
	b *rolemanagement.DirectoryRequestBuilder
}

var roleActions = map[string]models.UnifiedRoleScheduleRequestActions{
	actionAssign: models.ADMINASSIGN_UNIFIEDROLESCHEDULEREQUESTACTIONS,
	actionUpdate: models.ADMINUPDATE_UNIFIEDROLESCHEDULEREQUESTACTIONS,
	actionRemove: models.ADMINREMOVE_UNIFIEDROLESCHEDULEREQUESTACTIONS,
}

// filter selects by principal only: the rows are matched to the scope
// afterwards.
func (roles) filter(a Assignment) string { return principalFilter(a) }

func (roles) sameTarget(x, a Assignment) bool {
	return strings.EqualFold(x.RoleDefinitionID, a.RoleDefinitionID) && strings.EqualFold(directoryScope(x), directoryScope(a))
}

func (r roles) post(ctx context.Context, c scheduleCall) (scheduleAnswer, error) {
	body := models.NewUnifiedRoleAssignmentScheduleRequest()
	action := roleActions[c.action]
	body.SetAction(&action)
	role, scope := c.target.RoleDefinitionID, directoryScope(c.target)
	body.SetRoleDefinitionId(&role)
	body.SetDirectoryScopeId(&scope)
	fill(body, c)
	resp, err := r.b.RoleAssignmentScheduleRequests().Post(ctx, body, nil)
	if err != nil {
		return scheduleAnswer{}, err
	}
	return roleAnswer(resp), nil
}

func roleAnswer(r models.UnifiedRoleAssignmentScheduleRequestable) scheduleAnswer {
	return answer(r, enumString(r.GetAction()), Assignment{PrincipalID: deref(r.GetPrincipalId()),
		RoleDefinitionID: deref(r.GetRoleDefinitionId()), DirectoryScopeID: deref(r.GetDirectoryScopeId())})
}

func (r roles) instances(ctx context.Context, filter string) ([]Instance, error) {
	b := r.b.RoleAssignmentScheduleInstances()
	resp, err := b.Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list instances", maxPages, resp, err, func(link string) (models.UnifiedRoleAssignmentScheduleInstanceCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	return convert(rows, err, func(v models.UnifiedRoleAssignmentScheduleInstanceable) Instance {
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
	})
}

func (r roles) eligibilities(ctx context.Context, filter string) ([]eligibility, error) {
	b := r.b.RoleEligibilityScheduleInstances()
	resp, err := b.Get(ctx, &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list eligibilities", maxPages, resp, err, func(link string) (models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	return convert(rows, err, func(v models.UnifiedRoleEligibilityScheduleInstanceable) eligibility {
		return eligibility{ID: deref(v.GetId()), Start: utc(v.GetStartDateTime()), End: utc(v.GetEndDateTime()),
			target: Assignment{PrincipalID: deref(v.GetPrincipalId()), RoleDefinitionID: deref(v.GetRoleDefinitionId()), DirectoryScopeID: deref(v.GetDirectoryScopeId())}}
	})
}

func (r roles) requests(ctx context.Context, filter string) ([]scheduleAnswer, error) {
	b := r.b.RoleAssignmentScheduleRequests()
	resp, err := b.Get(ctx, &rolemanagement.DirectoryRoleAssignmentScheduleRequestsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleRequestsRequestBuilderGetQueryParameters{Filter: &filter}})
	rows, err := collect("list schedule requests", maxPages, resp, err, func(link string) (models.UnifiedRoleAssignmentScheduleRequestCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	return convert(rows, err, roleAnswer)
}
