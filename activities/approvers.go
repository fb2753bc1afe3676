package activities

import (
	"github.com/jitflow/jitflow/policies"
)

// ResolveApproversInput asks who the directory names as approvers of one
// stage of a request, as the directory stands when the stage starts.
type ResolveApproversInput struct {
	RequestID   string `json:"request_id"`
	RequesterID string `json:"requester_id"`
	Stage       string `json:"stage"`
	// Tiers holds one entry per tier of the stage, in order; a tier with
	// nothing to resolve has an empty entry.
	Tiers []policies.ApproverRefs `json:"tiers"`
}

// ResolveApproversResult is who each tier asks, in the order of the
// input's tiers, and what the directory could not name (a group that no
// longer exists, a requester without a manager).
type ResolveApproversResult struct {
	Tiers    [][]Recipient `json:"tiers"`
	Problems []string      `json:"problems,omitempty"`
}
