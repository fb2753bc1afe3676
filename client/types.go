package client

import (
	"encoding/json"
	"time"

	"github.com/jitflow/jitflow/api"
)

// Status is where a request stands, as the API names it.
type Status = api.Status

// The statuses of the API.
const (
	StatusPending      = api.StatusPending
	StatusActivating   = api.StatusActivating
	StatusActive       = api.StatusActive
	StatusDeactivating = api.StatusDeactivating
	StatusExpired      = api.StatusExpired
	StatusRevoked      = api.StatusRevoked
	StatusDenied       = api.StatusDenied
	StatusCanceled     = api.StatusCanceled
	StatusTimedOut     = api.StatusTimedOut
	StatusFailed       = api.StatusFailed
)

// Statuses lists every status in lifecycle order.
var Statuses = api.Statuses

// Request is an access request as the API answers it, with the answer's
// bytes.
type Request struct {
	api.Request
	// Raw is the API's answer as it came, for callers that pass it on.
	Raw json.RawMessage `json:"-"`
}

// The parts of a request and its trail, as the API answers them.
type (
	// Extension is an extension in progress.
	Extension = api.ExtensionView
	// Approver is someone who may decide the current stage.
	Approver = api.Approver
	// Decision is one approval or denial.
	Decision = api.Decision
	// AuditEvent is one entry of a request's audit trail.
	AuditEvent = api.AuditEvent
)

// Audit is the answer of GET /api/v1/requests/{id}/audit, with the
// answer's bytes.
type Audit struct {
	api.AuditTrail
	Raw json.RawMessage `json:"-"`
}

// CreateInput is a new request. Duration is a Go or ISO-8601 duration
// ("1h", "PT1H"); empty asks for the role's default.
type CreateInput struct {
	Role          string
	Duration      string
	Justification string
	Ticket        string
	// IdempotencyKey, when set, makes the call safe to repeat: a repeat
	// answers the request the first call made.
	IdempotencyKey string
}

// ListOptions filter a listing. Zero values do not filter; only the
// filters that are set are sent.
type ListOptions struct {
	Status        Status
	Role          string
	Requester     string // principal name, object id or directory short name
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// Limit is the page size; 0 leaves it to the API.
	Limit int
	// PageToken continues a listing where an earlier page's NextPageToken
	// left it.
	PageToken string
}

// ListPage is one page of a listing, newest first (api.RequestList, with
// the client's Request), with the answer's bytes.
type ListPage struct {
	Requests      []Request       `json:"requests"`
	NextPageToken string          `json:"next_page_token,omitempty"`
	Raw           json.RawMessage `json:"-"`
}
