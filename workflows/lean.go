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
//     ask costs a marker event and a TemporalChangeVersion upsert, a
//     visibility write, the first time it is made);
//   - tells visibility what changed once its state settles in a workflow
//     task (publishViews): only the search attributes that changed (the
//     start already carries the first ones), and its view in its memo
//     (MemoRequest), so a listing reads it from visibility instead of
//     querying each workflow.
//
// A request recorded with version 1 or none keeps the old commands.
const StartProofLean = 2

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

// publishViews tells visibility what changed, for lean requests: it waits
// until the request's search attributes or view differ from what it last
// published, then publishes them (publish). It leaves out the moment of a
// quick activation (settling); cleanup publishes the last state.
func (s *accessRequest) publishViews(ctx workflow.Context) {
	for {
		err := workflow.Await(ctx, func() bool {
			return !s.settling() && (s.viewChanged() || len(s.changedSearchAttributes(ctx)) > 0)
		})
		if err != nil {
			return
		}
		s.publish(ctx)
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

// publish upserts the search attributes that changed and, if it changed,
// the memo's view. Only lean requests publish this way; others upsert
// every attribute at each status change (setStatus) and keep no memo.
func (s *accessRequest) publish(ctx workflow.Context) {
	if !s.lean {
		return
	}
	if attrs := s.changedSearchAttributes(ctx); len(attrs) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
			s.logger.Error("Search attributes not updated", "status", s.status, "error", err)
		}
	}
	v := s.view()
	data, err := json.Marshal(v)
	if err != nil || bytes.Equal(data, s.published) {
		return
	}
	s.published = data
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoRequest: v}); err != nil {
		s.logger.Error("Memo not updated", "error", err)
	}
}

// changedSearchAttributes are the updates that bring the request's search
// attributes to its status and its approvers so far, leaving out those
// visibility already holds (the start carries the first ones).
func (s *accessRequest) changedSearchAttributes(ctx workflow.Context) []temporal.SearchAttributeUpdate {
	cur := workflow.GetTypedSearchAttributes(ctx)
	var out []temporal.SearchAttributeUpdate
	for _, kv := range []struct {
		key   temporal.SearchAttributeKeyKeyword
		value string
	}{
		{SearchStatus, string(s.status)},
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
