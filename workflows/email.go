package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
)

// emailRequester tells the requester what happened; actor and reason are
// who caused it and why, when that matters.
func (s *accessRequest) emailRequester(ctx workflow.Context, kind, actor, reason string) {
	s.sendEmail(ctx, kind, []Person{s.in.Requester}, s.nextKey(kind), actor, reason)
}

// nextKey identifies any other email: <requestID>/<kind>/<sequence>.
func (s *accessRequest) nextKey(kind string) string {
	s.emailSeq++
	return fmt.Sprintf("%s/%s/%d", s.in.RequestID, kind, s.emailSeq)
}

// sendEmail starts the email without waiting for it: mail is slow and may
// fail, and neither may hold up the request. A coroutine records the outcome
// in the audit trail once the activity ends. The activity runs under a
// disconnected context so that cancelling the workflow does not swallow the
// emails that tell people about it.
func (s *accessRequest) sendEmail(ctx workflow.Context, kind string, to []Person, key, actor, reason string) {
	s.startEmail(ctx, s.emailInput(kind, to, key, actor, reason), to)
}

// emailInput is an email about the request as it stands now.
func (s *accessRequest) emailInput(kind string, to []Person, key, actor, reason string) activities.EmailInput {
	in := activities.EmailInput{Kind: kind, To: recipients(to), Request: s.emailRequest(actor, reason), BaseURL: s.in.BaseURL, Key: key}
	if activities.AsksDecision(kind) {
		in.LinkExpires = s.req.stageEnds
	}
	return in
}

// startEmail sends in, addressed to to, and records the outcome once
// known. A request started with StartProofInline sends it as a local
// activity within the current workflow task (no task of its own for the
// activity's completion), unless an update handler is still running: its
// answer leaves with this task's completion and must not wait for the
// mailer. When the local activity fails, the activity sends it, with its
// retries.
func (s *accessRequest) startEmail(ctx workflow.Context, in activities.EmailInput, to []Person) {
	if len(to) == 0 {
		return
	}
	kind, key := in.Kind, in.Key
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	inline := s.inline && workflow.AllHandlersFinished(ctx)
	var f workflow.Future
	if inline {
		f = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(dctx, emailLocalOptions()), activitySendEmail, in)
	} else {
		f = workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, emailOptions()), acts.SendEmail, in)
	}
	stage := s.viewStage()
	s.emailsInFlight++
	workflow.Go(dctx, func(ctx workflow.Context) {
		defer func() { s.emailsInFlight-- }()
		var res activities.EmailResult
		err := f.Get(ctx, &res)
		if err != nil && inline {
			s.logger.Info("Email not sent within the task; the activity sends it", "kind", kind, "key", key, "error", err)
			err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, emailRetryOptions()), acts.SendEmail, in).Get(ctx, &res)
		}
		detail := fmt.Sprintf("%s email to %s", kind, upns(to))
		if err != nil {
			s.logger.Warn("Email not sent", "kind", kind, "key", key, "error", err)
			detail += " failed: " + activities.FailureText(err)
		} else {
			detail += " sent"
		}
		s.record(ctx, AuditEvent{Type: api.EventNotified, Actor: api.ActorSystem, Detail: detail, Stage: stage})
	})
}

// emailRequest is what emails say about the request as it stands now.
func (s *accessRequest) emailRequest(actor, reason string) activities.EmailRequest {
	v := s.view()
	r := activities.EmailRequest{
		ID:            s.in.RequestID,
		Requester:     s.in.Requester.UPN,
		RequesterID:   s.in.Requester.ID,
		Role:          s.in.Target.Role,
		RoleID:        s.in.Target.RoleDefinitionID,
		Scope:         s.in.Target.DirectoryScopeID,
		Duration:      s.in.Duration,
		Justification: s.in.Justification,
		Ticket:        s.in.Ticket,
		Stage:         v.Stage,
		Stages:        v.Stages,
		EscalatesAt:   v.EscalatesAt,
		ExpiresAt:     v.ExpiresAt,
		Actor:         actor,
		Reason:        reason,
	}
	for _, a := range v.Approvers {
		r.Approvers = append(r.Approvers, a.Approver)
	}
	if q := s.req; q.waiting() {
		st := q.stages[q.stage]
		r.StageName = st.Name
		r.Approvals = st.Approvals
		r.Approved = q.approvals()
		r.FinalTier = q.tier == len(st.Tiers)-1
	}
	return r
}

func recipients(people []Person) []activities.Recipient {
	out := make([]activities.Recipient, len(people))
	for i, p := range people {
		out[i] = activities.Recipient{ID: p.ID, UPN: p.UPN, Email: p.Email}
	}
	return out
}
