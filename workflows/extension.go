package workflows

import (
	"fmt"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
)

// extension is one ask for more time on an active grant. It goes through
// the role's stages again (with their escalation) unless the role lets an
// extension this short through without approval; once granted, the main
// coroutine has the assignment workflow move Entra's end and then moves
// the request's own timer.
type extension struct {
	number      int
	in          ExtendInput
	requestedAt time.Time
	// round is the extension's approval; nil when none is needed.
	round   *round
	granted bool
}

func (s *accessRequest) extensionPending() bool {
	return s.ext != nil && !s.ext.granted && s.status == api.StatusActive
}

func (s *accessRequest) extensionGranted() bool {
	return s.ext != nil && s.ext.granted
}

// validateExtend accepts one extension at a time, from the requester, of an
// active grant held through the assignment workflow.
func (s *accessRequest) validateExtend(ctx workflow.Context, in ExtendInput) error {
	if err := s.checkProof(ctx, in); err != nil {
		return err
	}
	switch {
	case s.status != api.StatusActive:
		return conflict("request %s is %s; only an %s request can be extended", s.in.RequestID, s.status, api.StatusActive)
	case s.revocation != nil:
		return conflict("request %s was revoked", s.in.RequestID)
	case s.ext != nil:
		return conflict("request %s already has extension %d in progress", s.in.RequestID, s.ext.number)
	case in.Actor.ID != s.in.Requester.ID:
		return forbidden("only the requester (%s) may extend request %s", s.in.Requester.UPN, s.in.RequestID)
	case in.Duration <= 0:
		return invalid("duration must be positive, got %s", in.Duration)
	case s.in.Extension.MaxDuration > 0 && in.Duration > s.in.Extension.MaxDuration:
		return invalid("duration %s is longer than the %s an extension of role %q may add", in.Duration, s.in.Extension.MaxDuration, s.in.Target.Role)
	}
	if n := utf8.RuneCountInString(in.Justification); n > maxTextLen {
		return invalid("justification is %d characters long; at most %d are accepted", n, maxTextLen)
	}
	if err := checkText("justification", in.Justification); err != nil {
		return err
	}
	return nil
}

// extend records the ask. An extension that needs no approval is applied
// before the answer; one that does is answered at once, pending approval.
func (s *accessRequest) extend(ctx workflow.Context, in ExtendInput) (Request, error) {
	s.useProof(in.Proof)
	s.extensionAsks++
	e := &extension{number: s.extensionAsks, in: in, requestedAt: workflow.Now(ctx)}
	s.ext = e
	detail := fmt.Sprintf("extension %d: %s more", e.number, in.Duration)
	if in.Justification != "" {
		detail += ": " + in.Justification
	}
	s.record(ctx, attested(AuditEvent{Type: api.EventExtensionRequested, Actor: s.in.Requester.UPN, ActorID: s.in.Requester.ID, Detail: detail}, in.Proof))
	if len(s.in.Stages) == 0 || in.Duration <= s.in.Extension.WithoutApprovalUpTo {
		e.granted = true
		_ = workflow.Await(ctx, func() bool { return s.ext != e })
		return s.view(), nil
	}
	e.round = newRound(s, e.number, func() bool { return s.ext != e })
	e.round.asker, e.round.ask = s.in.Requester.UPN, e.about()
	workflow.Go(ctx, func(ctx workflow.Context) { s.approveExtension(ctx, e) })
	return s.view(), nil
}

// about is what the emails asking to decide the extension say of it.
func (e *extension) about() string {
	about := fmt.Sprintf("extension %d: %s more", e.number, e.in.Duration)
	if e.in.Justification != "" {
		about += ": " + e.in.Justification
	}
	return about
}

// approveExtension runs the extension's round. It ends when every stage
// approved, someone denied, the last tier of a stage stayed silent, a
// stage had nobody to ask (the grant runs on unchanged), or the request
// ended. Extensions asked for before ChangeExtensionRound keep that
// version's commands (see round.oldExtension).
func (s *accessRequest) approveExtension(ctx workflow.Context, e *extension) {
	r := e.round
	r.oldExtension = !s.runsChange(ctx, ChangeExtensionRound)
	end, err := r.run(ctx)
	switch {
	case err != nil || end == roundStopped:
	case end == roundDenied:
		d := r.decisions[r.denial]
		s.refuseExtension(ctx, r.denialReason())
		s.emailExtension(ctx, activities.MailExtensionDenied, e, d.Approver, d.Comment)
	case end == roundTimedOut:
		s.refuseExtension(ctx, r.timeoutReason())
		s.emailExtension(ctx, activities.MailExtensionTimedOut, e, "", r.timeoutReason())
	case end == roundNobody:
		s.logger.Error("Extension refused: a stage has nobody to ask", "extension", e.number, "stage", r.stage+1, "reason", r.failure)
		s.refuseExtension(ctx, r.failure)
		s.emailExtension(ctx, activities.MailExtensionRefused, e, "", r.failure)
	default:
		e.granted = true
	}
}

