package api

// RoleList is the answer of GET /api/v1/roles: the roles the caller may
// request under the policy in force, in the policy's order.
type RoleList struct {
	Roles []Role `json:"roles"`
}

// Role is a role as its requesters see it: what it grants, its limits,
// and who would be asked. Durations are written as the API writes them
// elsewhere ("1h0m0s").
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// What the role grants: a directory role at a scope, or (GroupID set)
	// membership or ownership of a group through PIM for Groups.
	RoleDefinitionID string `json:"role_definition_id,omitempty"`
	DirectoryScopeID string `json:"directory_scope_id,omitempty"`
	GroupID          string `json:"group_id,omitempty"`
	AccessID         string `json:"access_id,omitempty"`

	Duration      RoleDuration      `json:"duration"`
	Justification JustificationRule `json:"justification"`
	Ticket        TicketRule        `json:"ticket"`
	BreakGlass    bool              `json:"break_glass"`
	// RequireEligibility: the requester must hold a PIM eligibility for
	// the target in Entra; EligibilityHeld (set only then) says whether
	// the caller holds one now.
	RequireEligibility bool          `json:"require_eligibility"`
	EligibilityHeld    *bool         `json:"eligibility_held,omitempty"`
	StepUp             StepUpRule    `json:"step_up"`
	Extension          ExtensionRule `json:"extension"`
	// Stages are who would be asked to approve, in order; empty for a
	// break-glass role.
	Stages []RoleStage `json:"stages"`
	// AutoApprove are the role's auto-approval rules, each evaluated for
	// the caller now with the role's default duration.
	AutoApprove []AutoApproveRule `json:"auto_approve"`
}

// RoleDuration bounds how long the role may be held; Default is what a
// request that names no duration gets.
type RoleDuration struct {
	Min     string `json:"min"`
	Max     string `json:"max"`
	Default string `json:"default"`
}

// JustificationRule says whether a justification is needed and how long it
// may be, in characters.
type JustificationRule struct {
	Required bool `json:"required"`
	Max      int  `json:"max"`
}

// TicketRule says whether a ticket is needed, the pattern it must match in
// full ("" for any), and how long it may be, in characters.
type TicketRule struct {
	Required bool   `json:"required"`
	Pattern  string `json:"pattern"`
	Max      int    `json:"max"`
}

// StepUpRule is the sign-in the role asks of requesters and approvers:
// multi-factor authentication, an Entra authentication context ("" for
// none).
type StepUpRule struct {
	MFA         bool   `json:"mfa"`
	AuthContext string `json:"auth_context"`
}

// ExtensionRule bounds one extension of a grant; one of at most
// WithoutApprovalUpTo needs no approval ("0s": every extension is approved).
type ExtensionRule struct {
	WithoutApprovalUpTo string `json:"without_approval_up_to"`
	Max                 string `json:"max"`
}

// RoleStage is one approval stage: Approvals decisions from distinct
// people of its tiers.
type RoleStage struct {
	Name      string     `json:"name"`
	Approvals int        `json:"approvals"`
	Tiers     []RoleTier `json:"tiers"`
}

// RoleTier is one escalation step: who is asked, and how long it waits
// before the next tier (or, for the last, before the request times out).
type RoleTier struct {
	Timeout   string         `json:"timeout"`
	Approvers []RoleApprover `json:"approvers"`
}

// RoleApprover is one entry of a tier's approvers, as the policy names it:
// a person (User: a principal name, or an Entra object id as the policy
// wrote it), the members of an Entra group (Group, its object id), or the
// requester's manager (Manager 1) or manager's manager (2). Exactly one is
// set.
type RoleApprover struct {
	User    string `json:"user,omitempty"`
	Group   string `json:"group,omitempty"`
	Manager int    `json:"manager,omitempty"`
}

// AutoApproveRule is one auto-approval rule and whether it would approve
// the caller's request now; Error says why it could not be evaluated
// (then it approves nothing).
type AutoApproveRule struct {
	Name       string `json:"name"`
	WouldApply bool   `json:"would_apply"`
	Error      string `json:"error,omitempty"`
}
