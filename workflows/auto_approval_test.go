package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

func autoApprovedInput() workflows.AccessRequestInput {
	in := readerInput()
	in.RequestID = "req-auto"
	in.Requester = erin
	in.Duration = 15 * time.Minute
	in.AutoApproval = &workflows.AutoApproval{Rule: "oncall-short", Expression: "'oncall' in caller.groups && request.duration < duration('30m')"}
	return in
}

func TestAutoApproval(t *testing.T) {
	in := autoApprovedInput()
	start := workflows.NewRequest(in)
	require.Equal(t, api.StatusActivating, start.Status, "the API answers the submission as already approved")
	require.Equal(t, "oncall-short", start.AutoApprovedBy)
	require.Equal(t, 0, start.Stage)

	h := newHarness(t, in)
	during := h.queryAt(time.Minute)
	bobTries := h.decideAt(2*time.Minute, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusActive, during.Status)
	require.Empty(t, during.Approvers, "no one is asked to decide")
	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, "oncall-short", r.AutoApprovedBy)
	require.Empty(t, r.Decisions)
	require.Equal(t, t0, *r.ActivatedAt, "activated without waiting")
	require.Error(t, bobTries.rejected, "an approver cannot decide an approved request")
	require.Equal(t, []string{
		api.EventRequested, api.EventApproved, api.EventActivated, api.EventDeactivated, api.EventExpired,
	}, h.audit.types())
	approved := h.audit.ofType(api.EventApproved)[0]
	require.Equal(t, api.ActorSystem, approved.Actor)
	require.Contains(t, approved.Detail, `policy rule "oncall-short"`)
	require.Empty(t, h.emailsOf(activities.MailApprovalNeeded))
	require.Len(t, h.emailsOf(activities.MailApproved), 1)
}

func TestAutoApprovalValidation(t *testing.T) {
	in := breakGlassInput()
	in.AutoApproval = &workflows.AutoApproval{Rule: "x", Expression: "true"}
	require.ErrorContains(t, in.Validate(), "auto_approval")
	in = autoApprovedInput()
	in.AutoApproval.Rule = ""
	require.ErrorContains(t, in.Validate(), "auto_approval")
	require.NoError(t, autoApprovedInput().Validate())
}
