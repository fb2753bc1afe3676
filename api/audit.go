package api

import "time"

// AuditEvent is one entry of a request's audit trail. Time, Type, Actor and
// Detail are the contract's; the rest were added beside them and are left
// out when a history does not carry them.
type AuditEvent struct {
	Time   time.Time `json:"time"`
	Type   string    `json:"type"`
	Actor  string    `json:"actor"`
	Detail string    `json:"detail"`
	// ID is "<request id>/<history event id>": stable across reads and
	// exports, so a consumer can drop what it already has.
	ID             string `json:"id"`
	HistoryEventID int64  `json:"history_event_id"`
	ActorID        string `json:"actor_id,omitempty"`
	Stage          int    `json:"stage,omitempty"`
	// Comment is an approver's comment or a revoker's reason, as sent.
	Comment string `json:"comment,omitempty"`
	// UpdateID is the Temporal update that carried a decision, cancel or
	// revoke; ClientIdentity is the identity of the Temporal client that
	// sent it (a jitflow server).
	UpdateID       string `json:"update_id,omitempty"`
	ClientIdentity string `json:"client_identity,omitempty"`
	// GraphRequestID and GraphStatus are what Microsoft Graph answered the
	// activation or removal.
	GraphRequestID string `json:"graph_request_id,omitempty"`
	GraphStatus    string `json:"graph_status,omitempty"`
	// Channel is the door an action came through ("api", "email-link"
	// with LinkID, "operator", "portal"; "temporal-cancel" for a cancellation in
	// Temporal itself), Via the identity the jitflow server authenticated
	// behind it, KeyID the key that signed the server's proof of it.
	Channel string `json:"channel,omitempty"`
	LinkID  string `json:"link_id,omitempty"`
	Via     string `json:"via,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
}

// AuditRequest is what a trail knows of its request from the history's
// start.
type AuditRequest struct {
	ID               string    `json:"request_id"`
	Role             string    `json:"role"`
	RoleDefinitionID string    `json:"role_definition_id"`
	DirectoryScopeID string    `json:"directory_scope_id"`
	Requester        string    `json:"requester"`
	RequesterID      string    `json:"requester_id"`
	Duration         string    `json:"duration"`
	Ticket           string    `json:"ticket,omitempty"`
	BreakGlass       bool      `json:"break_glass,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// AuditTrail is the answer of GET /api/v1/requests/{id}/audit, oldest
// event first.
type AuditTrail struct {
	Events []AuditEvent `json:"events"`
	// Request is what the history's start says about the request.
	Request *AuditRequest `json:"request,omitempty"`
}
