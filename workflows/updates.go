package workflows

import (
	"fmt"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
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
	if s.extensionPending() {
		return s.validateExtensionDecide(in)
	}
	if s.status != StatusPending || s.stage >= len(s.in.Stages) {
		return conflict("request %s is %s; decisions are accepted only while it is %s", s.in.RequestID, s.status, StatusPending)
	}
	if in.Decision != DecisionApprove && in.Decision != DecisionDeny {
		return invalid("decision must be %q or %q, got %q", DecisionApprove, DecisionDeny, in.Decision)
	}
	if n := utf8.RuneCountInString(in.Comment); n > maxTextLen {
		return invalid("comment is %d characters long; at most %d are accepted", n, maxTextLen)
	}
	if in.ApproverID == "" {
		return invalid("approver_id is required")
	}
	if in.ApproverID == s.in.Requester.ID {
		return forbidden("%s requested this access and cannot decide on it", s.in.Requester.UPN)
	}
	if in.Stage != 0 && in.Stage != s.stage+1 {
		return conflict("the decision is for stage %d but request %s is at stage %d", in.Stage, s.in.RequestID, s.stage+1)
	}
	if i := s.decisionBy(in.ApproverID); i >= 0 {
		d := s.decisions[i]
		return conflict("%s already decided (%s) in stage %d; each approver decides once per request", d.Approver, d.Decision, d.Stage)
	}
	if err := s.mayDecide(in.ApproverID); err != nil {
		return err
	}
	if s.stageSettled() {
		return conflict("stage %d of request %s is already settled", s.stage+1, s.in.RequestID)
	}
	return nil
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

// mayDecide says why id may not decide the current stage, if so.
func (s *accessRequest) mayDecide(id string) error {
	st := s.in.Stages[s.stage]
	name := id
	if p, ok := s.in.person(id); ok && p.UPN != "" {
		name = p.UPN
	}
	tier := st.tierOf(id)
	switch {
	case tier < 0:
		for i, other := range s.in.Stages {
			if other.tierOf(id) >= 0 {
				return forbidden("%s approves stage %d, not the current stage %d (%s)", name, i+1, s.stage+1, st.Name)
			}
		}
		return forbidden("%s is not an approver of request %s", name, s.in.RequestID)
	case tier > s.tier:
		return forbidden("%s is an approver of tier %d of stage %d, which is reached only by escalation (the stage is at tier %d)",
			name, tier+1, s.stage+1, s.tier+1)
	}
	return nil
}

// decide records an accepted decision. When it settles the stage, it waits
// for the main coroutine to act, so the caller sees the stage moved on, the
// request denied, or activation under way.
func (s *accessRequest) decide(ctx workflow.Context, in DecideInput) (Request, error) {
	s.useProof(in.Proof)
	if s.extensionPending() {
		return s.decideExtension(ctx, in), nil
	}
	p, _ := s.in.person(in.ApproverID)
	d := Decision{
		Approver:   p.UPN,
		ApproverID: p.ID,
		Decision:   in.Decision,
		Comment:    in.Comment,
		Time:       workflow.Now(ctx),
		Stage:      s.stage + 1,
	}
	s.decisions = append(s.decisions, d)
	event := EventApproved
	if d.Decision == DecisionDeny {
		event = EventDenied
		s.denial = len(s.decisions) - 1
	}
	detail := fmt.Sprintf("stage %d of %d", d.Stage, len(s.in.Stages))
	if d.Comment != "" {
		detail += ": " + d.Comment
	}
	s.record(ctx, attested(AuditEvent{Type: event, Actor: d.Approver, ActorID: d.ApproverID, Detail: detail, Stage: d.Stage}, in.Proof))
	if s.stageSettled() {
		stage := s.stage
		_ = workflow.Await(ctx, func() bool { return s.stage != stage || s.status != StatusPending })
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
	if s.status != StatusActivating {
		return
	}
	if workflow.GetVersion(ctx, changeApprovalAnswersActivation, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	_ = workflow.Await(ctx, func() bool {
		return s.status != StatusActivating || s.holdSlow
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
	if s.status != StatusPending || s.canceled {
		return conflict("request %s is %s; it can be canceled only while it is %s", s.in.RequestID, s.status, StatusPending)
	}
	if s.stageSettled() {
		return conflict("request %s was just decided and can no longer be canceled", s.in.RequestID)
	}
	return nil
}

// cancel withdraws the request. Approvers are not told: nothing is asked of
// them any more, and the requester did it themselves.
func (s *accessRequest) cancel(ctx workflow.Context, in CancelInput) (Request, error) {
	s.useProof(in.Proof)
	s.canceled = true
	s.record(ctx, attested(AuditEvent{Type: EventCanceled, Actor: s.in.Requester.UPN, ActorID: s.in.Requester.ID,
		Detail: "withdrawn by the requester", Stage: s.stage + 1}, in.Proof))
	_ = workflow.Await(ctx, func() bool { return s.status != StatusPending })
	return s.view(), nil
}

// validateRevoke accepts a revoke while the role is being or has been
// assigned, from the requester, any approver of the request or an operator.
// A revoke during activation takes effect as soon as activation finishes.
func (s *accessRequest) validateRevoke(ctx workflow.Context, in RevokeInput) error {
	if err := s.checkProof(ctx, in); err != nil {
		return err
	}
	if s.status != StatusActivating && s.status != StatusActive {
		return conflict("request %s is %s; only an %s or %s request can be revoked", s.in.RequestID, s.status, StatusActivating, StatusActive)
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
	if _, known := s.in.person(in.Actor.ID); !known && !in.Operator {
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
	s.record(ctx, attested(AuditEvent{Type: EventRevoked, Actor: in.Actor.UPN, ActorID: in.Actor.ID, Detail: detail}, in.Proof))
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
