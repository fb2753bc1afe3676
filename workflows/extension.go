package workflows

import (
	"fmt"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
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
	stage, tier int
	escalatesAt time.Time
	decisions   []Decision
	denial      *Decision
	granted     bool
}

func (s *accessRequest) extensionPending() bool {
	return s.ext != nil && !s.ext.granted && s.status == StatusActive
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
	case s.status != StatusActive:
		return conflict("request %s is %s; only an %s request can be extended", s.in.RequestID, s.status, StatusActive)
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
	s.record(ctx, attested(AuditEvent{Type: EventExtensionRequested, Actor: s.in.Requester.UPN, ActorID: s.in.Requester.ID, Detail: detail}, in.Proof))
	if len(s.in.Stages) == 0 || in.Duration <= s.in.Extension.WithoutApprovalUpTo {
		e.granted = true
		_ = workflow.Await(ctx, func() bool { return s.ext != e })
		return s.view(), nil
	}
	workflow.Go(ctx, func(ctx workflow.Context) { s.approveExtension(ctx, e) })
	return s.view(), nil
}

// approveExtension runs the role's stages for the extension. It ends when
// they all approved, someone denied, the last tier of a stage stayed
// silent, or the request ended.
func (s *accessRequest) approveExtension(ctx workflow.Context, e *extension) {
	for e.stage = 0; e.stage < len(s.in.Stages); e.stage++ {
		st := s.in.Stages[e.stage]
		for e.tier = 0; ; {
			e.escalatesAt = workflow.Now(ctx).Add(st.Tiers[e.tier].Timeout)
			s.emailExtensionApprovers(ctx, e)
			if _, err := workflow.AwaitWithTimeout(ctx, st.Tiers[e.tier].Timeout, func() bool {
				return s.ext != e || e.denial != nil || e.approvals() >= st.Approvals
			}); err != nil || s.ext != e {
				return
			}
			if e.denial != nil {
				s.refuseExtension(ctx, "denied by "+e.denial.Approver)
				return
			}
			if e.approvals() >= st.Approvals {
				break
			}
			if e.tier+1 >= len(st.Tiers) {
				s.refuseExtension(ctx, fmt.Sprintf("no decision in stage %d (%s) before its last tier ran out", e.stage+1, st.Name))
				return
			}
			e.tier++
			s.record(ctx, AuditEvent{Type: EventEscalated, Actor: ActorSystem, Stage: e.stage + 1,
				Detail: fmt.Sprintf("extension %d, stage %d (%s): no decision within %s; tier %d may decide now", e.number, e.stage+1, st.Name, st.Tiers[e.tier-1].Timeout, e.tier+1)})
		}
	}
	e.escalatesAt = time.Time{}
	e.granted = true
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
		s.refuseExtension(ctx, "extending the assignment failed: "+activities.FailureText(err))
		return nil
	case res.Failure != "":
		s.refuseExtension(ctx, res.Failure)
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
	s.record(ctx, AuditEvent{Type: EventExtended, Actor: ActorSystem, Detail: detail})
	return nil
}

// refuseExtension ends the extension without changing the grant. The
// requester sees it in the request (no extension in progress, the same
// expires_at) and its audit trail.
func (s *accessRequest) refuseExtension(ctx workflow.Context, reason string) {
	e := s.ext
	s.ext = nil
	s.record(ctx, AuditEvent{Type: EventExtensionRefused, Actor: ActorSystem, Detail: fmt.Sprintf("extension %d: %s", e.number, reason)})
}

// dropExtension forgets an extension the end of the grant overtook.
func (s *accessRequest) dropExtension(ctx workflow.Context) {
	if s.ext == nil {
		return
	}
	e := s.ext
	s.ext = nil
	s.record(ctx, AuditEvent{Type: EventExtensionRefused, Actor: ActorSystem, Detail: fmt.Sprintf("extension %d: the grant ended before it was settled", e.number)})
}

func (s *accessRequest) validateExtensionDecide(in DecideInput) error {
	e := s.ext
	switch {
	case in.Decision != DecisionApprove && in.Decision != DecisionDeny:
		return invalid("decision must be %q or %q, got %q", DecisionApprove, DecisionDeny, in.Decision)
	case utf8.RuneCountInString(in.Comment) > maxTextLen:
		return invalid("comment is longer than %d characters", maxTextLen)
	case in.ApproverID == "":
		return invalid("approver_id is required")
	case in.ApproverID == s.in.Requester.ID:
		return forbidden("%s asked for this extension and cannot decide on it", s.in.Requester.UPN)
	case in.Stage != 0 && in.Stage != e.stage+1:
		return conflict("the decision is for stage %d but extension %d of request %s is at stage %d", in.Stage, e.number, s.in.RequestID, e.stage+1)
	case e.denial != nil || e.approvals() >= s.in.Stages[e.stage].Approvals:
		return conflict("stage %d of extension %d is already settled", e.stage+1, e.number)
	}
	for _, d := range e.decisions {
		if d.ApproverID == in.ApproverID {
			return conflict("%s already decided (%s) on extension %d", d.Approver, d.Decision, e.number)
		}
	}
	tier := s.in.Stages[e.stage].tierOf(in.ApproverID)
	switch {
	case tier < 0:
		return forbidden("%s is not an approver of stage %d of extension %d of request %s", in.ApproverID, e.stage+1, e.number, s.in.RequestID)
	case tier > e.tier:
		return forbidden("%s is an approver of tier %d, which is reached only by escalation (the stage is at tier %d)", in.ApproverID, tier+1, e.tier+1)
	}
	return nil
}

