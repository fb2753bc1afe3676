// Package activities holds everything an access request does to the outside
// world: Microsoft Graph PIM (through package graph) and mail. It knows
// nothing of the state machine.
package activities

import (
	"context"
	"time"

	"github.com/jitflow/jitflow/graph"
)

// Application error types the workflow branches on.
const (
	// ErrBadEmail means the email could not be rendered (an unknown kind).
	ErrBadEmail = "BadEmail"
	// ErrMailRejected means the mail provider refused the message or the
	// credentials for good.
	ErrMailRejected = "MailRejected"
	// ErrMailRateLimited means the mail provider asked to slow down; the
	// next attempt waits until its limit resets.
	ErrMailRateLimited = "MailRateLimited"
	// ErrRemovalTooSoon means Entra refused a removal because the assignment
	// has not been active long enough (Graph's ActiveDurationTooShort). The
	// error's details hold a RemovalTooSoonDetails; the activity sets the
	// next retry to when removal is allowed.
	ErrRemovalTooSoon = "RemovalTooSoon"
)

// EligibilityInput asks whether the principal may hold the target.
type EligibilityInput struct {
	RequestID string `json:"request_id"`
	graph.Assignment
}

// RemovalTooSoonDetails are the details of an ErrRemovalTooSoon activity
// error.
type RemovalTooSoonDetails struct {
	AllowedAt time.Time `json:"allowed_at"`
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
