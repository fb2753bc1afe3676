package client

import (
	"encoding/json"
	"time"
)

// Status is where a request stands, as the API names it.
type Status string

// The statuses of the API.
const (
	StatusPending      Status = "pending_approval"
	StatusActivating   Status = "activating"
	StatusActive       Status = "active"
	StatusDeactivating Status = "deactivating"
	StatusExpired      Status = "expired"
	StatusRevoked      Status = "revoked"
	StatusDenied       Status = "denied"
	StatusCanceled     Status = "canceled"
	StatusTimedOut     Status = "timed_out"
	StatusFailed       Status = "failed"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{
	StatusPending, StatusActivating, StatusActive, StatusDeactivating,
	StatusExpired, StatusRevoked, StatusDenied, StatusCanceled, StatusTimedOut, StatusFailed,
}

// Terminal reports whether a request in this status will never change again.
func (s Status) Terminal() bool {
	switch s {
	case StatusExpired, StatusRevoked, StatusDenied, StatusCanceled, StatusTimedOut, StatusFailed:
		return true
	}
	return false
}

// Settled reports whether a request has left the approval and activation
// steps: it is active or has ended.
func (s Status) Settled() bool {
	return s != StatusPending && s != StatusActivating
}

// Request is an access request as the API answers it.
type Request struct {
	ID               string     `json:"id"`
	Status           Status     `json:"status"`
	Requester        string     `json:"requester"`
	RequesterID      string     `json:"requester_id"`
	Role             string     `json:"role"`
	RoleDefinitionID string     `json:"role_definition_id"`
	DirectoryScopeID string     `json:"directory_scope_id"`
	Duration         string     `json:"duration"`
	DurationSeconds  int64      `json:"duration_seconds"`
	Justification    string     `json:"justification"`
	Ticket           string     `json:"ticket"`
	BreakGlass       bool       `json:"break_glass"`
	CreatedAt        time.Time  `json:"created_at"`
	Stage            int        `json:"stage"`  // 1-based current stage; 0 when there is none
	Stages           int        `json:"stages"` // number of approval stages
	Tier             int        `json:"tier"`   // 1-based escalation tier of the current stage
	Approvers        []Approver `json:"approvers"`
	EscalatesAt      *time.Time `json:"escalates_at"`
	Decisions        []Decision `json:"decisions"`
	ActivatedAt      *time.Time `json:"activated_at"`
	ExpiresAt        *time.Time `json:"expires_at"`
	EndedAt          *time.Time `json:"ended_at"`
	Reason           string     `json:"reason,omitempty"`
	// AutoApprovedBy is the policy rule that approved the request, if one did.
	AutoApprovedBy string `json:"auto_approved_by,omitempty"`
	// AlreadyHeld is set when the requester held the role before jitflow
	// granted it: that assignment stays when the grant ends.
	AlreadyHeld bool `json:"already_held,omitempty"`
	// Extension is the extension asked for and not yet settled; Extensions
	// counts those granted.
	Extension  *Extension `json:"extension,omitempty"`
	Extensions int        `json:"extensions,omitempty"`

	// Raw is the API's answer as it came, for callers that pass it on.
	Raw json.RawMessage `json:"-"`
}

// GrantDuration is how long the role is (or was to be) held.
func (r Request) GrantDuration() time.Duration {
	return time.Duration(r.DurationSeconds) * time.Second
}

// Extension is an extension in progress.
type Extension struct {
	Number        int        `json:"number"`
	Status        Status     `json:"status"`
	Duration      string     `json:"duration"`
	Justification string     `json:"justification"`
	RequestedAt   time.Time  `json:"requested_at"`
	Stage         int        `json:"stage"`
	Approvers     []Approver `json:"approvers"`
	EscalatesAt   *time.Time `json:"escalates_at"`
}

// Approver is someone who may decide the current stage.
type Approver struct {
	Approver   string `json:"approver"`
	ApproverID string `json:"approver_id"`
}

// Decision is one approval or denial.
type Decision struct {
	Approver   string    `json:"approver"`
	ApproverID string    `json:"approver_id"`
	Decision   string    `json:"decision"`
	Comment    string    `json:"comment"`
	Time       time.Time `json:"time"`
	Stage      int       `json:"stage"`
}

// AuditEvent is one entry of a request's audit trail.
type AuditEvent struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Actor   string    `json:"actor"`
	ActorID string    `json:"actor_id,omitempty"`
	Detail  string    `json:"detail"`
	Stage   int       `json:"stage,omitempty"`
}

// Audit is the answer of GET /api/v1/requests/{id}/audit.
type Audit struct {
	Events []AuditEvent    `json:"events"`
	Raw    json.RawMessage `json:"-"`
}

// CreateInput is a new request. Duration is a Go or ISO-8601 duration
// ("1h", "PT1H"); empty asks for the role's default.
type CreateInput struct {
	Role          string `json:"role"`
	Duration      string `json:"duration,omitempty"`
	Justification string `json:"justification"`
	Ticket        string `json:"ticket,omitempty"`
	// IdempotencyKey, when set, makes the call safe to repeat: a repeat
	// answers the request the first call made.
	IdempotencyKey string `json:"-"`
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

// ListPage is one page of a listing, newest first.
type ListPage struct {
	Requests      []Request       `json:"requests"`
	NextPageToken string          `json:"next_page_token,omitempty"`
	Raw           json.RawMessage `json:"-"`
}
