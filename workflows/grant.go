package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
)

// notifyBreakGlass tells the security list that a role is being activated
// without approval.
func (s *accessRequest) notifyBreakGlass(ctx workflow.Context) {
	s.sendEmail(ctx, activities.MailBreakGlass, s.in.Notify, s.nextKey(activities.MailBreakGlass), s.in.Requester.UPN, s.in.Justification)
}

// activate assigns the role. It leaves the request active, or failed (with
// the role removed as far as Graph lets us). An error means the workflow was
// cancelled during activation; the role may then be assigned.
func (s *accessRequest) activate(ctx workflow.Context) error {
	in := activities.ActivateInput{
		RequestID:     s.in.RequestID,
		Assignment:    s.assignment(),
		Duration:      s.in.Duration,
		Justification: s.in.Justification,
		Ticket:        s.in.Ticket,
	}
	s.mayBeAssigned = true
	var res activities.ActivateResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activateOptions()), acts.Activate, in).Get(ctx, &res)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.fail(ctx, "activation failed: "+failureText(err))
		if s.mayHaveAssigned(ctx, err) {
			s.removeAfterFailure(ctx)
		} else {
			s.mayBeAssigned = false
		}
		return nil
	}
	// The grant clock starts now, when the role is really there, not when
	// the request was approved.
	s.activatedAt = workflow.Now(ctx)
	s.expiresAt = s.activatedAt.Add(s.in.Duration)
	s.entraEnd = res.EndDateTime
	s.setStatus(ctx, StatusActive)
	s.record(ctx, AuditEvent{Type: EventActivated, Actor: ActorSystem, Detail: activatedDetail(res)})
	s.emailRequester(ctx, activities.MailActive, "", "")
	return nil
}

// hold keeps the grant until it runs out or is revoked. An error means the
// workflow was cancelled.
func (s *accessRequest) hold(ctx workflow.Context) error {
	_, err := workflow.AwaitWithTimeout(ctx, s.in.Duration, func() bool { return s.revocation != nil })
	return err
}

// deactivate removes the role and ends the request expired or revoked. It
// runs under a disconnected context: cancelling the workflow must not stop a
// removal.
func (s *accessRequest) deactivate(ctx workflow.Context) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	if s.roleLost != nil {
		// The assignment workflow dropped the grant: nothing to release.
		s.mayBeAssigned = false
		s.fail(ctx, s.roleLost.Failure)
		return
	}
	if s.endNotice != nil {
		// The assignment workflow already ended the grant: nothing to wait for.
		s.released(ctx, *s.endNotice)
		return
	}
	s.setStatus(ctx, StatusDeactivating)
	if s.shared {
		s.release(ctx)
		return
	}
	res, err := s.remove(ctx)
	if err != nil {
		s.fail(ctx, fmt.Sprintf("removing the role failed: %s; Entra ends the assignment by itself at %s", failureText(err), s.entraEndText()))
		return
	}
	s.record(ctx, AuditEvent{Type: EventDeactivated, Actor: ActorSystem, Detail: deactivatedDetail(res)})
	s.ended(ctx)
}

// ended finishes a request whose role is gone (or stays for others): revoked
// or expired.
func (s *accessRequest) ended(ctx workflow.Context) {
	s.dropExtension(ctx)
	if r := s.revocation; r != nil {
		s.reason = r.Reason
		if s.reason == "" {
			s.reason = "revoked by " + displayName(r.Actor)
		}
		s.setStatus(ctx, StatusRevoked)
		s.emailRequester(ctx, activities.MailRevoked, displayName(r.Actor), r.Reason)
		return
	}
	s.setStatus(ctx, StatusExpired)
	s.record(ctx, AuditEvent{Type: EventExpired, Actor: ActorSystem, Detail: fmt.Sprintf("the grant of %s ran out", s.in.Duration)})
	s.emailRequester(ctx, activities.MailExpired, "", "")
}

