package activities

import (
	"context"
	"time"
)

// Kinds of notification email.
const (
	// To approvers.
	MailApprovalNeeded = "approval_needed" // a stage's first tier
	MailEscalated      = "escalated"       // a later tier, because the earlier ones did not answer
	MailReminder       = "reminder"        // the current tier, before it times out
	// To the requester.
	MailRequesterEscalated = "requester_escalated"
	MailApproved           = "approved"
	MailDenied             = "denied"
	MailTimedOut           = "timed_out"
	MailCanceled           = "canceled"
	MailActive             = "active"
	MailExpired            = "expired"
	MailRevoked            = "revoked"
	MailFailed             = "failed"
	// To the requester, about the end of an active grant and its extensions.
	MailEndingSoon        = "ending_soon"         // the grant ends soon; how to extend it
	MailExtensionGranted  = "extension_granted"   // the grant now ends later
	MailExtensionDenied   = "extension_denied"    // an approver denied the extension
	MailExtensionTimedOut = "extension_timed_out" // nobody decided before the last tier ran out
	MailExtensionRefused  = "extension_refused"   // nobody could be asked, or Entra's end could not be moved
	// To the security list.
	MailBreakGlass = "break_glass"
)

// Recipient is someone an email goes to.
type Recipient struct {
	ID    string `json:"id"`
	UPN   string `json:"upn"`
	Email string `json:"email"`
}

// EmailRequest is what an email says about the request.
type EmailRequest struct {
	ID            string        `json:"id"`
	Requester     string        `json:"requester"`
	RequesterID   string        `json:"requester_id,omitempty"`
	Role          string        `json:"role"`
	RoleID        string        `json:"role_definition_id"`
	Scope         string        `json:"directory_scope_id"`
	Duration      time.Duration `json:"duration"`
	Justification string        `json:"justification"`
	Ticket        string        `json:"ticket,omitempty"`
	Stage         int           `json:"stage,omitempty"`
	Stages        int           `json:"stages,omitempty"`
	StageName     string        `json:"stage_name,omitempty"`
	// Approvals is how many approvals the stage needs, Approved how many it has.
	Approvals int `json:"approvals,omitempty"`
	Approved  int `json:"approved,omitempty"`
	// Approvers who can decide the current stage, by principal name.
	Approvers   []string   `json:"approvers,omitempty"`
	EscalatesAt *time.Time `json:"escalates_at,omitempty"`
	// FinalTier is set when the current tier is the stage's last: when it
	// runs out the request times out instead of escalating.
	FinalTier bool       `json:"final_tier,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Extension, in an email about an extension of an active grant, is its
	// 1-based number; in one asking to decide it, Stage and the fields
	// after it describe the extension's approval, not the request's.
	Extension int `json:"extension,omitempty"`
	// ExtensionDuration is how much more time the extension asked for.
	ExtensionDuration time.Duration `json:"extension_duration,omitempty"`
	// EndsIn, in an ending_soon email, is how long the grant had left when
	// the notice was due; ExpiresAt is its end.
	EndsIn time.Duration `json:"ends_in,omitempty"`
	// Actor is who caused the event (a decision, a revoke), by principal name.
	Actor  string `json:"actor,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// EmailInput asks for one notification. Key identifies the event, so retries
// of the activity never send it twice.
type EmailInput struct {
	Kind    string       `json:"kind"`
	To      []Recipient  `json:"to"`
	Request EmailRequest `json:"request"`
	BaseURL string       `json:"base_url,omitempty"`
	Key     string       `json:"key"`
	// LinkExpires is when personal approval links in this email stop
	// working: the end of the stage's last tier (of the extension's stage,
	// for an extension, and never after the grant ends).
	LinkExpires time.Time `json:"link_expires,omitzero"`
}

// EmailResult records what was sent.
type EmailResult struct {
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	SentAt  time.Time `json:"sent_at"`
}

// ApprovalLinks mints the personal link an approver's email carries. The
// link is a bearer credential for one approver, one request and one stage,
// so every approver gets an email of their own.
type ApprovalLinks interface {
	// Link returns an absolute URL of the form <base>/approvals/<token>.
	Link(ctx context.Context, in LinkInput) (string, error)
}

// LinkInput says what one approval link is for. Expires is the end of the
// tier's window (when the request escalates) or the stage's deadline, so a
// link never outlives the chance to decide with it.
type LinkInput struct {
	RequestID string `json:"request_id"`
	Stage     int    `json:"stage"` // 1-based, as approvers see it
	// Extension is the 1-based extension of the grant the link decides; 0
	// for the request itself.
	Extension  int       `json:"extension,omitempty"`
	ApproverID string    `json:"approver_id"`
	Expires    time.Time `json:"expires"`
}
