// Package workflows holds the access-request state machine: one durable
// Temporal workflow per request, from submission to removal of the role.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
)

// Names that clients, workers and operators share.
const (
	// WorkflowName is the Temporal workflow type of an access request.
	WorkflowName = "AccessRequest"
	// TaskQueue is where jitflow workers poll for workflow and activity tasks.
	TaskQueue = "jitflow"
	// QueryRequest returns the Request view of a running or closed request.
	QueryRequest = "request"
	// UpdateDecide records an approver's decision (DecideInput).
	UpdateDecide = "decide"
	// UpdateCancel lets the requester withdraw a pending request (CancelInput).
	UpdateCancel = "cancel"
	// UpdateRevoke ends an active grant early (RevokeInput).
	UpdateRevoke = "revoke"
	// UpdateExtend asks for more time on an active grant (ExtendInput).
	UpdateExtend = "extend"
)

// Change ids of versioned workflow changes (docs/workflow-changes.md).
const (
	// ChangeReminders adds a reminder timer and email to tiers whose plan
	// asks for one.
	ChangeReminders = "tier-reminders"
	// ChangeEndingSoon adds, to the hold of a grant whose plan asks for an
	// end notice, a timer EndNoticeBefore ahead of each end and the
	// ending_soon email when it fires.
	ChangeEndingSoon = "ending-soon-notice"
	// ChangeExtensionOutcomeEmails emails the requester how each extension
	// ended: extension_granted, _denied, _timed_out or _refused.
	ChangeExtensionOutcomeEmails = "extension-outcome-emails"
)

// Application error types carried by rejected updates, so the API can map
// them to HTTP statuses without parsing messages.
const (
	ErrForbidden = "Forbidden" // 403: not allowed for this caller
	ErrConflict  = "Conflict"  // 409: wrong state for this action
	ErrInvalid   = "Invalid"   // 400: malformed update input
	// ErrStarting: the request's first workflow task has not recorded it
	// yet; the caller tries again a moment later (the API does).
	ErrStarting = "Starting"
)

// Status is where a request stands (api.Status).
type Status = api.Status

// Search attributes. Only ids and enums: visibility stores them unencrypted,
// so no emails, names or justifications go here.
var (
	SearchStatus      = temporal.NewSearchAttributeKeyKeyword("JitflowStatus")
	SearchRole        = temporal.NewSearchAttributeKeyKeyword("JitflowRole")
	SearchRequesterID = temporal.NewSearchAttributeKeyKeyword("JitflowRequesterId")
	SearchApproverIDs = temporal.NewSearchAttributeKeyKeywordList("JitflowApproverIds")
)

// Person is a user as the workflow knows them: the immutable Entra object id
// decides, the principal name and email are for display and delivery.
type Person struct {
	ID    string `json:"id"`
	UPN   string `json:"upn"`
	Email string `json:"email"`
}

// Target is what a request asks for: an Entra directory role at a
// directory scope, or (GroupID set) the membership or ownership of a group
// through PIM for Groups.
type Target struct {
	Role             string `json:"role"` // the policy's role name
	RoleDefinitionID string `json:"role_definition_id"`
	DirectoryScopeID string `json:"directory_scope_id"`
	GroupID          string `json:"group_id,omitempty"`
	AccessID         string `json:"access_id,omitempty"` // graph.AccessMember or AccessOwner
}

// Extension rules of a request's role.
type Extension struct {
	// WithoutApprovalUpTo: an extension of at most this long is granted
	// without approval; longer ones go through the role's stages again.
	// Zero: every extension needs approval.
	WithoutApprovalUpTo time.Duration `json:"without_approval_up_to,omitempty"`
	// MaxDuration bounds one extension (the role's maximum duration).
	MaxDuration time.Duration `json:"max_duration,omitempty"`
}

// Tier is one step of an escalation chain: its approvers may decide once the
// tier is reached, and the chain moves on when Timeout passes without the
// stage completing.
type Tier struct {
	Approvers []Person      `json:"approvers"`
	Timeout   time.Duration `json:"timeout"`
	// RemindBefore, when positive, reminds the approvers who may decide and
	// have not this long before the tier runs out.
	RemindBefore time.Duration `json:"remind_before,omitempty"`
	// Directory names approvers that only Entra can list (groups, the
	// requester's manager): the workflow resolves them when the tier's
	// stage starts (activity ResolveApprovers) and adds them to Approvers.
	Directory *policies.ApproverRefs `json:"directory,omitempty"`
}

// Stage needs Approvals approvals from distinct approvers of the tiers
// reached so far. Stages run in order.
type Stage struct {
	Name      string `json:"name"`
	Approvals int    `json:"approvals"`
	Tiers     []Tier `json:"tiers"`
}

