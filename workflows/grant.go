package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
)

// notifyBreakGlass tells the security list that a role is being activated
// without approval.
func (s *accessRequest) notifyBreakGlass(ctx workflow.Context) {
	s.sendEmail(ctx, activities.MailBreakGlass, s.in.Notify, s.nextKey(activities.MailBreakGlass), s.in.Requester.UPN, s.in.Justification)
}

// EndNoticeWait is how long past its end a request waits for the
// assignment workflow's notice before releasing the role itself.
const EndNoticeWait = 30 * time.Second

// grantEnded: the assignment workflow ended the grant (or dropped it, the
// role gone), or its removal waits on Entra (so the request shows
// deactivating).
func (s *accessRequest) grantEnded() bool {
	return s.endNotice != nil || s.roleLost != nil || !s.removalWaitsUntil.IsZero()
}

// changeAssignmentWorkflow is the GetVersion change id of holding the role
// through the assignment workflow (overlapping grants, extensions, roles
// held before jitflow) instead of assigning and removing it directly. It
// is pinned: every request holds the role that way, and requests that
// assigned the role themselves were drained before workers ran this code
// (docs/workflow-changes.md, "Drain before upgrading").
const changeAssignmentWorkflow = "assignment-workflow"

// activate checks the requester's eligibility when the role asks for
// one, then asks the assignment workflow to hold the role for this request
// and waits until it is active. It leaves the request active or failed. An
// error means the workflow was cancelled; the role may then be held.
func (s *accessRequest) activate(ctx workflow.Context) error {
	if s.in.RequireEligibility {
		if ok, err := s.stillEligible(ctx); err != nil || !ok {
			return err
		}
	}
	s.mayBeAssigned = true
	s.quickHold = true
	res, err := s.holdGrant(ctx, s.holdInput(time.Time{}))
	s.quickHold = false
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		s.fail(ctx, "activation failed: "+activities.FailureText(err))
		s.releaseAfterFailure(ctx)
		return nil
	}
	if res.Failure != "" {
		s.mayBeAssigned = false
		s.fail(ctx, res.Failure)
		return nil
	}
	// The grant's clock started when the role was really there: with a new
	// assignment that is Entra's start, a moment before the answer arrived.
	s.activatedAt = workflow.Now(ctx)
	if start := res.Until.Add(-s.in.Duration); start.Before(s.activatedAt) {
		s.activatedAt = start
	}
	s.expiresAt = res.Until
	s.entraEnd = res.EntraEnd
	s.alreadyHeld = res.AlreadyHeld != nil
	s.setStatus(ctx, api.StatusActive)
	if h := res.AlreadyHeld; h != nil {
		s.record(ctx, AuditEvent{Type: api.EventAlreadyHeld, Actor: api.ActorSystem, Detail: alreadyHeldDetail(*h)})
	}
	ev := AuditEvent{Type: api.EventActivated, Actor: api.ActorSystem, Detail: heldDetail(res)}
	if a := res.Activation; a != nil {
		ev.GraphRequestID, ev.GraphStatus = a.GraphRequestID, a.GraphStatus
	}
	s.record(ctx, ev)
	s.emailRequester(ctx, activities.MailActive, "", "")
	return nil
}

// holdGrant asks the assignment workflow to hold the role (see
// assignments.Hold); once the wait moves to an ordinary activity the
// activation no longer finishes within the current workflow task.
func (s *accessRequest) holdGrant(ctx workflow.Context, in assignments.HoldInput) (assignments.HoldResult, error) {
	return assignments.Hold(ctx, in, func() { s.holdSlow = true })
}

func (s *accessRequest) holdInput(until time.Time) assignments.HoldInput {
	return assignments.HoldInput{
		RequestID:     s.in.RequestID,
		Assignment:    s.assignment(),
		Duration:      s.in.Duration,
		Until:         until,
		Justification: s.in.Justification,
		Ticket:        s.in.Ticket,
	}
}

// stillEligible asks Entra whether the requester still holds the PIM
// eligibility the role requires; without it the request fails.
func (s *accessRequest) stillEligible(ctx workflow.Context) (bool, error) {
	in := activities.EligibilityInput{RequestID: s.in.RequestID, Assignment: s.assignment()}
	res, err := assignments.CheckEligibility(ctx, in)
	switch {
	case err != nil && ctx.Err() != nil:
		return false, err
	case err != nil:
		s.fail(ctx, "could not check the requester's PIM eligibility: "+activities.FailureText(err))
		return false, nil
	case !res.Eligible:
		s.fail(ctx, fmt.Sprintf("%s no longer holds a PIM eligibility for %s, which role %q requires", s.in.Requester.UPN, s.assignment().TargetString(), s.in.Target.Role))
		return false, nil
	}
	return true, nil
}

