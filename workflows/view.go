package workflows

import (
	"time"

	"github.com/jitflow/jitflow/api"
)

// NewRequest is the view of a request the moment its workflow starts, so
// the API can answer a submission without a query. EscalatesAt is empty
// until the workflow starts the first tier's timer.
func NewRequest(in AccessRequestInput) Request {
	return newAccessRequest(in).view()
}

// view is the public picture of the request. It copies everything, so a
// caller cannot change the workflow's state through it.
func (s *accessRequest) view() Request {
	r := Request{
		ID:               s.in.RequestID,
		Status:           s.status,
		Requester:        s.in.Requester.UPN,
		RequesterID:      s.in.Requester.ID,
		Role:             s.in.Target.Role,
		RoleDefinitionID: s.in.Target.RoleDefinitionID,
		DirectoryScopeID: s.in.Target.DirectoryScopeID,
		Duration:         s.in.Duration.String(),
		DurationSeconds:  int64(s.in.Duration / time.Second),
		Justification:    s.in.Justification,
		Ticket:           s.in.Ticket,
		BreakGlass:       s.in.BreakGlass,
		CreatedAt:        s.in.CreatedAt,
		Stage:            s.viewStage(),
		Stages:           len(s.in.Stages),
		Approvers:        []Approver{},
		Decisions:        append([]Decision{}, s.decisions...),
		ActivatedAt:      timePtr(s.activatedAt),
		ExpiresAt:        timePtr(s.expiresAt),
		EndedAt:          timePtr(s.endedAt),
		Reason:           s.reason,
		GroupID:          s.in.Target.GroupID,
		AccessID:         s.in.Target.AccessID,
		AlreadyHeld:      s.alreadyHeld,
		Extension:        s.extensionView(),
		Extensions:       s.extensions,
	}
	if r.Stage > 0 {
		r.Tier = s.req.tier + 1
	}
	if s.autoApproved {
		r.AutoApprovedBy = s.in.AutoApproval.Rule
	}
	for _, p := range s.req.approvers() {
		r.Approvers = append(r.Approvers, Approver{Approver: p.UPN, ApproverID: p.ID})
	}
	if s.status == api.StatusPending {
		r.EscalatesAt = timePtr(s.req.escalatesAt)
	}
	return r
}

// viewStage is the 1-based current stage: the one being decided, or the one
// where approval ended without passing; 0 for break-glass requests and once
// every stage passed.
func (s *accessRequest) viewStage() int {
	if s.req.stage < len(s.in.Stages) {
		return s.req.stage + 1
	}
	return 0
}

// timePtr is nil for the zero time, so unset times read as null.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
