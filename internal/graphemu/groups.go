package graphemu

import (
	"net/http"
	"strings"
	"time"
)

// groupInstanceView is a privilegedAccessGroupAssignmentScheduleInstance.
// The group API spells its enum values in lower case.
type groupInstanceView struct {
	ID                   string     `json:"id"`
	AccessID             string     `json:"accessId"`
	PrincipalID          string     `json:"principalId"`
	GroupID              string     `json:"groupId"`
	StartDateTime        time.Time  `json:"startDateTime"`
	EndDateTime          *time.Time `json:"endDateTime"`
	AssignmentType       string     `json:"assignmentType"`
	MemberType           string     `json:"memberType"`
	AssignmentScheduleID string     `json:"assignmentScheduleId"`
}

func groupInstanceOf(i Instance) groupInstanceView {
	return groupInstanceView{
		ID: i.ID, AccessID: i.AccessID, PrincipalID: i.PrincipalID, GroupID: i.GroupID,
		StartDateTime: i.StartDateTime, EndDateTime: i.EndDateTime,
		AssignmentType: strings.ToLower(i.AssignmentType), MemberType: strings.ToLower(i.MemberType),
		AssignmentScheduleID: i.RoleAssignmentScheduleID,
	}
}

// groupRequestView is a privilegedAccessGroupAssignmentScheduleRequest.
type groupRequestView struct {
	ID                string       `json:"id"`
	Action            string       `json:"action"`
	AccessID          string       `json:"accessId"`
	PrincipalID       string       `json:"principalId"`
	GroupID           string       `json:"groupId"`
	Justification     string       `json:"justification"`
	IsValidationOnly  bool         `json:"isValidationOnly"`
	Status            string       `json:"status"`
	CreatedDateTime   time.Time    `json:"createdDateTime"`
	CompletedDateTime *time.Time   `json:"completedDateTime"`
	ApprovalID        *string      `json:"approvalId"`
	TargetScheduleID  string       `json:"targetScheduleId"`
	ScheduleInfo      ScheduleInfo `json:"scheduleInfo"`
	TicketInfo        TicketInfo   `json:"ticketInfo"`
}

func groupRequestOf(r ScheduleRequest) groupRequestView {
	return groupRequestView{
		ID: r.ID, Action: r.Action, AccessID: r.AccessID, PrincipalID: r.PrincipalID, GroupID: r.GroupID,
		Justification: r.Justification, IsValidationOnly: r.IsValidationOnly, Status: r.Status,
		CreatedDateTime: r.CreatedDateTime, CompletedDateTime: r.CompletedDateTime, ApprovalID: r.ApprovalID,
		TargetScheduleID: r.TargetScheduleID, ScheduleInfo: r.ScheduleInfo, TicketInfo: r.TicketInfo,
	}
}

// roleEligibilityView is a unifiedRoleEligibilityScheduleInstance.
type roleEligibilityView struct {
	ID                        string     `json:"id"`
	PrincipalID               string     `json:"principalId"`
	RoleDefinitionID          string     `json:"roleDefinitionId"`
	DirectoryScopeID          string     `json:"directoryScopeId"`
	AppScopeID                *string    `json:"appScopeId"`
	StartDateTime             time.Time  `json:"startDateTime"`
	EndDateTime               *time.Time `json:"endDateTime"`
	MemberType                string     `json:"memberType"`
	RoleEligibilityScheduleID string     `json:"roleEligibilityScheduleId"`
}

// groupEligibilityView is a privilegedAccessGroupEligibilityScheduleInstance.
type groupEligibilityView struct {
	ID                    string     `json:"id"`
	AccessID              string     `json:"accessId"`
	PrincipalID           string     `json:"principalId"`
	GroupID               string     `json:"groupId"`
	StartDateTime         time.Time  `json:"startDateTime"`
	EndDateTime           *time.Time `json:"endDateTime"`
	MemberType            string     `json:"memberType"`
	EligibilityScheduleID string     `json:"eligibilityScheduleId"`
}

