// Package api holds the wire types of jitflow's HTTP API
// (server/openapi.yaml): what the server answers and accepts, and what the
// Go client decodes and sends. The server, the client and the workflow's
// request view use these definitions, so the three cannot drift apart; a
// test holds them to the OpenAPI document.
package api

// Status is where a request stands. The values are part of the public contract.
type Status string

// The statuses of the contract.
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

// Decisions an approver can make.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// Audit event types of the contract, and those jitflow added beside them.
const (
	EventRequested   = "requested"
	EventNotified    = "notified"
	EventEscalated   = "escalated"
	EventApproved    = "approved"
	EventDenied      = "denied"
	EventActivated   = "activated"
	EventDeactivated = "deactivated"
	EventExpired     = "expired"
	EventRevoked     = "revoked"
	EventCanceled    = "canceled"
	EventTimedOut    = "timed_out"
	EventFailed      = "failed"
	// EventAlreadyHeld: the requester held the role before jitflow; that
	// assignment is left alone and never removed.
	EventAlreadyHeld = "already_held"
	// EventReassigned: the requester's own assignment, which the grant
	// rode on, ended before the grant, and jitflow assigned the role for
	// the rest of it (it now removes it at the grant's end).
	EventReassigned = "reassigned"
	// EventDeactivating: the removal waits for Entra (its minimum active time).
	EventDeactivating = "deactivating"
	// EventAlert: the removal keeps failing; someone should look.
	EventAlert = "alert"
	// EventApproversResolved: the directory named the approvers of a
	// stage when it started (groups' members, the requester's manager).
	// The trail reads it from the ResolveApprovers activity in history.
	EventApproversResolved = "approvers_resolved"
	// EventExtensionRequested, EventExtended and EventExtensionRefused
	// follow an extension from the ask to its outcome.
	EventExtensionRequested = "extension_requested"
	EventExtended           = "extended"
	EventExtensionRefused   = "extension_refused"
	// Types the trail adds for acts on the workflow in Temporal itself,
	// which the workflow code never sees as such.
	EventCancelRequested = "cancel_requested"
	EventTerminated      = "terminated"
	EventWorkflowFailed  = "workflow_failed"
	EventWorkflowTimeout = "workflow_timed_out"
)

// ActorSystem is the actor of events no person caused.
const ActorSystem = "system"
