package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
)

// approve runs the request's round. It leaves the request activating when
// every stage passed, or in the terminal status that ended it (denied,
// canceled, timed_out; failed when a stage had nobody to ask). An error
// means the workflow was cancelled.
func (s *accessRequest) approve(ctx workflow.Context) error {
	r := s.req
	end, err := r.run(ctx)
	if err != nil {
		return err
	}
	switch end {
	case roundStopped:
		s.endStage(ctx, api.StatusCanceled, "canceled by the requester")
	case roundDenied:
		s.deny(ctx)
	case roundTimedOut:
		s.timeOut(ctx)
	case roundNobody:
		s.logger.Error("Request failed: a stage has nobody to ask", "stage", r.stage+1, "reason", r.failure)
		r.escalatesAt = time.Time{}
		s.fail(ctx, r.failure)
	default:
		s.setStatus(ctx, api.StatusActivating)
		last := r.decisions[len(r.decisions)-1]
		s.emailRequester(ctx, activities.MailApproved, last.Approver, "")
	}
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
	if !s.runsChange(ctx, changeAutoApproval) {
		// Unreachable for recorded histories (see above); run the stages
		// rather than guess.
		s.autoApproved, s.req.stage = false, 0
		s.setStatus(ctx, api.StatusPending)
		return false
	}
	s.req.stage = len(s.in.Stages)
	rule := s.in.AutoApproval
	detail := fmt.Sprintf("approved at once by policy rule %q (%s)", rule.Rule, rule.Expression)
	s.record(ctx, AuditEvent{Type: api.EventApproved, Actor: api.ActorSystem, Detail: detail})
	s.emailRequester(ctx, activities.MailApproved, api.ActorSystem, detail)
	return true
}

// changeAutoApproval is the GetVersion change id of the auto-approval path.
const changeAutoApproval = "auto-approval"

// timeOut ends the request when the last tier of a stage stayed silent.
func (s *accessRequest) timeOut(ctx workflow.Context) {
	reason := s.req.timeoutReason()
	s.endStage(ctx, api.StatusTimedOut, reason)
	s.record(ctx, AuditEvent{Type: api.EventTimedOut, Actor: api.ActorSystem, Detail: reason, Stage: s.req.stage + 1})
	s.emailRequester(ctx, activities.MailTimedOut, api.ActorSystem, reason)
}

// deny ends the request after an approver's denial.
func (s *accessRequest) deny(ctx workflow.Context) {
	d := s.req.decisions[s.req.denial]
	s.endStage(ctx, api.StatusDenied, s.req.denialReason())
	s.emailRequester(ctx, activities.MailDenied, d.Approver, d.Comment)
}

// endStage ends the request during approval.
func (s *accessRequest) endStage(ctx workflow.Context, st Status, reason string) {
	s.reason = reason
	s.req.escalatesAt = time.Time{}
	s.setStatus(ctx, st)
}
