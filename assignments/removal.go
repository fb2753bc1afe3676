package assignments

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
)

// remove takes the role away once no grant holds it. Entra's refusal of a
// young assignment (ErrRemovalTooSoon) is waited out and retried, and the
// requests waiting are told, so they can show why; any other failure is
// retried without end by the activity's policy, with an alert once it has
// gone on for RemovalAlertAfter. Only Graph's outright refusal stops it.
func (s *assignment) remove(ctx workflow.Context) {
	s.removing = true
	defer func() { s.removing = false }()
	in := graph.DeactivateInput{RequestID: s.releasedBy, Assignment: s.target, Reason: s.releaseReason}
	if in.Reason == "" {
		in.Reason = "no jitflow request holds it any more"
	}
	quick := s.lean || workflow.GetVersion(ctx, changeQuickRemoval, workflow.DefaultVersion, 1) == 1
	for {
		var res graph.DeactivateResult
		var err error
		if quick {
			quick = false
			if res, err = deactivateLocally(ctx, in); err != nil && !finalRemovalError(err) {
				continue // the activity below retries it
			}
		} else {
			res, err = s.removeOnce(ctx, in)
		}
		if err == nil {
			s.assigned, s.lastRemoval = false, &res
			return
		}
		if allowedAt, ok := removalAllowedAt(err); ok {
			s.logger.Info("Entra refuses the removal until the assignment is older; waiting", "allowed_at", allowedAt)
			s.tell(ctx, RemovalProgress{AllowedAt: allowedAt})
			if err := workflow.Sleep(ctx, max(allowedAt.Sub(workflow.Now(ctx)), time.Second)); err != nil {
				return
			}
			continue
		}
		s.logger.Error("Role removal refused by Graph", "error", err)
		s.assigned, s.removalFailure = false, activities.FailureText(err)
		return
	}
}

// changeQuickRemoval is the GetVersion change id of removing the role as
// a local activity first, in the workflow task that learned no grant is
// left: no round trip through the task queue when Graph answers at once.
const changeQuickRemoval = "quick-removal"

// finalRemovalError: an error removeOptions does not retry.
func finalRemovalError(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && slices.Contains(removeOptions().RetryPolicy.NonRetryableErrorTypes, app.Type())
}

// removeOnce runs the Deactivate activity, raising the alert if it is still
// failing after RemovalAlertAfter.
func (s *assignment) removeOnce(ctx workflow.Context, in graph.DeactivateInput) (graph.DeactivateResult, error) {
	f := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, removeOptions()), acts.Deactivate, in)
	tctx, stopTimer := workflow.WithCancel(ctx)
	defer stopTimer()
	alarm := workflow.NewTimer(tctx, RemovalAlertAfter)
	var res graph.DeactivateResult
	var err error
	done := false
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(f, func(f workflow.Future) { err, done = f.Get(ctx, &res), true })
	sel.AddFuture(alarm, func(workflow.Future) {})
	sel.Select(ctx)
	if !done {
		alert := fmt.Sprintf("removing %s from %s has kept failing for %s; jitflow keeps trying", s.target.TargetString(), s.target.PrincipalID, RemovalAlertAfter)
		s.logger.Error("Role removal keeps failing", "after", RemovalAlertAfter)
		s.tell(ctx, RemovalProgress{Alert: alert})
		err = f.Get(ctx, &res)
	}
	return res, err
}

// tell signals the requests waiting for the removal, and those whose
// grants ended into it. A request that is gone cannot be told, which is no
// reason to stop.
func (s *assignment) tell(ctx workflow.Context, p RemovalProgress) {
	s.notify(ctx, append(slices.Clone(s.waiting), s.ended...), p)
}

// notify is the one way the assignment workflow tells requests: through
// NotifyRequests, which signs each notice, in runs that sign (inline, or
// changeSignedNotices); by signals from workflow code in histories from
// before. A request that is gone cannot be told, and one that could not
// be told ends its grant itself (workflows.EndNoticeWait): neither stops
// the workflow.
func (s *assignment) notify(ctx workflow.Context, ids []string, p RemovalProgress) {
	if len(ids) == 0 {
		return
	}
	if s.inline || workflow.GetVersion(ctx, changeSignedNotices, workflow.DefaultVersion, 1) == 1 {
		if err := notifyLocally(ctx, NoticeInput{RequestIDs: ids, Progress: p}); err != nil {
			s.logger.Warn("Requests not told", "request_ids", ids, "error", err)
		}
		return
	}
	for _, id := range ids {
		workflow.SignalExternalWorkflow(ctx, id, "", SignalRemoval, p)
	}
}

// removalAllowedAt reads when Entra allows a removal it refused as too soon.
func removalAllowedAt(err error) (time.Time, bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrRemovalTooSoon {
		return time.Time{}, false
	}
	var d activities.RemovalTooSoonDetails
	if app.HasDetails() && app.Details(&d) == nil && !d.AllowedAt.IsZero() {
		return d.AllowedAt, true
	}
	return time.Time{}, true
}
