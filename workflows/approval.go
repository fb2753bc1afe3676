package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
)

// approve runs the stages in order. It leaves the request activating when
// every stage passed, or in the terminal status that ended it (denied,
// canceled, timed_out). An error means the workflow was cancelled.
func (s *accessRequest) approve(ctx workflow.Context) error {
	for s.stage = 0; s.stage < len(s.in.Stages); s.stage++ {
		if err := s.runStage(ctx); err != nil {
			return err
		}
		if s.status != StatusPending {
			return nil
		}
	}
	s.escalatesAt = time.Time{}
	s.setStatus(ctx, StatusActivating)
	last := s.decisions[len(s.decisions)-1]
	s.emailRequester(ctx, activities.MailApproved, last.Approver, "")
	return nil
}

// autoApprove records the approval a policy rule gave when the request was
// made, and reports whether the stages are skipped. Histories from before
// auto-approval existed never carry a rule, so they never reach the
// version marker.
func (s *accessRequest) autoApprove(ctx workflow.Context) bool {
	if !s.autoApproved {
		return false
	}
	if workflow.GetVersion(ctx, changeAutoApproval, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Unreachable for recorded histories (see above); run the stages
		// rather than guess.
		s.autoApproved, s.stage = false, 0
		s.setStatus(ctx, StatusPending)
		return false
	}
	s.stage = len(s.in.Stages)
	rule := s.in.AutoApproval
	detail := fmt.Sprintf("approved at once by policy rule %q (%s)", rule.Rule, rule.Expression)
	s.record(ctx, AuditEvent{Type: EventApproved, Actor: ActorSystem, Detail: detail})
	s.emailRequester(ctx, activities.MailApproved, ActorSystem, detail)
	return true
}

// changeAutoApproval is the GetVersion change id of the auto-approval path.
const changeAutoApproval = "auto-approval"

// runStage waits for the current stage to pass, escalating tier by tier.
// Decisions do not wake it until they settle the stage, so a partial N-of-M
// approval does not restart the tier's timer.
func (s *accessRequest) runStage(ctx workflow.Context) error {
	st := s.in.Stages[s.stage]
	s.tier = 0
	s.startTier(ctx)
	for {
		timeout := st.Tiers[s.tier].Timeout
		if err := s.awaitTier(ctx); err != nil {
			return err
		}
		switch {
		case s.canceled:
			s.endStage(ctx, StatusCanceled, "canceled by the requester")
			return nil
		case s.denial >= 0:
			s.deny(ctx)
			return nil
		case s.approvals() >= st.Approvals:
			return nil
		case s.tier+1 < len(st.Tiers):
			s.tier++
			s.escalate(ctx, timeout)
		default:
			s.timeOut(ctx)
			return nil
		}
	}
}

// startTier starts the clock of the tier just reached. A stage's first tier
// is asked for decisions here; later tiers are asked by escalate.
func (s *accessRequest) startTier(ctx workflow.Context) {
	st := s.in.Stages[s.stage]
	now := workflow.Now(ctx)
	s.escalatesAt = now.Add(st.Tiers[s.tier].Timeout)
	if s.tier == 0 {
		s.stageEnds = now.Add(st.totalTimeout())
		s.emailApprovers(ctx, activities.MailApprovalNeeded, s.tierNewcomers(), "")
	}
}

// awaitTier waits until the stage settles or the current tier runs out.
// When the plan asks for it, the approvers who may decide and have not are
// reminded once, RemindBefore the tier runs out.
func (s *accessRequest) awaitTier(ctx workflow.Context) error {
	if at, ok := s.reminderAt(ctx); ok {
		settled, err := workflow.AwaitWithTimeout(ctx, at.Sub(workflow.Now(ctx)), s.stageSettled)
		if err != nil || settled {
			return err
		}
		s.emailApprovers(ctx, activities.MailReminder, s.currentApprovers(), "")
	}
	_, err := workflow.AwaitWithTimeout(ctx, s.escalatesAt.Sub(workflow.Now(ctx)), s.stageSettled)
	return err
}

// reminderAt is when the current tier's reminder is due, if it has one
// still ahead. Requests planned before reminders existed have none and do
// not reach GetVersion; the version keeps workers that predate reminders
// from running a request that has them.
func (s *accessRequest) reminderAt(ctx workflow.Context) (time.Time, bool) {
	before := s.in.Stages[s.stage].Tiers[s.tier].RemindBefore
	if before <= 0 {
		return time.Time{}, false
	}
	at := s.escalatesAt.Add(-before)
	if !at.After(workflow.Now(ctx)) {
		return time.Time{}, false
	}
	if workflow.GetVersion(ctx, ChangeReminders, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return time.Time{}, false
	}
	return at, true
}

