package api

import "time"

// Request is the public view of a request: what the workflow's query
// returns and every call on a request answers.
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
	Tier             int        `json:"tier"`   // 1-based escalation tier reached in the current stage
	Approvers        []Approver `json:"approvers"`
	EscalatesAt      *time.Time `json:"escalates_at"`
	Decisions        []Decision `json:"decisions"`
	ActivatedAt      *time.Time `json:"activated_at"`
	ExpiresAt        *time.Time `json:"expires_at"`
	EndedAt          *time.Time `json:"ended_at"`
	Reason           string     `json:"reason,omitempty"`
	// AutoApprovedBy is the policy rule that approved the request, if one did.
	AutoApprovedBy string `json:"auto_approved_by,omitempty"`
	// GroupID and AccessID are set for a PIM for Groups role: the group,
	// and member or owner.
	GroupID  string `json:"group_id,omitempty"`
	AccessID string `json:"access_id,omitempty"`
	// AlreadyHeld is set when the requester held the role before jitflow
	// granted it: that assignment is not jitflow's and is never removed.
	AlreadyHeld bool `json:"already_held,omitempty"`
	// Extension is the extension asked for and not yet decided or applied.
	Extension *ExtensionView `json:"extension,omitempty"`
	// Extensions counts the extensions granted.
	Extensions int `json:"extensions,omitempty"`
	// View is ViewSubmitted when the workflow did not answer in time (its
	// first task has not run yet, or its worker is busy) and the request is
	// shown as it was submitted, with the status the workflow last
	// recorded; empty for the workflow's own current view.
	View string `json:"view,omitempty"`
}

// ViewSubmitted marks a request shown as submitted: decisions, approvers
// and times the workflow recorded since are not in it yet.
const ViewSubmitted = "submitted"

// GrantDuration is how long the role is (or was to be) held.
func (r Request) GrantDuration() time.Duration {
	return time.Duration(r.DurationSeconds) * time.Second
}

// ExtensionView is an extension in progress.
type ExtensionView struct {
	Number        int        `json:"number"` // 1-based
	Status        Status     `json:"status"` // pending_approval or activating (being applied)
	Duration      string     `json:"duration"`
	DurationSecs  int64      `json:"duration_seconds"`
	Justification string     `json:"justification"`
	RequestedAt   time.Time  `json:"requested_at"`
	Stage         int        `json:"stage"`
	Approvers     []Approver `json:"approvers"`
	EscalatesAt   *time.Time `json:"escalates_at"`
}

// Decision is one accepted approval or denial.
type Decision struct {
	Approver   string    `json:"approver"`
	ApproverID string    `json:"approver_id"`
	Decision   string    `json:"decision"` // DecisionApprove or DecisionDeny
	Comment    string    `json:"comment"`
	Time       time.Time `json:"time"`
	Stage      int       `json:"stage"` // 1-based
	// Extension is the 1-based extension the decision is about; 0 for the
	// request itself.
	Extension int `json:"extension,omitempty"`
}

// Approver is someone who may decide the current stage.
type Approver struct {
	Approver   string `json:"approver"`
	ApproverID string `json:"approver_id"`
}

// RequestList is the answer of GET /api/v1/requests: one page of full
// request objects, newest first, and the token of the next page when there
// is one.
type RequestList struct {
	Requests      []Request `json:"requests"`
	NextPageToken string    `json:"next_page_token,omitempty"`
}
