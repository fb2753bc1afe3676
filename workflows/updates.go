package workflows

import (
	"fmt"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/api"
)

// RevokeWait bounds how long a revoke update waits for the role's removal
// before it answers with the request as it stands (deactivating, when Graph
// is slow). Callers of the update give it more time than this.
const RevokeWait = 30 * time.Second

func forbidden(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrForbidden)
}

func conflict(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrConflict)
}

func invalid(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrInvalid)
}

// validateDecide rejects a decision before it reaches history.
func (s *accessRequest) validateDecide(ctx workflow.Context, in DecideInput) error {
	if err := s.checkProof(ctx, in); err != nil {
		return err
	}
	if err := checkText("comment", in.Comment); err != nil {
		return err
	}
	if err := s.validateDecisionTarget(in); err != nil {
		return err
	}
	r := s.waitingRound()
	if r == s.req && (s.status != api.StatusPending || r.stage >= len(s.in.Stages)) {
		return conflict("request %s is %s; decisions are accepted only while it is %s", s.in.RequestID, s.status, api.StatusPending)
	}
	return r.validate(in)
}

// waitingRound is the round a decision goes to: the extension waiting for
// approval, if one does, else the request's own.
func (s *accessRequest) waitingRound() *round {
	if s.extensionPending() {
		return s.ext.round
	}
	return s.req
}

// validateDecisionTarget rejects a decision meant for something other than
// what waits now: an extension that was settled or replaced, or (from a
// link, which is bound to it) the request itself once it was decided and
// an extension waits instead.
func (s *accessRequest) validateDecisionTarget(in DecideInput) error {
	switch {
	case in.Extension < 0:
		return invalid("extension must be 1 or more (0 for the request itself), got %d", in.Extension)
	case in.Extension > 0 && !s.extensionPending():
		return conflict("extension %d of request %s is no longer waiting for a decision", in.Extension, s.in.RequestID)
	case in.Extension > 0 && s.ext.number != in.Extension:
		return conflict("the decision is for extension %d but request %s now waits on extension %d", in.Extension, s.in.RequestID, s.ext.number)
	case in.Extension == 0 && in.LinkID != "" && s.extensionPending():
		return conflict("request %s was already decided; its extension %d is decided through its own link", s.in.RequestID, s.ext.number)
	}
	return nil
}

// decide records an accepted decision in the round waiting for it. When it
// settles a stage of the request, it waits for the main coroutine to act,
// so the caller sees the stage moved on, the request denied, or activation
// under way. A decision on an extension answers at once.
func (s *accessRequest) decide(ctx workflow.Context, in DecideInput) (Request, error) {
	s.useProof(in.Proof)
	r := s.waitingRound()
	r.decide(ctx, in)
	if r == s.req && r.settled() {
		stage := r.stage
		_ = workflow.Await(ctx, func() bool { return r.stage != stage || s.status != api.StatusPending })
		s.awaitQuickActivation(ctx)
	}
	return s.view(), nil
}

// changeApprovalAnswersActivation is the GetVersion change id of the
// approval's answer waiting for a quick activation: it moves where the
// update's completion lands in history.
const changeApprovalAnswersActivation = "approval-answers-activation"

// awaitQuickActivation lets the approval that started an activation answer
// with its outcome (active, or failed and why). The hold usually completes
// within the workflow task that took the approval, whose completion is
// also what delivers the answer: waiting costs the approver nothing and
// spares them a second call. Once the hold moves to an ordinary activity
// (Graph is slow), it answers at once with activating.
func (s *accessRequest) awaitQuickActivation(ctx workflow.Context) {
	if s.status != api.StatusActivating {
		return
	}
	if !s.runsChange(ctx, changeApprovalAnswersActivation) {
		return
	}
	_ = workflow.Await(ctx, func() bool {
		return s.status != api.StatusActivating || s.holdSlow
	})
}

// validateCancel lets only the requester withdraw, and only while pending.
func (s *accessRequest) validateCancel(ctx workflow.Context, in CancelInput) error {
	if err := s.checkProof(ctx, in); err != nil {
		return err
	}
	if in.ActorID != s.in.Requester.ID {
		return forbidden("only the requester (%s) may cancel request %s", s.in.Requester.UPN, s.in.RequestID)
	}
	if s.status != api.StatusPending || s.canceled {
		return conflict("request %s is %s; it can be canceled only while it is %s", s.in.RequestID, s.status, api.StatusPending)
	}
	if s.req.settled() {
		return conflict("request %s was just decided and can no longer be canceled", s.in.RequestID)
	}
	return nil
}

// cancel withdraws the request. Approvers are not told: nothing is asked of
// them any more, and the requester did it themselves.
func (s *accessRequest) cancel(ctx workflow.Context, in CancelInput) (Request, error) {
	s.useProof(in.Proof)
	s.canceled = true
	s.record(ctx, attested(AuditEvent{Type: api.EventCanceled, Actor: s.in.Requester.UPN, ActorID: s.in.Requester.ID,
		Detail: "withdrawn by the requester", Stage: s.req.stage + 1}, in.Proof))
	_ = workflow.Await(ctx, func() bool { return s.status != api.StatusPending })
	return s.view(), nil
}

// validateRevoke accepts a revoke while the role is being or has been
// assigned, from the requester, any approver of the request or an operator.
// A revoke during activation takes effect as soon as activation finishes.
func (s *accessRequest) validateRevoke(ctx workflow.Context, in RevokeInput) error {
	if err := s.checkProof(ctx, in); err != nil {
		return err
	}
	if s.status != api.StatusActivating && s.status != api.StatusActive {
		return conflict("request %s is %s; only an %s or %s request can be revoked", s.in.RequestID, s.status, api.StatusActivating, api.StatusActive)
	}
	if s.revocation != nil {
		return conflict("request %s was already revoked by %s", s.in.RequestID, displayName(s.revocation.Actor))
	}
	if in.Actor.ID == "" {
		return invalid("actor.id is required")
	}
	if n := utf8.RuneCountInString(in.Reason); n > maxTextLen {
		return invalid("reason is %d characters long; at most %d are accepted", n, maxTextLen)
	}
	if err := checkText("reason", in.Reason); err != nil {
		return err
	}
	if _, known := s.person(in.Actor.ID); !known && !in.Operator {
		return forbidden("%s may not revoke request %s: only its requester, its approvers and operators may", displayName(in.Actor), s.in.RequestID)
	}
	return nil
}

// revoke ends the grant early and waits (bounded) for the role's removal, so
// the caller can say the role is gone.
func (s *accessRequest) revoke(ctx workflow.Context, in RevokeInput) (Request, error) {
	s.useProof(in.Proof)
	s.revocation = &in
	detail := in.Reason
	if detail == "" {
		detail = "no reason given"
	}
	if in.Operator {
		detail = "as operator: " + detail
	}
	s.record(ctx, attested(AuditEvent{Type: api.EventRevoked, Actor: in.Actor.UPN, ActorID: in.Actor.ID, Detail: detail}, in.Proof))
	// When Entra makes the removal wait, the caller learns so at once.
	_, _ = workflow.AwaitWithTimeout(ctx, RevokeWait, func() bool { return s.status.Terminal() || !s.removalWaitsUntil.IsZero() })
	return s.view(), nil
}

// displayName is how messages name a person: by principal name when known.
func displayName(p Person) string {
	if p.UPN != "" {
		return p.UPN
	}
	return p.ID
}
