package workflows

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
)

// ChangeExtensionRound is the GetVersion change id of extensions approved
// by the request's own round: reminders, escalation emails to the new tier
// (kind escalated) and to the requester. Extensions asked for before it
// keep the old commands: no reminder, the new tier asked with
// approval_needed, the requester not told.
const ChangeExtensionRound = "extension-round"

// round is one approval by the plan's stages: of the request itself, or
// of one extension of its grant. Each owns its stage, tier, clocks and
// decisions; the rules of who may decide, reminders, escalation and link
// expiry are the same for both.
type round struct {
	s *accessRequest
	// extension is 0 for the request itself, N for extension N.
	extension int
	// stage is the 0-based current stage; len(stages) once every stage passed.
	stage int
	// tier is the 0-based escalation tier reached in the current stage.
	tier int
	// escalatesAt is when the current tier times out; zero when no tier runs.
	escalatesAt time.Time
	// stageEnds is when the current stage's last tier runs out: approval
	// links in its emails stop working then.
	stageEnds time.Time
	decisions []Decision
	// denial is the index in decisions of the deny that ended the round, or -1.
	denial int
	// stopped tells the round to stop waiting: the request was canceled,
	// or the extension was overtaken by the end of the grant.
	stopped func() bool
	// asker and ask are what the first email of a tier says of the ask
	// (an extension's length and justification); empty for the request.
	asker, ask string
	// oldExtension marks an extension round from before
	// ChangeExtensionRound: it keeps that version's commands.
	oldExtension bool
	// done is set once run returned: nobody is asked any more.
	done bool
	// stages are the plan's stages as this round asks them: a stage whose
	// tiers name directory references holds, once it started, its static
	// approvers and the people the directory named then. The plan's own
	// lists stay as they were, so the next round resolves afresh.
	stages []Stage
	// resolving is set while the directory is asked who approves the
	// current stage: nobody may decide it until the answer is in.
	resolving bool
	// failure says why the round ended roundNobody.
	failure string
}

// roundEnd is how a round ended.
type roundEnd int

const (
	roundApproved roundEnd = iota
	roundDenied
	roundTimedOut
	roundStopped
	// roundNobody: a stage has fewer people to ask than it needs approvals
	// (failure says why).
	roundNobody
)

func newRound(s *accessRequest, extension int, stopped func() bool) *round {
	return &round{s: s, extension: extension, denial: -1, stopped: stopped, stages: append([]Stage(nil), s.in.Stages...)}
}

// subject names what the round decides, for messages.
func (r *round) subject() string {
	if r.extension > 0 {
		return fmt.Sprintf("extension %d of request %s", r.extension, r.s.in.RequestID)
	}
	return "request " + r.s.in.RequestID
}

// run takes the round through the stages in order. An error means the
// workflow was cancelled.
func (r *round) run(ctx workflow.Context) (roundEnd, error) {
	defer func() { r.done = true }()
	stages := r.stages
	for r.stage = 0; r.stage < len(stages); r.stage++ {
		end, err := r.runStage(ctx)
		if err != nil || end != roundApproved {
			return end, err
		}
	}
	r.escalatesAt = time.Time{}
	return roundApproved, nil
}

// runStage waits for the current stage to pass, escalating tier by tier.
// Decisions do not wake it until they settle the stage, so a partial N-of-M
// approval does not restart the tier's timer.
func (r *round) runStage(ctx workflow.Context) (roundEnd, error) {
	r.tier = 0
	if r.stages[r.stage].hasDirectory() {
		ok, err := r.resolve(ctx)
		switch {
		case err != nil:
			return roundStopped, err
		case r.stopped():
			return roundStopped, nil
		case !ok:
			return roundNobody, nil
		}
	}
	st := r.stages[r.stage]
	r.startTier(ctx)
	for {
		timeout := st.Tiers[r.tier].Timeout
		if err := r.awaitTier(ctx); err != nil {
			return roundStopped, err
		}
		switch {
		case r.stopped():
			return roundStopped, nil
		case r.denial >= 0:
			return roundDenied, nil
		case r.approvals() >= st.Approvals:
			return roundApproved, nil
		case r.tier+1 < len(st.Tiers):
			r.tier++
			r.escalate(ctx, timeout)
		default:
			return roundTimedOut, nil
		}
	}
}

