// Package activities holds everything an access request does to the outside
// world: Microsoft Graph PIM and mail. It knows nothing of the state machine.
package activities

import (
	"context"
	"time"
)

// Application error types the workflow branches on.
const (
	// ErrGraphRejected means Graph refused the request for good (policy,
	// unknown role, bad principal): retrying cannot help.
	ErrGraphRejected = "GraphRejected"
	// ErrBadEmail means the email could not be rendered (an unknown kind).
	ErrBadEmail = "BadEmail"
	// ErrMailRejected means the mail provider refused the message or the
	// credentials for good.
	ErrMailRejected = "MailRejected"
	// ErrMailRateLimited means the mail provider asked to slow down; the
	// next attempt waits until its limit resets.
	ErrMailRateLimited = "MailRateLimited"
)

// Assignment names one principal's hold on one role at one scope.
type Assignment struct {
	PrincipalID      string `json:"principal_id"`
	RoleDefinitionID string `json:"role_definition_id"`
	DirectoryScopeID string `json:"directory_scope_id"`
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
	GraphRequestID string    `json:"graph_request_id,omitempty"`
	GraphStatus    string    `json:"graph_status,omitempty"`
	StartDateTime  time.Time `json:"start_date_time"`
	EndDateTime    time.Time `json:"end_date_time"`
	// AlreadyAssigned is set when Graph said the assignment exists (for
	// example an earlier attempt of this activity succeeded but its answer
	// was lost).
	AlreadyAssigned bool `json:"already_assigned,omitempty"`
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
	AlreadyGone bool `json:"already_gone,omitempty"`
}

// Instance is one active role assignment as Graph lists it.
type Instance struct {
	ID               string    `json:"id"`
	PrincipalID      string    `json:"principal_id"`
	RoleDefinitionID string    `json:"role_definition_id"`
	DirectoryScopeID string    `json:"directory_scope_id"`
	StartDateTime    time.Time `json:"start_date_time"`
	EndDateTime      time.Time `json:"end_date_time"` // zero when permanent
	AssignmentType   string    `json:"assignment_type"`
}

// PIM is the privileged-identity provider: Microsoft Graph in production and
// in dev (against the emulator).
type PIM interface {
	// Assign creates the assignment with an expiration of d after now.
	Assign(ctx context.Context, in ActivateInput) (ActivateResult, error)
	// Remove ends the assignment.
	Remove(ctx context.Context, in DeactivateInput) (DeactivateResult, error)
	// ActiveInstances lists the principal's active assignments.
	ActiveInstances(ctx context.Context, principalID string) ([]Instance, error)
}

// Message is one email.
type Message struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	HTML    string   `json:"html"`
	// Key is unique per email event and recipient: a mailer sends a key at
	// most once, so a retried activity does not send the same email twice.
	Key string `json:"-"`
	// Kind and RequestID tag the message at the mail provider.
	Kind      string `json:"-"`
	RequestID string `json:"-"`
}

// Mailer delivers email.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}
