package graph

import (
	"context"
	"fmt"
	"time"
)

// Application error types callers branch on.
const (
	// ErrRejected means Graph refused the request for good (policy,
	// unknown role, bad principal): retrying cannot help.
	ErrRejected = "GraphRejected"
	// ErrAssignmentHeld means the principal already holds the target
	// through an assignment jitflow did not make (a standing one, or one
	// made in the portal): jitflow neither adopts nor removes it. Its
	// details hold the Instance found.
	ErrAssignmentHeld = "AssignmentHeld"
)

// Access kinds of PIM for Groups.
const (
	AccessMember = "member"
	AccessOwner  = "owner"
)

// Assignment names one principal's hold on one target: an Entra directory
// role at a directory scope ("/" for the tenant, "/administrativeUnits/{id}"
// for an administrative unit), or, when GroupID is set, the membership or
// ownership (AccessID) of a group through PIM for Groups. The JSON names of
// the directory-role fields are those of the first histories.
type Assignment struct {
	PrincipalID      string `json:"principal_id"`
	RoleDefinitionID string `json:"role_definition_id"`
	DirectoryScopeID string `json:"directory_scope_id"`
	// GroupID is the group's object id for a PIM for Groups target; empty
	// for a directory role.
	GroupID string `json:"group_id,omitempty"`
	// AccessID is AccessMember or AccessOwner for a group target.
	AccessID string `json:"access_id,omitempty"`
}

// IsGroup reports whether the target is a PIM for Groups membership.
func (a Assignment) IsGroup() bool { return a.GroupID != "" }

// TargetString names the target for people and logs, e.g.
// "role 62e9... at /" or "member of group 5f1c...".
func (a Assignment) TargetString() string {
	if a.IsGroup() {
		return fmt.Sprintf("%s of group %s", a.AccessID, a.GroupID)
	}
	scope := a.DirectoryScopeID
	if scope == "" {
		scope = "/"
	}
	return fmt.Sprintf("role %s at %s", a.RoleDefinitionID, scope)
}

// ActivateInput asks for a role assignment that Entra itself ends after Duration.
type ActivateInput struct {
	RequestID string `json:"request_id"`
	Assignment
	Duration      time.Duration `json:"duration"`
	Justification string        `json:"justification"`
	Ticket        string        `json:"ticket,omitempty"`
}

// ActivateResult is what Graph answered.
type ActivateResult struct {
	// GraphRequestID is the id of the schedule request Graph created.
	GraphRequestID string    `json:"graph_request_id,omitempty"`
	GraphStatus    string    `json:"graph_status,omitempty"`
	StartDateTime  time.Time `json:"start_date_time"`
	EndDateTime    time.Time `json:"end_date_time"`
	// ScheduleID is the schedule the request created (Graph's
	// targetScheduleId): the instances of this assignment carry it, which
	// tells them apart from assignments jitflow did not make.
	ScheduleID string `json:"schedule_id,omitempty"`
	// AlreadyAssigned is set when Graph said the assignment exists (for
	// example an earlier attempt of this activity succeeded but its answer
	// was lost).
	AlreadyAssigned bool `json:"already_assigned,omitempty"`
	// VisibleAfter is how long after Graph's answer the new instance showed
	// in Graph's instance list.
	VisibleAfter time.Duration `json:"visible_after,omitempty"`
	// NotVisible is set when the instance was still not listed when the
	// provider's bounded wait for it ran out.
	NotVisible bool `json:"not_visible,omitempty"`
	// HTTPRequestIDs are Graph's request-id headers of the calls made, for
	// Microsoft support.
	HTTPRequestIDs []string `json:"http_request_ids,omitempty"`
}

// ExtendInput moves the end of an assignment jitflow made to EndDateTime
// (Graph's adminExtend or adminUpdate with an afterDateTime expiration).
type ExtendInput struct {
	RequestID string `json:"request_id"`
	Assignment
	EndDateTime   time.Time `json:"end_date_time"`
	Justification string    `json:"justification"`
	Ticket        string    `json:"ticket,omitempty"`
}

// ExtendResult is what Graph answered.
type ExtendResult struct {
	GraphRequestID string    `json:"graph_request_id,omitempty"`
	GraphStatus    string    `json:"graph_status,omitempty"`
	EndDateTime    time.Time `json:"end_date_time"`
	HTTPRequestIDs []string  `json:"http_request_ids,omitempty"`
}

