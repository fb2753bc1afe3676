package workflows_test

import (
	"context"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/workflows"
)

// TestNoticeWithoutWorkerProofIgnored: a request started with
// StartProofInline believes only notices a jitflow worker signed for it.
// Anyone who may signal workflows in the namespace could otherwise tell it
// that its grant ended and its role was removed while the role is held.
// Forged, borrowed and replayed notices are ignored; the request ends the
// grant itself EndNoticeWait past its end, through its own release.
func TestNoticeWithoutWorkerProofIgnored(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	h.noEndNotice = true
	forged := &assignments.ReleaseResult{Removal: &graph.DeactivateResult{GraphRequestID: "forged", GraphStatus: "Revoked"}}
	h.env.RegisterDelayedCallback(func() {
		// No proof at all.
		h.env.SignalWorkflow(assignments.SignalRemoval, assignments.RemovalProgress{Ended: forged})
		// A worker's proof, for another request.
		other, err := assignments.RemovalProgress{Ended: forged}.For("req-other", testProofs, h.env.Now())
		require.NoError(t, err)
		h.env.SignalWorkflow(assignments.SignalRemoval, other)
		// A valid notice of another kind, taken; then sent again.
		alert, err := assignments.RemovalProgress{Alert: "removal keeps failing"}.For(h.in.RequestID, testProofs, h.env.Now())
		require.NoError(t, err)
		h.env.SignalWorkflow(assignments.SignalRemoval, alert)
		h.env.SignalWorkflow(assignments.SignalRemoval, alert)
	}, 20*time.Minute)
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, r.ExpiresAt.Add(workflows.EndNoticeWait), *r.EndedAt, "the request ended the grant itself, as without any notice")
	require.Len(t, h.removals, 1)
	for _, ev := range h.audit.ofType(api.EventDeactivated) {
		require.NotContains(t, ev.Detail, "forged")
	}
	require.Len(t, h.audit.ofType(api.EventAlert), 1, "the signed alert counts once")
	require.Len(t, h.logs.matching("Notice ignored"), 3)
}

// TestEmailsLeaveWithinTheirTask: a request started with StartProofInline
// sends an email as a local activity in the task that decided it (the
// approvers' at the start, the requester's at the end), except while an
// update waits for the task's answer: the approval's answer does not wait
// for the mailer, so the approved and active emails go as activities.
func TestEmailsLeaveWithinTheirTask(t *testing.T) {
	h := newHarness(t, readerInput())
	local, remote := map[string]int{}, map[string]int{}
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
		if in, ok := args[0].(activities.EmailInput); ok {
			local[in.Kind]++
		}
	})
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		var in activities.EmailInput
		if info.ActivityType.Name == "SendEmail" && args.Get(&in) == nil {
			remote[in.Kind]++
		}
	})
	h.decideAt(time.Second, bob, api.DecisionApprove, "ok")
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, map[string]int{activities.MailApprovalNeeded: 1, activities.MailExpired: 1}, local)
	require.Equal(t, map[string]int{activities.MailApproved: 1, activities.MailActive: 1}, remote)
	require.Len(t, h.audit.ofType(api.EventNotified), 4, "each email's outcome is on record")
}

// checkInlineHistory checks what requests started with StartProofInline
// and assignment runs with grantEndNoticeInline save: no assignment run
// signals a request from workflow code, and a request schedules the
// SendEmail activity only from a workflow task that answers an update (the
// others send as local activities within their task).
func checkInlineHistory(t *testing.T, events []*historypb.HistoryEvent) {
	t.Helper()
	open := map[string]bool{} // updates accepted, not yet completed
	answering := false        // the current task accepted or completed one
	for _, e := range events {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			t.Errorf("event %d signals %s from workflow code", e.GetEventId(), e.GetSignalExternalWorkflowExecutionInitiatedEventAttributes().GetWorkflowExecution().GetWorkflowId())
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			answering = false
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			open[e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetProtocolInstanceId()] = true
			answering = true
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			delete(open, e.GetWorkflowExecutionUpdateCompletedEventAttributes().GetMeta().GetUpdateId())
			answering = true
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "SendEmail" && !answering && len(open) == 0 {
				t.Errorf("event %d schedules SendEmail as an activity in a task that answers no update", e.GetEventId())
			}
		}
	}
}
