package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/policies"
)

// ChangeDirectoryApprovers is the GetVersion change id of approvers read
// from the directory when a stage starts (the ResolveApprovers activity,
// then a search-attribute upsert). Only stages whose tiers name directory
// references reach it, and no request planned before them has any.
const ChangeDirectoryApprovers = "directory-approvers"

// ResolveWaitCap bounds how long a stage waits for the directory to answer
// who approves it: past it (or past the stage's own timeout, if shorter),
// the stage has nobody to ask and the request fails.
const ResolveWaitCap = 15 * time.Minute

// resolveOptions retry a directory that cannot answer (Graph throttled or
// down) with backoff, for as long as the stage could have waited.
func resolveOptions(st Stage) workflow.ActivityOptions {
	wait := min(st.totalTimeout(), ResolveWaitCap)
	return workflow.ActivityOptions{
		ScheduleToCloseTimeout: wait,
		StartToCloseTimeout:    min(time.Minute, wait),
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrNoDirectory},
		},
	}
}

// hasDirectory reports whether a tier of the stage names approvers only the
// directory can list.
func (st Stage) hasDirectory() bool {
	for _, t := range st.Tiers {
		if t.Directory != nil && !t.Directory.Empty() {
			return true
		}
	}
	return false
}

// resolve asks the directory who approves the current stage and makes
// them its approvers for this round, beside the plan's own. It reports
// false, with r.failure set, when the stage has fewer people to ask than
// approvals it needs or the directory never answered, and false when the
// round was stopped meanwhile. An error means the workflow was cancelled.
func (r *round) resolve(ctx workflow.Context) (bool, error) {
	plan := r.stages[r.stage]
	if !r.s.runsChange(ctx, ChangeDirectoryApprovers) {
		// A request started by a worker that ignored directory references
		// asks its static approvers only, as that worker did.
		return true, nil
	}
	r.resolving = true
	r.escalatesAt = time.Time{}
	defer func() { r.resolving = false }()
	in := activities.ResolveApproversInput{
		RequestID:   r.s.in.RequestID,
		RequesterID: r.s.in.Requester.ID,
		Stage:       plan.Name,
		StageNumber: r.stage + 1,
		Extension:   r.extension,
	}
	for _, t := range plan.Tiers {
		if t.Directory != nil {
			in.Tiers = append(in.Tiers, *t.Directory)
		} else {
			in.Tiers = append(in.Tiers, policies.ApproverRefs{})
		}
	}
	// A cancel (or, for an extension, the grant's end) does not wait for a
	// directory that is slow to answer.
	actx, stop := workflow.WithCancel(ctx)
	f := workflow.ExecuteActivity(workflow.WithActivityOptions(actx, resolveOptions(plan)), acts.ResolveApprovers, in)
	if err := workflow.Await(ctx, func() bool { return f.IsReady() || r.stopped() }); err != nil {
		return false, err
	}
	if !f.IsReady() {
		stop()
		return false, nil
	}
	var res activities.ResolveApproversResult
	err := f.Get(ctx, &res)
	switch {
	case err != nil && ctx.Err() != nil:
		return false, err
	case err != nil:
		r.failure = fmt.Sprintf("%s has nobody to ask: the directory could not say who approves it: %s", r.stageName(), activities.FailureText(err))
		return false, nil
	case len(res.Tiers) != len(plan.Tiers):
		r.failure = fmt.Sprintf("%s has nobody to ask: the directory answered for %d tiers, the stage has %d", r.stageName(), len(res.Tiers), len(plan.Tiers))
		return false, nil
	}
	asked := plan.withResolved(res.Tiers, r.s.in.Requester.ID)
	r.stages[r.stage] = asked
	if n := len(asked.people()); n < asked.Approvals {
		r.failure = nobodyReason(r.stageName(), asked.Approvals, n, res.Problems)
		return false, nil
	}
	if r.s.addAsked(asked) {
		r.s.upsertApprovers(ctx)
	}
	if len(res.Problems) > 0 {
		r.s.logger.Warn("Some approvers of the stage could not be read from the directory",
			"stage", plan.Name, "extension", r.extension, "problems", strings.Join(res.Problems, "; "))
	}
	return true, nil
}

// stageName names the current stage in reasons: "stage 1 (team-lead)".
func (r *round) stageName() string {
	return fmt.Sprintf("stage %d (%s)", r.stage+1, r.stages[r.stage].Name)
}

// nobodyReason says why a stage cannot pass: how many people it has to
// ask for how many approvals, and what the directory could not name.
func nobodyReason(stage string, approvals, people int, problems []string) string {
	what := "has nobody to ask"
	if people > 0 {
		what = fmt.Sprintf("has too few people to ask (%d besides the requester for %d approvals)", people, approvals)
	}
	why := "the directory names no one else"
	if len(problems) > 0 {
		why = strings.Join(problems, "; ")
	}
	return fmt.Sprintf("%s %s: %s", stage, what, why)
}

// withResolved is the stage with each tier's resolved people added to its
// static approvers, each once per tier, the requester never among them.
func (st Stage) withResolved(resolved [][]activities.Recipient, requesterID string) Stage {
	out := st
	out.Tiers = make([]Tier, len(st.Tiers))
	for j, t := range st.Tiers {
		people := append([]Person(nil), t.Approvers...)
		for _, rc := range resolved[j] {
			people = append(people, Person{ID: rc.ID, UPN: rc.UPN, Email: rc.Email})
		}
		t.Approvers = nil
		seen := map[string]bool{}
		for _, p := range people {
			id := strings.ToLower(p.ID)
			if seen[id] || strings.EqualFold(p.ID, requesterID) {
				continue
			}
			seen[id] = true
			t.Approvers = append(t.Approvers, p)
		}
		out.Tiers[j] = t
	}
	return out
}

// people are the distinct approvers of every tier of the stage.
func (st Stage) people() []Person {
	return st.reached(len(st.Tiers) - 1)
}

// addAsked adds the stage's approvers to those the request asked beyond
// its plan, and reports whether anyone is new.
func (s *accessRequest) addAsked(st Stage) bool {
	added := false
	for _, p := range st.people() {
		if _, known := s.person(p.ID); !known {
			s.asked = append(s.asked, p)
			added = true
		}
	}
	return added
}

// person finds someone the request knows by object id: its requester, an
// approver of its plan, or someone the directory named for a stage.
func (s *accessRequest) person(id string) (Person, bool) {
	if p, ok := s.in.person(id); ok {
		return p, true
	}
	for _, p := range s.asked {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// approverIDs are the plan's approvers and everyone the directory named
// for a stage so far: what SearchApproverIDs holds, so each of them finds
// the request.
func (s *accessRequest) approverIDs() []string {
	ids := s.in.ApproverIDs()
	for _, p := range s.asked {
		ids = append(ids, p.ID)
	}
	return ids
}

// searchAttributes are the request's search attributes in status st.
func (s *accessRequest) searchAttributes(st Status) []temporal.SearchAttributeUpdate {
	return searchAttributes(s.in, st, s.approverIDs())
}

// upsertApprovers tells visibility everyone asked so far.
func (s *accessRequest) upsertApprovers(ctx workflow.Context) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, SearchApproverIDs.ValueSet(s.approverIDs())); err != nil {
		s.logger.Error("Search attributes not updated", "attribute", SearchApproverIDs.GetName(), "error", err)
	}
}
