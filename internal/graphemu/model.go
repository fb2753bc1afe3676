package graphemu

import (
	"strings"
	"time"
)

// Graph's values for the fields the emulator sets.
const (
	ActionAdminAssign = "adminAssign"
	ActionAdminRemove = "adminRemove"
	ActionAdminUpdate = "adminUpdate"
	ActionAdminExtend = "adminExtend"

	StatusProvisioned = "Provisioned"
	StatusRevoked     = "Revoked"
	StatusGranted     = "Granted"
	// StatusFailed marks a request Graph refused. Real Graph keeps no record
	// of those; the emulator keeps them for Requests() only and never lists them.
	StatusFailed = "Failed"

	ExpirationAfterDuration = "afterDuration"
	ExpirationAfterDateTime = "afterDateTime"
	ExpirationNone          = "noExpiration"

	AssignmentTypeAssigned = "Assigned"
	// AssignmentTypeActivated marks the principal's own PIM activation
	// (selfActivate), which the emulator only seeds.
	AssignmentTypeActivated = "Activated"
	MemberTypeDirect        = "Direct"

	// AccessMember and AccessOwner are PIM for Groups' accessId values.
	AccessMember = "member"
	AccessOwner  = "owner"
)

// Instance is a unifiedRoleAssignmentScheduleInstance: one active assignment.
// Times are UTC; EndDateTime is nil for a permanent assignment.
type Instance struct {
	ID                       string     `json:"id"`
	PrincipalID              string     `json:"principalId"`
	RoleDefinitionID         string     `json:"roleDefinitionId"`
	DirectoryScopeID         string     `json:"directoryScopeId"`
	AppScopeID               *string    `json:"appScopeId"`
	StartDateTime            time.Time  `json:"startDateTime"`
	EndDateTime              *time.Time `json:"endDateTime"`
	AssignmentType           string     `json:"assignmentType"`
	MemberType               string     `json:"memberType"`
	RoleAssignmentOriginID   string     `json:"roleAssignmentOriginId"`
	RoleAssignmentScheduleID string     `json:"roleAssignmentScheduleId"`
	// GroupID and AccessID are set on a PIM for Groups assignment, which
	// has no role or scope; the group endpoints show it in their shape.
	GroupID  string `json:"groupId,omitempty"`
	AccessID string `json:"accessId,omitempty"`
}

// ScheduleRequest is a unifiedRoleAssignmentScheduleRequest as Graph answers it.
type ScheduleRequest struct {
	ID                string       `json:"id"`
	Action            string       `json:"action"`
	PrincipalID       string       `json:"principalId"`
	RoleDefinitionID  string       `json:"roleDefinitionId"`
	DirectoryScopeID  string       `json:"directoryScopeId"`
	AppScopeID        *string      `json:"appScopeId"`
	Justification     string       `json:"justification"`
	IsValidationOnly  bool         `json:"isValidationOnly"`
	Status            string       `json:"status"`
	CreatedDateTime   time.Time    `json:"createdDateTime"`
	CompletedDateTime *time.Time   `json:"completedDateTime"`
	ApprovalID        *string      `json:"approvalId"`
	TargetScheduleID  string       `json:"targetScheduleId"`
	ScheduleInfo      ScheduleInfo `json:"scheduleInfo"`
	TicketInfo        TicketInfo   `json:"ticketInfo"`
	GroupID           string       `json:"groupId,omitempty"`
	AccessID          string       `json:"accessId,omitempty"`
}

// ScheduleInfo is Graph's requestSchedule.
type ScheduleInfo struct {
	StartDateTime *time.Time `json:"startDateTime"`
	Recurrence    any        `json:"recurrence"`
	Expiration    Expiration `json:"expiration"`
}

// Expiration is Graph's expirationPattern. Duration is ISO 8601 ("PT1H").
type Expiration struct {
	Type        string     `json:"type"`
	EndDateTime *time.Time `json:"endDateTime"`
	Duration    *string    `json:"duration"`
}

// TicketInfo is Graph's ticketInfo.
type TicketInfo struct {
	TicketNumber *string `json:"ticketNumber"`
	TicketSystem *string `json:"ticketSystem"`
}

// RoleDefinition is the part of a unifiedRoleDefinition the emulator serves.
type RoleDefinition struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	TemplateID  string `json:"templateId"`
	IsBuiltIn   bool   `json:"isBuiltIn"`
	IsEnabled   bool   `json:"isEnabled"`
}

// Eligibility is an eligibility schedule instance: the principal may hold
// the role at the scope, or the group access, while it lasts. EndDateTime
// is nil for a permanent eligibility.
type Eligibility struct {
	ID               string     `json:"id"`
	PrincipalID      string     `json:"principalId"`
	RoleDefinitionID string     `json:"roleDefinitionId,omitempty"`
	DirectoryScopeID string     `json:"directoryScopeId,omitempty"`
	GroupID          string     `json:"groupId,omitempty"`
	AccessID         string     `json:"accessId,omitempty"`
	StartDateTime    time.Time  `json:"startDateTime"`
	EndDateTime      *time.Time `json:"endDateTime"`
	MemberType       string     `json:"memberType"`
	ScheduleID       string     `json:"scheduleId"`
}

// assignmentKey names what an assignment is held on; Graph compares ids
// case-insensitively. A group target has group and access, a role target
// role and scope.
type assignmentKey struct{ principal, role, scope, group, access string }

func (i Instance) fields() assignmentKey {
	return assignmentKey{i.PrincipalID, i.RoleDefinitionID, i.DirectoryScopeID, i.GroupID, i.AccessID}
}

func (r ScheduleRequest) fields() assignmentKey {
	return assignmentKey{r.PrincipalID, r.RoleDefinitionID, r.DirectoryScopeID, r.GroupID, r.AccessID}
}

func (e Eligibility) fields() assignmentKey {
	return assignmentKey{e.PrincipalID, e.RoleDefinitionID, e.DirectoryScopeID, e.GroupID, e.AccessID}
}

func (k assignmentKey) isGroup() bool { return k.group != "" }

// same compares two keys as Graph does, ignoring case.
func (k assignmentKey) same(o assignmentKey) bool {
	return strings.EqualFold(k.principal, o.principal) && strings.EqualFold(k.role, o.role) &&
		strings.EqualFold(k.scope, o.scope) && strings.EqualFold(k.group, o.group) && strings.EqualFold(k.access, o.access)
}