// startTier starts the clock of the tier just reached. A stage's first tier
// is asked for decisions here; later tiers are asked by escalate.
func (r *round) startTier(ctx workflow.Context) {
	st := r.stages[r.stage]
	now := workflow.Now(ctx)
	r.escalatesAt = now.Add(st.Tiers[r.tier].Timeout)
	if r.tier == 0 {
		r.stageEnds = now.Add(st.totalTimeout())
		r.email(ctx, activities.MailApprovalNeeded, r.tierNewcomers(), r.asker, r.ask)
	}
}

// awaitTier waits until the stage settles or the current tier runs out.
// When the plan asks for it, the approvers who may decide and have not are
// reminded once, RemindBefore the tier runs out.
func (r *round) awaitTier(ctx workflow.Context) error {
	if at, ok := r.reminderAt(ctx); ok {
		settled, err := workflow.AwaitWithTimeout(ctx, at.Sub(workflow.Now(ctx)), r.settled)
		if err != nil || settled {
			return err
		}
		r.email(ctx, activities.MailReminder, r.approvers(), "", "")
	}
	_, err := workflow.AwaitWithTimeout(ctx, r.escalatesAt.Sub(workflow.Now(ctx)), r.settled)
	return err
}

// reminderAt is when the current tier's reminder is due, if it has one
// still ahead. Requests planned before reminders existed have none and do
// not reach GetVersion; the version keeps workers that predate reminders
// from running a request that has them.
func (r *round) reminderAt(ctx workflow.Context) (time.Time, bool) {
	before := r.stages[r.stage].Tiers[r.tier].RemindBefore
	if before <= 0 || r.oldExtension {
		return time.Time{}, false
	}
	at := r.escalatesAt.Add(-before)
	if !at.After(workflow.Now(ctx)) {
		return time.Time{}, false
	}
	if !r.s.runsChange(ctx, ChangeReminders) {
		return time.Time{}, false
	}
	return at, true
}

// escalate lets the next tier decide too, after the previous one left the
// stage unsettled for after: an audit event, an email to the tier's
// newcomers and one to the requester.
func (r *round) escalate(ctx workflow.Context, after time.Duration) {
	r.startTier(ctx)
	st := r.stages[r.stage]
	newcomers := r.tierNewcomers()
	silence := fmt.Sprintf("no decision within %s at tier %d", after, r.tier)
	if n := r.approvals(); n > 0 {
		silence = fmt.Sprintf("%d of %d approvals within %s at tier %d", n, st.Approvals, after, r.tier)
	}
	r.s.record(ctx, AuditEvent{
		Type:  api.EventEscalated,
		Actor: api.ActorSystem,
		Detail: fmt.Sprintf("%sstage %d (%s): %s; tier %d (%s) may decide now, until %s",
			r.prefix(), r.stage+1, st.Name, silence, r.tier+1, upns(newcomers), r.escalatesAt.UTC().Format(time.RFC3339)),
		Stage: r.stage + 1,
	})
	if r.oldExtension {
		r.email(ctx, activities.MailApprovalNeeded, newcomers, r.asker, r.ask)
		return
	}
	r.email(ctx, activities.MailEscalated, newcomers, "", silence)
	r.email(ctx, activities.MailRequesterEscalated, []Person{r.s.in.Requester}, api.ActorSystem,
		fmt.Sprintf("%s%s; now also asked: %s", r.prefix(), silence, upns(newcomers)))
}

// prefix names an extension at the start of audit details and reasons.
func (r *round) prefix() string {
	if r.extension > 0 {
		return fmt.Sprintf("extension %d, ", r.extension)
	}
	return ""
}

// timeoutReason says why the round ended when the last tier of a stage
// stayed silent.
func (r *round) timeoutReason() string {
	st := r.stages[r.stage]
	return fmt.Sprintf("no decision in stage %d (%s) before its last tier ran out, %s after the stage began", r.stage+1, st.Name, st.totalTimeout())
}