// decideExtension records an accepted decision on the extension.
func (s *accessRequest) decideExtension(ctx workflow.Context, in DecideInput) Request {
	e := s.ext
	p, _ := s.in.person(in.ApproverID)
	d := Decision{Approver: p.UPN, ApproverID: p.ID, Decision: in.Decision, Comment: in.Comment,
		Time: workflow.Now(ctx), Stage: e.stage + 1, Extension: e.number}
	e.decisions = append(e.decisions, d)
	s.decisions = append(s.decisions, d)
	event := EventApproved
	if d.Decision == DecisionDeny {
		event = EventDenied
		e.denial = &e.decisions[len(e.decisions)-1]
	}
	detail := fmt.Sprintf("extension %d, stage %d of %d", e.number, d.Stage, len(s.in.Stages))
	if d.Comment != "" {
		detail += ": " + d.Comment
	}
	s.record(ctx, attested(AuditEvent{Type: event, Actor: d.Approver, ActorID: d.ApproverID, Detail: detail, Stage: d.Stage}, in.Proof))
	return s.view()
}

func (e *extension) approvals() int {
	n := 0
	for _, d := range e.decisions {
		if d.Stage == e.stage+1 && d.Decision == DecisionApprove {
			n++
		}
	}
	return n
}

// approvers are the people who may decide the extension's current stage.
func (s *accessRequest) extensionApprovers(e *extension) []Person {
	if e.granted || e.stage >= len(s.in.Stages) {
		return nil
	}
	var out []Person
	for _, p := range s.in.Stages[e.stage].reached(e.tier) {
		decided := false
		for _, d := range e.decisions {
			decided = decided || d.ApproverID == p.ID
		}
		if p.ID != s.in.Requester.ID && !decided {
			out = append(out, p)
		}
	}
	return out
}

// emailExtensionApprovers asks the approvers the current tier adds.
func (s *accessRequest) emailExtensionApprovers(ctx workflow.Context, e *extension) {
	st := s.in.Stages[e.stage]
	var to []Person
	for _, p := range s.extensionApprovers(e) {
		if st.tierOf(p.ID) == e.tier {
			to = append(to, p)
		}
	}
	key := fmt.Sprintf("%s/%s/x%d/s%dt%d", s.in.RequestID, activities.MailApprovalNeeded, e.number, e.stage+1, e.tier+1)
	reason := fmt.Sprintf("extension %d: %s more", e.number, e.in.Duration)
	if e.in.Justification != "" {
		reason += ": " + e.in.Justification
	}
	in := s.emailInput(activities.MailApprovalNeeded, to, key, s.in.Requester.UPN, reason)
	s.describeExtension(&in, e)
	s.startEmail(ctx, in, to)
}

// describeExtension makes an email about the request one about its
// extension's approval: the extension's stage, tier and approvers, and
// links bound to the extension that stop working when its stage runs out
// or the grant ends, whichever comes first.
func (s *accessRequest) describeExtension(in *activities.EmailInput, e *extension) {
	st := s.in.Stages[e.stage]
	r := &in.Request
	r.Extension = e.number
	r.Stage, r.StageName = e.stage+1, st.Name
	r.Approvals, r.Approved = st.Approvals, e.approvals()
	r.FinalTier = e.tier == len(st.Tiers)-1
	r.EscalatesAt = timePtr(e.escalatesAt)
	r.Approvers = nil
	for _, p := range s.extensionApprovers(e) {
		r.Approvers = append(r.Approvers, p.UPN)
	}
	ends := e.escalatesAt
	for _, t := range st.Tiers[e.tier+1:] {
		ends = ends.Add(t.Timeout)
	}
	if !s.expiresAt.IsZero() && s.expiresAt.Before(ends) {
		ends = s.expiresAt
	}
	in.LinkExpires = ends
}

// extensionView is the public picture of the extension in progress.
func (s *accessRequest) extensionView() *ExtensionView {
	e := s.ext
	if e == nil {
		return nil
	}
	v := &ExtensionView{
		Number:        e.number,
		Status:        StatusPending,
		Duration:      e.in.Duration.String(),
		DurationSecs:  int64(e.in.Duration / time.Second),
		Justification: e.in.Justification,
		RequestedAt:   e.requestedAt,
		Approvers:     []Approver{},
		EscalatesAt:   timePtr(e.escalatesAt),
	}
	if e.granted {
		v.Status = StatusActivating
	} else {
		v.Stage = e.stage + 1
	}
	for _, p := range s.extensionApprovers(e) {
		v.Approvers = append(v.Approvers, Approver{Approver: p.UPN, ApproverID: p.ID})
	}
	return v
}