// hold keeps the grant until it runs out or is revoked, applying
// granted extensions on the way. An error means the workflow was cancelled.
//
// Since assignments.ChangeGrantEndNotice the assignment workflow ends the
// grant at its end and tells the request what became of the role; the
// request waits EndNoticeWait past its end for that notice before it
// releases the role itself (an assignment workflow started before the
// change never tells).
//
// The requester's ending_soon notice (ChangeEndingSoon) has a timer of its
// own, ahead of the end: when it fires the loop sends the email and waits
// again for the same end, so the notice never moves the removal.
func (s *accessRequest) hold(ctx workflow.Context) error {
	notice := s.runsChange(ctx, assignments.ChangeGrantEndNotice)
	soon := s.newEndingSoon(ctx)
	defer soon.stop()
	for {
		left := s.expiresAt.Sub(workflow.Now(ctx))
		if notice {
			left += EndNoticeWait
		}
		if left <= 0 {
			return nil
		}
		soon.arm(ctx, s)
		more, err := workflow.AwaitWithTimeout(ctx, left, func() bool {
			return s.revocation != nil || s.extensionGranted() || s.grantEnded() || soon.due()
		})
		if err != nil || s.revocation != nil || s.grantEnded() {
			return err
		}
		if soon.due() {
			soon.send(ctx, s)
			continue
		}
		if !more {
			return nil
		}
		if err := s.applyExtension(ctx); err != nil {
			return err
		}
	}
}

// deactivate gives up the hold and ends the request expired or revoked. It
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
	s.setStatus(ctx, api.StatusDeactivating)
	s.release(ctx)
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
		s.setStatus(ctx, api.StatusRevoked)
		s.emailRequester(ctx, activities.MailRevoked, displayName(r.Actor), r.Reason)
		return
	}
	s.setStatus(ctx, api.StatusExpired)
	s.record(ctx, AuditEvent{Type: api.EventExpired, Actor: api.ActorSystem, Detail: fmt.Sprintf("the grant of %s ran out", s.in.Duration)})
	s.emailRequester(ctx, activities.MailExpired, "", "")
}

// release gives up this request's hold and ends the request: the role is
// removed when no other request holds it, and never when the requester
// held it before jitflow.
func (s *accessRequest) release(ctx workflow.Context) {
	res, err := s.releaseGrant(ctx)
	if err != nil {
		s.fail(ctx, fmt.Sprintf("removing the role failed: %s; Entra ends the assignment by itself at %s", activities.FailureText(err), s.entraEndText()))
		return
	}
	s.released(ctx, res)
}

// released ends the request with what became of the role.
func (s *accessRequest) released(ctx workflow.Context, res assignments.ReleaseResult) {
	s.mayBeAssigned = false
	if res.Failure != "" {
		s.fail(ctx, fmt.Sprintf("removing the role failed: %s; Entra ends the assignment by itself at %s", res.Failure, s.entraEndText()))
		return
	}
	s.record(ctx, removedEvent(res, releasedDetail(res)))
	s.ended(ctx)
}

func (s *accessRequest) releaseGrant(ctx workflow.Context) (assignments.ReleaseResult, error) {
	in := assignments.ReleaseInput{RequestID: s.in.RequestID, Assignment: s.assignment(), Reason: s.removalReason()}
	res, err := assignments.Release(ctx, in)
	if err == nil {
		s.mayBeAssigned = false
	}
	return res, err
}

// releaseAfterFailure gives up a hold the failed activation may have left.
func (s *accessRequest) releaseAfterFailure(ctx workflow.Context) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	res, err := s.releaseGrant(ctx)
	if err == nil && res.Failure != "" {
		err = errors.New(res.Failure)
	}
	if err != nil {
		s.logger.Error("Role not removed after failed activation", "error", err)
		s.record(ctx, AuditEvent{Type: api.EventFailed, Actor: api.ActorSystem,
			Detail: "removing any assignment left by the failed activation also failed: " + activities.FailureText(err)})
		return
	}
	s.record(ctx, removedEvent(res, "cleanup after the failed activation: "+releasedDetail(res)))
}

// removedEvent is the deactivated event of a release, with Graph's answer
// when the role was removed.
func removedEvent(res assignments.ReleaseResult, detail string) AuditEvent {
	ev := AuditEvent{Type: api.EventDeactivated, Actor: api.ActorSystem, Detail: detail}
	if r := res.Removal; r != nil {
		ev.GraphRequestID, ev.GraphStatus = r.GraphRequestID, r.GraphStatus
	}
	return ev
}