// mayHaveAssigned tells whether a failed activation may have left an
// assignment behind. When Graph refused outright (ErrGraphRejected) the last
// attempt assigned nothing, and an earlier attempt whose answer was lost
// would have made Graph answer RoleAssignmentExists, which the provider
// takes over as a success. A refusal can even be about an assignment that
// is not ours (a standing one the provider will not take over): removing
// it would take away access jitflow never granted. Requests that failed
// before this rule removed anyway; GetVersion keeps their histories
// replaying.
func (s *accessRequest) mayHaveAssigned(ctx workflow.Context, err error) bool {
	if workflow.GetVersion(ctx, "keep-assignment-after-refusal", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return true
	}
	var app *temporal.ApplicationError
	return !errors.As(err, &app) || app.Type() != activities.ErrGraphRejected
}

// removeAfterFailure removes the role after a failed activation: an earlier
// attempt may have assigned it before its answer was lost.
func (s *accessRequest) removeAfterFailure(ctx workflow.Context) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	res, err := s.remove(ctx)
	if err != nil {
		s.logger.Error("Role not removed after failed activation", "error", err)
		s.record(ctx, AuditEvent{Type: EventFailed, Actor: ActorSystem,
			Detail: "removing any assignment left by the failed activation also failed: " + failureText(err)})
		return
	}
	s.record(ctx, AuditEvent{Type: EventDeactivated, Actor: ActorSystem,
		Detail: "cleanup after the failed activation: " + deactivatedDetail(res)})
}

// remove runs the Deactivate activity until it succeeds or Graph refuses
// for good.
func (s *accessRequest) remove(ctx workflow.Context) (activities.DeactivateResult, error) {
	in := activities.DeactivateInput{RequestID: s.in.RequestID, Assignment: s.assignment(), Reason: s.removalReason()}
	var res activities.DeactivateResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, deactivateOptions()), acts.Deactivate, in).Get(ctx, &res)
	if err != nil {
		return res, err
	}
	s.mayBeAssigned = false
	return res, nil
}

func (s *accessRequest) assignment() activities.Assignment {
	return activities.Assignment{
		PrincipalID:      s.in.Requester.ID,
		RoleDefinitionID: s.in.Target.RoleDefinitionID,
		DirectoryScopeID: s.in.Target.DirectoryScopeID,
		GroupID:          s.in.Target.GroupID,
		AccessID:         s.in.Target.AccessID,
	}
}

// removalReason is what Graph records as the justification of the removal.
func (s *accessRequest) removalReason() string {
	switch {
	case s.status == StatusFailed:
		return fmt.Sprintf("jitflow request %s: cleanup after failed activation", s.in.RequestID)
	case s.revocation != nil:
		return fmt.Sprintf("jitflow request %s: revoked by %s", s.in.RequestID, displayName(s.revocation.Actor))
	}
	return fmt.Sprintf("jitflow request %s: grant of %s ended", s.in.RequestID, s.in.Duration)
}

func (s *accessRequest) entraEndText() string {
	if s.entraEnd.IsZero() {
		return "the end of the granted duration"
	}
	return s.entraEnd.UTC().Format(time.RFC3339)
}

func activatedDetail(res activities.ActivateResult) string {
	d := fmt.Sprintf("role assigned: Graph request %s (status %s); Entra ends it at %s",
		orNone(res.GraphRequestID), orNone(res.GraphStatus), res.EndDateTime.UTC().Format(time.RFC3339))
	if res.AlreadyAssigned {
		d += "; Graph reported the assignment already existed"
	}
	return d
}

func deactivatedDetail(res activities.DeactivateResult) string {
	if res.AlreadyGone {
		return "the role was already gone"
	}
	return fmt.Sprintf("role removed: Graph request %s (status %s)", orNone(res.GraphRequestID), orNone(res.GraphStatus))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// failureText reduces an activity error to what went wrong, for people:
// the activity's own message, without Temporal's wrapping.
func failureText(err error) string {
	var app *temporal.ApplicationError
	hasApp := errors.As(err, &app)
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		text := fmt.Sprintf("gave up after a %s timeout", timeout.TimeoutType())
		if hasApp {
			text += "; last error: " + app.Message()
		}
		return text
	}
	if hasApp {
		return app.Message()
	}
	var act *temporal.ActivityError
	if errors.As(err, &act) && errors.Unwrap(act) != nil {
		return errors.Unwrap(act).Error()
	}
	return err.Error()
}