// groupFilter parses $filter for the group endpoints, which Graph refuses
// without a groupId or principalId clause.
func groupFilter(r *http.Request) ([]filterClause, *apiError) {
	clauses, apiErr := queryFilter(r)
	if apiErr != nil {
		return nil, apiErr
	}
	for _, c := range clauses {
		if c.field == "groupId" || c.field == "principalId" {
			return clauses, nil
		}
	}
	return nil, &apiError{http.StatusBadRequest, CodeUnsupportedQuery,
		"The group endpoints need a $filter on groupId or principalId, e.g. groupId eq '00000000-0000-0000-0000-000000000000' and principalId eq '00000000-0000-0000-0000-000000000000'."}
}

// serveList answers a PIM list endpoint: the $filter as parse reads it,
// the items list finds for it, each in Graph's shape (view), in a
// collection whose @odata.context names path.
func serveList[T, V any](e *Emulator, w http.ResponseWriter, r *http.Request, path string,
	parse func(*http.Request) ([]filterClause, *apiError), list func([]filterClause) []T, view func(T) V) {
	clauses, apiErr := parse(r)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	out := []V{}
	for _, item := range list(clauses) {
		out = append(out, view(item))
	}
	writeJSON(w, http.StatusOK, collection[V]{odataContext(r, path), out})
}

// listGroupInstances serves GET .../privilegedAccess/group/assignmentScheduleInstances.
func (e *Emulator) listGroupInstances(w http.ResponseWriter, r *http.Request, _ string) {
	serveList(e, w, r, "identityGovernance/privilegedAccess/group/assignmentScheduleInstances", groupFilter,
		func(c []filterClause) []Instance { return e.listedInstances(c, true) }, groupInstanceOf)
}

// listGroupScheduleRequests serves GET .../privilegedAccess/group/assignmentScheduleRequests.
func (e *Emulator) listGroupScheduleRequests(w http.ResponseWriter, r *http.Request, _ string) {
	serveList(e, w, r, "identityGovernance/privilegedAccess/group/assignmentScheduleRequests", groupFilter,
		func(c []filterClause) []ScheduleRequest { return e.listedRequests(c, true) }, groupRequestOf)
}

// listRoleEligibilities serves GET .../roleEligibilityScheduleInstances.
func (e *Emulator) listRoleEligibilities(w http.ResponseWriter, r *http.Request, _ string) {
	serveList(e, w, r, "roleManagement/directory/roleEligibilityScheduleInstances", queryFilter,
		func(c []filterClause) []Eligibility { return e.activeEligibilities(c, false) },
		func(el Eligibility) roleEligibilityView {
			return roleEligibilityView{ID: el.ID, PrincipalID: el.PrincipalID, RoleDefinitionID: el.RoleDefinitionID,
				DirectoryScopeID: el.DirectoryScopeID, StartDateTime: el.StartDateTime, EndDateTime: el.EndDateTime,
				MemberType: el.MemberType, RoleEligibilityScheduleID: el.ScheduleID}
		})
}

// listGroupEligibilities serves GET .../privilegedAccess/group/eligibilityScheduleInstances.
func (e *Emulator) listGroupEligibilities(w http.ResponseWriter, r *http.Request, _ string) {
	serveList(e, w, r, "identityGovernance/privilegedAccess/group/eligibilityScheduleInstances", groupFilter,
		func(c []filterClause) []Eligibility { return e.activeEligibilities(c, true) },
		func(el Eligibility) groupEligibilityView {
			return groupEligibilityView{ID: el.ID, AccessID: el.AccessID, PrincipalID: el.PrincipalID, GroupID: el.GroupID,
				StartDateTime: el.StartDateTime, EndDateTime: el.EndDateTime, MemberType: strings.ToLower(el.MemberType), EligibilityScheduleID: el.ScheduleID}
		})
}

// activeEligibilities are the eligibilities of the kind that are in effect
// now and match the filter.
func (e *Emulator) activeEligibilities(clauses []filterClause, group bool) []Eligibility {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now().UTC()
	var out []Eligibility
	for _, el := range e.eligibilities {
		k := el.fields()
		if k.isGroup() != group || el.StartDateTime.After(now) || (el.EndDateTime != nil && !now.Before(*el.EndDateTime)) {
			continue
		}
		if matches(k, clauses) {
			out = append(out, el)
		}
	}
	return out
}