// receiveRemovalProgress records what the assignment workflow says about a
// removal this request waits for.
func (s *accessRequest) receiveRemovalProgress(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, assignments.SignalRemoval)
	for {
		var p assignments.RemovalProgress
		ch.Receive(ctx, &p)
		if !s.trustNotice(ctx, p) {
			continue
		}
		switch {
		case p.Alert != "":
			s.logger.Error("Role removal keeps failing", "detail", p.Alert)
			s.record(ctx, AuditEvent{Type: api.EventAlert, Actor: api.ActorSystem, Detail: p.Alert})
		case p.Ended != nil:
			// The grant reached its end; holdShared moves on.
			s.endNotice = p.Ended
		case p.Reassigned != nil && p.Reassigned.Failure != "":
			// The role is gone; the main coroutine ends the request.
			s.roleLost = p.Reassigned
		case p.Reassigned != nil:
			s.alreadyHeld = false
			if a := p.Reassigned.Activation; a != nil {
				s.entraEnd = a.EndDateTime
			}
			s.record(ctx, AuditEvent{Type: api.EventReassigned, Actor: api.ActorSystem, Detail: reassignedDetail(*p.Reassigned)})
		case !p.AllowedAt.IsZero():
			s.removalWaitsUntil = p.AllowedAt
			s.record(ctx, AuditEvent{Type: api.EventDeactivating, Actor: api.ActorSystem,
				Detail: fmt.Sprintf("Entra allows removing the role only from %s; jitflow removes it then", p.AllowedAt.UTC().Format(time.RFC3339))})
		}
	}
}

func (s *accessRequest) assignment() graph.Assignment {
	return graph.Assignment{
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
	case s.status == api.StatusFailed:
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

func activatedDetail(res graph.ActivateResult) string {
	d := fmt.Sprintf("role assigned: Graph request %s (status %s); Entra ends it at %s",
		orNone(res.GraphRequestID), orNone(res.GraphStatus), res.EndDateTime.UTC().Format(time.RFC3339))
	if res.AlreadyAssigned {
		d += "; Graph reported the assignment already existed"
	}
	return d
}

func deactivatedDetail(res graph.DeactivateResult) string {
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

func alreadyHeldDetail(inst graph.Instance) string {
	end := "no end (standing)"
	if !inst.Permanent() {
		end = "Entra ends it at " + inst.EndDateTime.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("the requester already holds this assignment (instance %s, %s, %s), which jitflow did not make: it is left in place and never removed",
		orNone(inst.ID), orNone(inst.AssignmentType), end)
}

func reassignedDetail(r assignments.Reassignment) string {
	d := fmt.Sprintf("the requester's own assignment (instance %s), which this grant rode on, ended at %s, before the grant: jitflow assigned the role again for the rest of the grant and removes it when the grant ends",
		orNone(r.Previous.ID), r.Previous.EndDateTime.UTC().Format(time.RFC3339))
	if r.Activation != nil {
		d += "; " + activatedDetail(*r.Activation)
	}
	return d
}

func heldDetail(res assignments.HoldResult) string {
	var parts []string
	switch {
	case res.Activation != nil:
		parts = append(parts, activatedDetail(*res.Activation))
		if res.Activation.NotVisible {
			parts = append(parts, "Graph did not list the new assignment yet when jitflow stopped waiting for it")
		} else if res.Activation.VisibleAfter > 0 {
			parts = append(parts, fmt.Sprintf("Graph listed it after %s", res.Activation.VisibleAfter))
		}
		if ids := res.Activation.HTTPRequestIDs; len(ids) > 0 {
			parts = append(parts, "Graph request-ids "+strings.Join(ids, ", "))
		}
	case res.AlreadyHeld != nil:
		parts = append(parts, "held through the assignment the requester already had")
	default:
		parts = append(parts, "the role was already active for another jitflow request of the requester")
	}
	if res.Extension != nil {
		parts = append(parts, "Entra's end moved to "+res.Extension.EndDateTime.UTC().Format(time.RFC3339)+" by Graph request "+orNone(res.Extension.GraphRequestID))
	}
	parts = append(parts, "granted until "+res.Until.UTC().Format(time.RFC3339))
	return strings.Join(parts, "; ")
}

func releasedDetail(res assignments.ReleaseResult) string {
	switch {
	case res.Removal != nil:
		return deactivatedDetail(*res.Removal)
	case res.AlreadyHeld:
		return "the role stays: the requester held it before jitflow"
	case res.Remaining > 0:
		return fmt.Sprintf("the role stays: %d other jitflow request(s) of the requester still hold it", res.Remaining)
	}
	return "nothing was held any more"
}