// DeactivateInput asks for the assignment to be removed.
type DeactivateInput struct {
	RequestID string `json:"request_id"`
	Assignment
	Reason string `json:"reason,omitempty"`
}

// DeactivateResult is what Graph answered.
type DeactivateResult struct {
	GraphRequestID string `json:"graph_request_id,omitempty"`
	GraphStatus    string `json:"graph_status,omitempty"`
	// AlreadyGone is set when there was nothing left to remove (Entra's own
	// expiration got there first, or an earlier attempt succeeded).
	AlreadyGone    bool     `json:"already_gone,omitempty"`
	HTTPRequestIDs []string `json:"http_request_ids,omitempty"`
}

// Instance is one active assignment as Graph lists it: of a directory role
// (roleAssignmentScheduleInstances) or of a group
// (privilegedAccess/group/assignmentScheduleInstances).
type Instance struct {
	ID               string    `json:"id"`
	PrincipalID      string    `json:"principal_id"`
	RoleDefinitionID string    `json:"role_definition_id"`
	DirectoryScopeID string    `json:"directory_scope_id"`
	GroupID          string    `json:"group_id,omitempty"`
	AccessID         string    `json:"access_id,omitempty"`
	StartDateTime    time.Time `json:"start_date_time"`
	EndDateTime      time.Time `json:"end_date_time"` // zero when permanent
	// AssignmentType is "Assigned" or "Activated".
	AssignmentType string `json:"assignment_type"`
	// MemberType is "Direct", "Group" or "Inherited": only a direct
	// assignment can be removed for the principal.
	MemberType string `json:"member_type,omitempty"`
	// ScheduleID is the schedule the instance belongs to
	// (roleAssignmentScheduleId or assignmentScheduleId).
	ScheduleID string `json:"schedule_id,omitempty"`
}

// Permanent reports whether the instance has no end.
func (i Instance) Permanent() bool { return i.EndDateTime.IsZero() }

// EligibilityResult says whether the principal holds a PIM eligibility for
// the target (roleEligibilityScheduleInstances, or the group equivalent).
type EligibilityResult struct {
	Eligible bool `json:"eligible"`
	// InstanceID, StartDateTime and EndDateTime describe the eligibility
	// found; EndDateTime is zero when it is permanent.
	InstanceID    string    `json:"instance_id,omitempty"`
	StartDateTime time.Time `json:"start_date_time,omitempty"`
	EndDateTime   time.Time `json:"end_date_time,omitempty"`
}

// RemovalTooSoonError is what a PIM provider returns when Entra refuses a
// removal because the assignment is too young (ActiveDurationTooShort).
// AllowedAt is the provider's best knowledge of when removal is allowed
// (the instance's start plus Entra's minimum).
type RemovalTooSoonError struct {
	AllowedAt time.Time
	Err       error
}

func (e *RemovalTooSoonError) Error() string {
	return fmt.Sprintf("Entra allows removing the assignment only from %s: %v", e.AllowedAt.UTC().Format(time.RFC3339), e.Err)
}

func (e *RemovalTooSoonError) Unwrap() error { return e.Err }

// PIM is the privileged-identity provider: Microsoft Graph in production and
// in dev (against the emulator). Every method serves both target kinds
// (directory role at a scope, group membership or ownership).
type PIM interface {
	// Assign creates the assignment with an expiration of in.Duration after
	// now. Once Graph answers Provisioned/Granted it waits (bounded) for the
	// instance to be listed and says how long that took.
	Assign(ctx context.Context, in ActivateInput) (ActivateResult, error)
	// Extend moves the end of an existing assignment to in.EndDateTime.
	Extend(ctx context.Context, in ExtendInput) (ExtendResult, error)
	// Remove ends the assignment. An assignment too young to be removed
	// gives a *RemovalTooSoonError.
	Remove(ctx context.Context, in DeactivateInput) (DeactivateResult, error)
	// Instances lists the principal's active instances of exactly a's
	// target: the role at the scope, or the group with the access.
	Instances(ctx context.Context, a Assignment) ([]Instance, error)
	// Eligible says whether the principal holds an active PIM eligibility
	// for exactly a's target.
	Eligible(ctx context.Context, a Assignment) (EligibilityResult, error)
}