// denialReason says who denied, and why if they said.
func (r *round) denialReason() string {
	d := r.decisions[r.denial]
	reason := "denied by " + d.Approver
	if d.Comment != "" {
		reason += ": " + d.Comment
	}
	return reason
}

// settled is true once the round's coroutine has something to act on
// besides the tier's timer.
func (r *round) settled() bool {
	if r.stage >= len(r.stages) {
		return false
	}
	return r.stopped() || r.denial >= 0 || r.approvals() >= r.stages[r.stage].Approvals
}

// approvals counts the approvals of the current stage.
func (r *round) approvals() int {
	n := 0
	for _, d := range r.decisions {
		if d.Stage == r.stage+1 && d.Decision == api.DecisionApprove {
			n++
		}
	}
	return n
}

// waiting reports whether the round asks for decisions now.
func (r *round) waiting() bool {
	return !r.done && r.stage < len(r.stages) && (r.extension > 0 || r.s.status == api.StatusPending)
}

// approvers are the people who may decide now: everyone of the tiers
// reached in the current stage, except the requester and anyone who already
// decided in this round.
func (r *round) approvers() []Person {
	if !r.waiting() || r.resolving {
		return nil
	}
	var out []Person
	for _, p := range r.stages[r.stage].reached(r.tier) {
		if p.ID != r.s.in.Requester.ID && r.decisionBy(p.ID) < 0 {
			out = append(out, p)
		}
	}
	return out
}

// tierNewcomers are the approvers the current tier adds: those not in an
// earlier tier, not the requester and not already decided.
func (r *round) tierNewcomers() []Person {
	st := r.stages[r.stage]
	var out []Person
	for _, p := range r.approvers() {
		if st.tierOf(p.ID) == r.tier {
			out = append(out, p)
		}
	}
	return out
}

// decisionBy is the index of id's decision in this round, or -1.
func (r *round) decisionBy(id string) int {
	for i, d := range r.decisions {
		if d.ApproverID == id {
			return i
		}
	}
	return -1
}

// validate says why in may not decide the round now, if so: the decision
// itself, the requester, the stage the approver saw, one decision per
// approver, the approver's stage and tier, a stage already settled.
func (r *round) validate(in DecideInput) error {
	if in.Decision != api.DecisionApprove && in.Decision != api.DecisionDeny {
		return invalid("decision must be %q or %q, got %q", api.DecisionApprove, api.DecisionDeny, in.Decision)
	}
	if n := utf8.RuneCountInString(in.Comment); n > maxTextLen {
		return invalid("comment is %d characters long; at most %d are accepted", n, maxTextLen)
	}
	if in.ApproverID == "" {
		return invalid("approver_id is required")
	}
	what, noun := "this access", "request"
	if r.extension > 0 {
		what, noun = fmt.Sprintf("extension %d of this access", r.extension), "extension"
	}
	if in.ApproverID == r.s.in.Requester.ID {
		return forbidden("%s requested %s and cannot decide on it", displayName(r.s.in.Requester), what)
	}
	if in.Stage != 0 && in.Stage != r.stage+1 {
		return conflict("the decision is for stage %d but %s is at stage %d", in.Stage, r.subject(), r.stage+1)
	}
	if i := r.decisionBy(in.ApproverID); i >= 0 {
		d := r.decisions[i]
		of := ""
		if r.extension > 0 {
			of = fmt.Sprintf(" of extension %d", r.extension)
		}
		return conflict("%s already decided (%s) in stage %d%s; each approver decides once per %s", d.Approver, d.Decision, d.Stage, of, noun)
	}
	if r.resolving {
		return conflict("the approvers of stage %d of %s are being read from the directory; decide again in a moment", r.stage+1, r.subject())
	}
	if err := r.mayDecide(in.ApproverID); err != nil {
		return err
	}
	if r.settled() {
		return conflict("stage %d of %s is already settled", r.stage+1, r.subject())
	}
	return nil
}