// escalate lets the next tier decide too, after the previous one left the
// stage unsettled for after.
func (s *accessRequest) escalate(ctx workflow.Context, after time.Duration) {
	s.startTier(ctx)
	st := s.in.Stages[s.stage]
	newcomers := s.tierNewcomers()
	silence := fmt.Sprintf("no decision within %s at tier %d", after, s.tier)
	if n := s.approvals(); n > 0 {
		silence = fmt.Sprintf("%d of %d approvals within %s at tier %d", n, st.Approvals, after, s.tier)
	}
	s.record(ctx, AuditEvent{
		Type:  EventEscalated,
		Actor: ActorSystem,
		Detail: fmt.Sprintf("stage %d (%s): %s; tier %d (%s) may decide now, until %s",
			s.stage+1, st.Name, silence, s.tier+1, upns(newcomers), s.escalatesAt.UTC().Format(time.RFC3339)),
		Stage: s.stage + 1,
	})
	s.emailApprovers(ctx, activities.MailEscalated, newcomers, silence)
	s.emailRequester(ctx, activities.MailRequesterEscalated, ActorSystem, fmt.Sprintf("%s; now also asked: %s", silence, upns(newcomers)))
}

// timeOut ends the request when the last tier of a stage stayed silent.
func (s *accessRequest) timeOut(ctx workflow.Context) {
	st := s.in.Stages[s.stage]
	reason := fmt.Sprintf("no decision in stage %d (%s) before its last tier ran out, %s after the stage began", s.stage+1, st.Name, st.totalTimeout())
	s.endStage(ctx, StatusTimedOut, reason)
	s.record(ctx, AuditEvent{Type: EventTimedOut, Actor: ActorSystem, Detail: reason, Stage: s.stage + 1})
	s.emailRequester(ctx, activities.MailTimedOut, ActorSystem, reason)
}

// deny ends the request after an approver's denial.
func (s *accessRequest) deny(ctx workflow.Context) {
	d := s.decisions[s.denial]
	reason := "denied by " + d.Approver
	if d.Comment != "" {
		reason += ": " + d.Comment
	}
	s.endStage(ctx, StatusDenied, reason)
	s.emailRequester(ctx, activities.MailDenied, d.Approver, d.Comment)
}

// endStage ends the request during approval.
func (s *accessRequest) endStage(ctx workflow.Context, st Status, reason string) {
	s.reason = reason
	s.escalatesAt = time.Time{}
	s.setStatus(ctx, st)
}

// stageSettled is true once the main coroutine has something to act on
// besides the tier's timer.
func (s *accessRequest) stageSettled() bool {
	if s.stage >= len(s.in.Stages) {
		return false
	}
	return s.canceled || s.denial >= 0 || s.approvals() >= s.in.Stages[s.stage].Approvals
}

// approvals counts the approvals of the current stage.
func (s *accessRequest) approvals() int {
	n := 0
	for _, d := range s.decisions {
		if d.Stage == s.stage+1 && d.Decision == DecisionApprove {
			n++
		}
	}
	return n
}

// currentApprovers are the people who may decide now: everyone of the tiers
// reached in the current stage, except the requester and anyone who already
// decided in this request.
func (s *accessRequest) currentApprovers() []Person {
	if s.status != StatusPending || s.stage >= len(s.in.Stages) {
		return nil
	}
	var out []Person
	for _, p := range s.in.Stages[s.stage].reached(s.tier) {
		if p.ID != s.in.Requester.ID && s.decisionBy(p.ID) < 0 {
			out = append(out, p)
		}
	}
	return out
}

// tierNewcomers are the approvers the current tier adds: those not in an
// earlier tier, not the requester and not already decided.
func (s *accessRequest) tierNewcomers() []Person {
	st := s.in.Stages[s.stage]
	var out []Person
	for _, p := range s.currentApprovers() {
		if st.tierOf(p.ID) == s.tier {
			out = append(out, p)
		}
	}
	return out
}

// decisionBy is the index of id's decision in this request, or -1.
func (s *accessRequest) decisionBy(id string) int {
	for i, d := range s.decisions {
		if d.ApproverID == id {
			return i
		}
	}
	return -1
}

func upns(people []Person) string {
	names := make([]string, len(people))
	for i, p := range people {
		names[i] = p.UPN
	}
	return strings.Join(names, ", ")
}
