package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/policies"
)

// ErrNoDirectory means a stage names approvers through Entra (groups, the
// requester's manager) and the worker has no Graph directory to resolve
// them: retrying cannot help, the worker's configuration must change.
const ErrNoDirectory = "NoDirectory"

// ResolveApproversInput asks who the directory names as approvers of one
// stage of a request, as the directory stands when the stage starts.
type ResolveApproversInput struct {
	RequestID   string `json:"request_id"`
	RequesterID string `json:"requester_id"`
	Stage       string `json:"stage"`
	// Tiers holds one entry per tier of the stage, in order; a tier with
	// nothing to resolve has an empty entry.
	Tiers []policies.ApproverRefs `json:"tiers"`
	// StageNumber is the 1-based stage, and Extension the extension whose
	// round asks (0 for the request's own): they place the answer in the
	// request's audit trail.
	StageNumber int `json:"stage_number,omitempty"`
	Extension   int `json:"extension,omitempty"`
}

// ResolveApproversResult is who each tier asks, in the order of the
// input's tiers, and what the directory could not name (a group that no
// longer exists, a requester without a manager).
type ResolveApproversResult struct {
	Tiers    [][]Recipient `json:"tiers"`
	Problems []string      `json:"problems,omitempty"`
}

// ResolveApprovers reads the people each tier's directory references name
// now (group members, nested groups included; the requester's manager at
// the tier's level), without the requester. What the directory does not
// hold comes back as a problem; a directory that cannot answer (Graph
// throttled or down) is an error Temporal retries, never an empty list.
func (a *Activities) ResolveApprovers(ctx context.Context, in ResolveApproversInput) (ResolveApproversResult, error) {
	res := ResolveApproversResult{Tiers: make([][]Recipient, len(in.Tiers))}
	for i, refs := range in.Tiers {
		if refs.Empty() {
			res.Tiers[i] = []Recipient{}
			continue
		}
		if a.Directory == nil {
			return ResolveApproversResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("resolve the approvers of stage %s of request %s: tier %d names Entra groups or the requester's manager, and this worker has no Graph directory configured",
					in.Stage, in.RequestID, i+1), ErrNoDirectory, nil)
		}
		people, problems, err := policies.ResolveApprovers(ctx, a.Directory, in.RequesterID, refs)
		if err != nil {
			return ResolveApproversResult{}, withContext(err, "resolve the approvers of tier %d of stage %s of request %s", i+1, in.Stage, in.RequestID)
		}
		res.Tiers[i] = make([]Recipient, len(people))
		for j, u := range people {
			email := u.Email
			if email == "" {
				email = u.UPN // Graph leaves mail empty for accounts without a mailbox
			}
			res.Tiers[i][j] = Recipient{ID: u.ID, UPN: u.UPN, Email: email}
		}
		res.Problems = append(res.Problems, problems...)
	}
	return res, nil
}