// applyExtension has the assignment workflow hold the role until the new
// end (moving Entra's expiration), then moves the request's timer.
func (s *accessRequest) applyExtension(ctx workflow.Context) error {
	e := s.ext
	in := s.holdInput(s.expiresAt.Add(e.in.Duration))
	if e.in.Justification != "" {
		in.Justification = e.in.Justification
	}
	res, err := s.holdGrant(ctx, in)
	switch {
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil:
		reason := "extending the assignment failed: " + activities.FailureText(err)
		s.refuseExtension(ctx, reason)
		s.emailExtension(ctx, activities.MailExtensionRefused, e, "", reason)
		return nil
	case res.Failure != "":
		s.refuseExtension(ctx, res.Failure)
		s.emailExtension(ctx, activities.MailExtensionRefused, e, "", res.Failure)
		return nil
	}
	s.expiresAt, s.entraEnd = res.Until, res.EntraEnd
	s.extensions++
	s.ext = nil
	detail := fmt.Sprintf("extension %d: %s more; the grant now ends at %s", e.number, e.in.Duration, s.expiresAt.UTC().Format(time.RFC3339))
	if res.Extension != nil {
		detail += fmt.Sprintf("; Entra's end moved to %s by Graph request %s", res.Extension.EndDateTime.UTC().Format(time.RFC3339), orNone(res.Extension.GraphRequestID))
	}
	if res.AlreadyHeld != nil {
		detail += "; the requester's own assignment (held before jitflow) carries it"
	}
	s.record(ctx, AuditEvent{Type: api.EventExtended, Actor: api.ActorSystem, Detail: detail})
	s.emailExtension(ctx, activities.MailExtensionGranted, e, "", "")
	return nil
}

// refuseExtension ends the extension without changing the grant. The
// requester sees it in the request (no extension in progress, the same
// expires_at), its audit trail and the email its caller sends.
func (s *accessRequest) refuseExtension(ctx workflow.Context, reason string) {
	e := s.ext
	s.ext = nil
	s.record(ctx, AuditEvent{Type: api.EventExtensionRefused, Actor: api.ActorSystem, Detail: fmt.Sprintf("extension %d: %s", e.number, reason)})
}

// emailExtension tells the requester how extension e ended (kind), with
// who decided and why when that matters, and the grant's end as it stands.
// Extensions settled before ChangeExtensionOutcomeEmails told nobody; the
// trail kept their outcome.
func (s *accessRequest) emailExtension(ctx workflow.Context, kind string, e *extension, actor, reason string) {
	if !s.runsChange(ctx, ChangeExtensionOutcomeEmails) {
		return
	}
	to := []Person{s.in.Requester}
	in := s.emailInput(kind, to, fmt.Sprintf("%s/%s/x%d", s.in.RequestID, kind, e.number), actor, reason)
	in.Request.Extension, in.Request.ExtensionDuration = e.number, e.in.Duration
	s.startEmail(ctx, in, to)
}

// dropExtension forgets an extension the end of the grant overtook.
func (s *accessRequest) dropExtension(ctx workflow.Context) {
	if s.ext == nil {
		return
	}
	e := s.ext
	s.ext = nil
	s.record(ctx, AuditEvent{Type: api.EventExtensionRefused, Actor: api.ActorSystem, Detail: fmt.Sprintf("extension %d: the grant ended before it was settled", e.number)})
}

// extensionView is the public picture of the extension in progress.
func (s *accessRequest) extensionView() *ExtensionView {
	e := s.ext
	if e == nil {
		return nil
	}
	v := &ExtensionView{
		Number:        e.number,
		Status:        api.StatusPending,
		Duration:      e.in.Duration.String(),
		DurationSecs:  int64(e.in.Duration / time.Second),
		Justification: e.in.Justification,
		RequestedAt:   e.requestedAt,
		Approvers:     []Approver{},
	}
	if e.granted || e.round == nil {
		v.Status = api.StatusActivating
		return v
	}
	v.Stage = e.round.stage + 1
	v.EscalatesAt = timePtr(e.round.escalatesAt)
	for _, p := range e.round.approvers() {
		v.Approvers = append(v.Approvers, Approver{Approver: p.UPN, ApproverID: p.ID})
	}
	return v
}
