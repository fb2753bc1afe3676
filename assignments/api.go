package assignments

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
)

// What a request workflow calls: its one way to the assignment workflow
// of its principal and target, and the check that precedes a hold.

// ChangeGrantEndNotice is the GetVersion change id of the assignment
// workflow ending grants at their end, removing the role at once, and
// telling each request (RemovalProgress.Ended): the removal does not wait
// for the request's own timer, task and activity, which matters when many
// grants end together. Both workflows version on it.
const ChangeGrantEndNotice = "grant-end-notice"

// grantEndNoticeLean is the version of ChangeGrantEndNotice that
// assignment runs started by this code record: grants end at their end as
// in version 1, and the run knows from its first command that
// changeReassignAfterOwnEnd and changeQuickRemoval apply, so it asks
// GetVersion for neither (each ask costs a marker event and a
// TemporalChangeVersion upsert, in every run after a continue-as-new too).
// The request workflow asks only whether the change applies (>= 1).
const grantEndNoticeLean = 2

// grantEndNoticeInline is the version of ChangeGrantEndNotice that
// assignment runs started by this code record: as grantEndNoticeLean, and
// the run tells requests through a local activity that signs each notice
// (NotifyRequests) instead of signalling them from workflow code. Telling
// costs no command: no SignalExternalWorkflowExecutionInitiated event, and
// no further workflow task when Temporal reports the signal delivered,
// which matters when a thousand grants end together. A run of an earlier
// version asks changeSignedNotices instead, when it first tells.
const grantEndNoticeInline = 3

// changeSignedNotices is the GetVersion change id of telling requests
// through NotifyRequests, in runs started before grantEndNoticeInline.
const changeSignedNotices = "signed-notices"

// Hold asks the assignment workflow to hold the role for in.RequestID (a
// new grant for in.Duration, or with in.Until its grant extended). Usually
// it answers at once, and a local activity gets the answer without a round
// trip through the task queue. When Graph is slow, a local activity would
// keep the workflow task open, and with it the request's queries and
// updates: after HoldFastWait, or a failure worth retrying, the wait moves
// to an ordinary activity (retried by its policy), whose hold has the same
// update id and so joins the one already under way; slow is called then.
// An error means the hold was refused or never answered.
func Hold(ctx workflow.Context, in HoldInput, slow func()) (HoldResult, error) {
	res, err := holdLocally(ctx, in)
	var app *temporal.ApplicationError
	if err == nil || ctx.Err() != nil || (errors.As(err, &app) && app.Type() == ErrInvalid) {
		return res, err
	}
	slow()
	err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, holdSlowOptions()), grants.HoldGrant, in).Get(ctx, &res)
	return res, err
}

// Release gives up the request's hold and waits until the assignment
// workflow says what became of the role: removed, or kept for other
// grants or because the principal held it before jitflow.
func Release(ctx workflow.Context, in ReleaseInput) (ReleaseResult, error) {
	var res ReleaseResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, releaseOptions()), grants.ReleaseGrant, in).Get(ctx, &res)
	return res, err
}

// CheckEligibility asks Entra, in a local activity, whether the principal
// still holds the PIM eligibility a role requires before a hold.
func CheckEligibility(ctx workflow.Context, in activities.EligibilityInput) (graph.EligibilityResult, error) {
	var res graph.EligibilityResult
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, checkOptions()), activityCheckEligibility, in).Get(ctx, &res)
	return res, err
}