// mayDecide says why id may not decide the current stage by the frozen
// plan and the approvers the directory named when the stage started, if
// so. Whether the live policy still lets them is the server's
// question (policies.Policy.MayStillDecide).
func (r *round) mayDecide(id string) error {
	stages := r.stages
	st := stages[r.stage]
	name := id
	if p, ok := r.s.person(id); ok {
		name = displayName(p)
	}
	tier := st.tierOf(id)
	switch {
	case tier < 0:
		for i, other := range stages {
			if other.tierOf(id) >= 0 {
				return forbidden("%s approves stage %d, not the current stage %d (%s) of %s", name, i+1, r.stage+1, st.Name, r.subject())
			}
		}
		return forbidden("%s is not an approver of %s", name, r.subject())
	case tier > r.tier:
		return forbidden("%s is an approver of tier %d of stage %d, which is reached only by escalation (that stage of %s is at tier %d)",
			name, tier+1, r.stage+1, r.subject(), r.tier+1)
	}
	return nil
}

// decide records an accepted decision and its audit event.
func (r *round) decide(ctx workflow.Context, in DecideInput) {
	p, _ := r.s.person(in.ApproverID)
	d := Decision{
		Approver:   p.UPN,
		ApproverID: p.ID,
		Decision:   in.Decision,
		Comment:    in.Comment,
		Time:       workflow.Now(ctx),
		Stage:      r.stage + 1,
		Extension:  r.extension,
	}
	r.decisions = append(r.decisions, d)
	r.s.decisions = append(r.s.decisions, d)
	event := api.EventApproved
	if d.Decision == api.DecisionDeny {
		event = api.EventDenied
		r.denial = len(r.decisions) - 1
	}
	detail := fmt.Sprintf("%sstage %d of %d", r.prefix(), d.Stage, len(r.stages))
	if d.Comment != "" {
		detail += ": " + d.Comment
	}
	r.s.record(ctx, attested(AuditEvent{Type: event, Actor: d.Approver, ActorID: d.ApproverID, Detail: detail, Stage: d.Stage}, in.Proof))
}

// key identifies an email about the round's current tier:
// <requestID>/<kind>[/x<extension>]/s<stage>t<tier>.
func (r *round) key(kind string) string {
	x := ""
	if r.extension > 0 {
		x = fmt.Sprintf("x%d/", r.extension)
	}
	return fmt.Sprintf("%s/%s/%ss%dt%d", r.s.in.RequestID, kind, x, r.stage+1, r.tier+1)
}

// email sends an email about the round as it stands now; actor and reason
// are who caused it and why, when that matters.
func (r *round) email(ctx workflow.Context, kind string, to []Person, actor, reason string) {
	in := r.s.emailInput(kind, to, r.key(kind), actor, reason)
	r.describe(&in)
	r.s.startEmail(ctx, in, to)
}

// describe makes an email about the request one about an extension's
// round: its stage, tier and approvers, and links bound to the extension
// that stop working when its stage runs out or the grant ends, whichever
// comes first. An email about the request's round describes it already.
func (r *round) describe(in *activities.EmailInput) {
	if r.extension == 0 {
		return
	}
	st := r.stages[r.stage]
	e := &in.Request
	e.Extension = r.extension
	e.Stage, e.StageName = r.stage+1, st.Name
	e.Approvals, e.Approved = st.Approvals, r.approvals()
	e.FinalTier = r.tier == len(st.Tiers)-1
	e.EscalatesAt = timePtr(r.escalatesAt)
	e.Approvers = nil
	for _, p := range r.approvers() {
		e.Approvers = append(e.Approvers, p.UPN)
	}
	if !activities.AsksDecision(in.Kind) {
		return
	}
	in.LinkExpires = r.stageEnds
	if !r.s.expiresAt.IsZero() && r.s.expiresAt.Before(in.LinkExpires) {
		in.LinkExpires = r.s.expiresAt
	}
}

func upns(people []Person) string {
	names := make([]string, len(people))
	for i, p := range people {
		names[i] = p.UPN
	}
	return strings.Join(names, ", ")
}
