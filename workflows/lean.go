package workflows

import (
	"bytes"
	"encoding/json"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/assignments"
)

// StartProofLean is the version of ChangeStartProof that requests started
// by this code record: the start check as in version 1, and a request that
// knows from its first command that every change in knownAtLean applies
// to it. Such a request
//   - runs those changes' new code without asking GetVersion again (each
//     ask costs a marker event and a TemporalChangeVersion upsert event,
//     the first time it is made);
//   - upserts at each status change its status and only those other
//     search attributes that changed (the start carries the first ones);
//   - keeps its view in its memo (MemoRequest), upserted once the state
//     settles in a workflow task (publishViews), so a listing reads it
//     from visibility instead of querying each workflow.
//
// A request recorded with version 1 or none keeps the old commands.
const StartProofLean = 2

// StartProofInline is the version of ChangeStartProof that requests
// started by this code record: everything StartProofLean says, and work
// that cost a workflow task of its own is done within the task at hand:
//   - an email leaves as a local activity in the task that decided it,
//     unless an update waits for that task's answer (the answer must not
//     wait for the mailer); a local activity that fails hands the email
//     to the activity, with its retries (startEmail);
//   - the assignment workflow's notices arrive signed by a worker
//     (assignments.NotifyRequests), and a notice without a valid proof
//     is ignored (trustNotice).
//
// A request recorded with an earlier version keeps its commands.
const StartProofInline = 3

// knownAtLean are the change ids a request with StartProofLean runs the
// new code of without GetVersion. The list is closed: a change made after
// StartProofLean takes its own GetVersion, for lean requests too, since a
// lean request may have started before it.
var knownAtLean = []string{
	changeAssignmentWorkflow,
	changeAutoApproval,
	changeApprovalAnswersActivation,
	assignments.ChangeGrantEndNotice,
	ChangeReminders,
	ChangeDirectoryApprovers,
	ChangeEndingSoon,
	ChangeExtensionRound,
	ChangeExtensionOutcomeEmails,
}

// runsChange reports whether the request runs change's new code: the
// version its history recorded for change, or, for a lean request and a
// change in knownAtLean, always (no command).
func (s *accessRequest) runsChange(ctx workflow.Context, change string) bool {
	if s.lean && slices.Contains(knownAtLean, change) {
		return true
	}
	return workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) != workflow.DefaultVersion
}

// MemoRequest is the memo field in which a request's workflow keeps its
// view (a Request, JSON), as of its last change: listings read it from
// visibility. Requests started before StartProofLean have none.
const MemoRequest = "request"

// MemoRun is the memo field that names the run which wrote MemoRequest.
// Whoever starts a workflow through Temporal may give it any memo, but
// cannot know the run id Temporal gives the run: a listing trusts the view
// only when MemoRun is the row's own run, that is when the workflow wrote
// it, never what a start through Temporal put there.
const MemoRun = "run"

// publishViews keeps the memo's view in step with the request, for lean
// requests: it waits until the view differs from the one last published,
// then publishes it. It leaves out the moment of a quick activation
// (settling); cleanup publishes the last view.
func (s *accessRequest) publishViews(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return !s.settling() && s.viewChanged() }); err != nil {
			return
		}
		s.publishView(ctx)
	}
}

// settling is set while the activation's quick hold runs within the
// workflow task that started it: its outcome (active or failed) follows in
// the same task, so activating is not published on its own. Once the hold
// moved to an ordinary activity (holdSlow), activating is published.
func (s *accessRequest) settling() bool {
	return s.quickHold && !s.holdSlow
}

// viewChanged reports whether the view differs from the one last published.
func (s *accessRequest) viewChanged() bool {
	data, err := json.Marshal(s.view())
	return err == nil && !bytes.Equal(data, s.published)
}

// publishView upserts the memo with the current view if it changed.
func (s *accessRequest) publishView(ctx workflow.Context) {
	if !s.lean {
		return
	}
	v := s.view()
	data, err := json.Marshal(v)
	if err != nil || bytes.Equal(data, s.published) {
		return
	}
	s.published = data
	run := workflow.GetInfo(ctx).WorkflowExecution.RunID
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoRequest: v, MemoRun: run}); err != nil {
		s.logger.Error("Memo not updated", "error", err)
	}
}

// statusSearchAttributes are the updates a lean request's status change
// makes: the status, always (each is a transition operators count), and
// of the other attributes only those visibility does not hold yet.
func (s *accessRequest) statusSearchAttributes(ctx workflow.Context, st Status) []temporal.SearchAttributeUpdate {
	cur := workflow.GetTypedSearchAttributes(ctx)
	out := []temporal.SearchAttributeUpdate{SearchStatus.ValueSet(string(st))}
	for _, kv := range []struct {
		key   temporal.SearchAttributeKeyKeyword
		value string
	}{
		{SearchRole, s.in.Target.Role},
		{SearchRequesterID, s.in.Requester.ID},
	} {
		if v, ok := cur.GetKeyword(kv.key); !ok || v != kv.value {
			out = append(out, kv.key.ValueSet(kv.value))
		}
	}
	ids := s.approverIDs()
	if v, ok := cur.GetKeywordList(SearchApproverIDs); !ok || !slices.Equal(v, ids) {
		out = append(out, SearchApproverIDs.ValueSet(ids))
	}
	return out
}