// AccessRequestInput is the fully resolved plan of one request. The workflow
// reads nothing else, so its history shows exactly which rules applied.
type AccessRequestInput struct {
	RequestID     string        `json:"request_id"`
	Requester     Person        `json:"requester"`
	Target        Target        `json:"target"`
	Duration      time.Duration `json:"duration"`
	Justification string        `json:"justification"`
	Ticket        string        `json:"ticket,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	// Stages is empty for a break-glass role.
	Stages []Stage `json:"stages,omitempty"`
	// BreakGlass activates without approval and tells Notify.
	BreakGlass bool     `json:"break_glass,omitempty"`
	Notify     []Person `json:"notify,omitempty"`
	// BaseURL is where emails point people (the API or approval pages).
	BaseURL string `json:"base_url,omitempty"`
	// RequireEligibility: the requester must hold a PIM eligibility for the
	// target, checked again right before activation.
	RequireEligibility bool `json:"require_eligibility,omitempty"`
	// Extension holds the role's extension rules.
	Extension Extension `json:"extension,omitempty"`
	// AutoApproval, when set, is the policy rule that approved the request
	// when it was made: the workflow skips its stages and activates at once.
	// The stages stay in the plan, so their approvers may see and revoke.
	AutoApproval *AutoApproval `json:"auto_approval,omitempty"`
	// Proof is the server's signature of this input (proof.KindSubmit,
	// the requester as actor): a workflow started without one ends
	// failed at once (ChangeStartProof).
	Proof *proof.Proof `json:"proof,omitempty"`
	// EndNoticeBefore, when positive, is how long before the grant ends
	// the requester is emailed that it ends soon and how to extend it
	// (ending_soon), once for each end an extension sets. A grant no
	// longer than it gets no notice; 0 sends none.
	EndNoticeBefore time.Duration `json:"end_notice_before,omitempty"`
}

// AutoApproval names the policy rule that approved a request, and the
// expression it held, so history shows exactly why no one was asked.
type AutoApproval struct {
	Rule       string `json:"rule"`
	Expression string `json:"expression"`
}

// DecideInput is the argument of UpdateDecide.
type DecideInput struct {
	ApproverID string `json:"approver_id"`
	Decision   string `json:"decision"` // api.DecisionApprove or api.DecisionDeny
	Comment    string `json:"comment,omitempty"`
	// Stage, when set, is the 1-based stage the approver saw (an approval
	// link is bound to one): a decision for a stage that has passed is
	// rejected instead of counting for the next one.
	Stage int `json:"stage,omitempty"`
	// Extension, when set, is the 1-based extension of the grant the
	// approver saw (an approval link is bound to one): a decision for an
	// extension that is no longer waiting is rejected instead of counting
	// for another. 0 means whatever waits for a decision now (the API).
	Extension int `json:"extension,omitempty"`
	// LinkID names the approval link that made the decision, if one did.
	// The workflow does not act on it: the update's input in history keeps
	// it, so history alone says which link was used.
	LinkID string `json:"link_id,omitempty"`
	// Proof is the server's signature of this input (proof.KindDecide,
	// the approver as actor); every update input carries one.
	Proof *proof.Proof `json:"proof,omitempty"`
}

// CancelInput is the argument of UpdateCancel.
type CancelInput struct {
	ActorID string       `json:"actor_id"`
	Proof   *proof.Proof `json:"proof,omitempty"`
}

// RevokeInput is the argument of UpdateRevoke. Operator is set by the API for
// callers it has checked to hold the operator role; the workflow then accepts
// an actor outside the request's own people.
type RevokeInput struct {
	Actor    Person `json:"actor"`
	Operator bool   `json:"operator,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Proof's operator flag must match Operator.
	Proof *proof.Proof `json:"proof,omitempty"`
}

// ExtendInput is the argument of UpdateExtend: the grant is to last
// Duration more than it does now.
type ExtendInput struct {
	Actor         Person        `json:"actor"`
	Duration      time.Duration `json:"duration"`
	Justification string        `json:"justification"`
	Proof         *proof.Proof  `json:"proof,omitempty"`
}

// The public view of a request, as the API serves it (package api).
type (
	// Decision is one accepted approval or denial.
	Decision = api.Decision
	// Approver is someone who may decide the current stage.
	Approver = api.Approver
	// Request is what the query returns and the API serves.
	Request = api.Request
	// ExtensionView is an extension in progress.
	ExtensionView = api.ExtensionView
)

// AuditEvent is one entry of a request's audit trail as the workflow records
// it in its history, inside an AuditRecord. The API answers it as an
// api.AuditEvent, with what other history events say about it.
type AuditEvent struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Actor   string    `json:"actor"`
	ActorID string    `json:"actor_id,omitempty"`
	Detail  string    `json:"detail"`
	Stage   int       `json:"stage,omitempty"`
	// Channel is the door an action came through (proof.ChannelAPI,
	// ChannelEmailLink with LinkID, ChannelOperator; ChannelTemporalCancel
	// for the end of a workflow cancelled in Temporal). Via is the
	// identity the server authenticated, KeyID the key that signed its
	// proof. Events no person caused, and those of requests from before
	// proofs, have none.
	Channel string `json:"channel,omitempty"`
	LinkID  string `json:"link_id,omitempty"`
	Via     string `json:"via,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	// GraphRequestID and GraphStatus are Graph's answer to the activation
	// or removal an activated or deactivated event reports, when Graph was
	// called for it. Older records lack them; readers then take them from
	// the activity results in the history.
	GraphRequestID string `json:"graph_request_id,omitempty"`
	GraphStatus    string `json:"graph_status,omitempty"`
}
