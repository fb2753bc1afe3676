package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
)

// endingSoon is the requester's notice that the grant ends soon, with how
// to extend it: one timer per grant end, EndNoticeBefore ahead of it. A
// nil *endingSoon (a plan without a notice, or a hold begun before
// ChangeEndingSoon) does nothing.
type endingSoon struct {
	before time.Duration
	// end is the grant end the notice was armed for: each end is armed
	// once, so an extension that moves it arms the notice again.
	end    time.Time
	timer  workflow.Future
	cancel workflow.CancelFunc
}

// newEndingSoon is the notice of a hold whose plan asks for one.
func (s *accessRequest) newEndingSoon(ctx workflow.Context) *endingSoon {
	if s.in.EndNoticeBefore <= 0 {
		return nil
	}
	if !s.runsChange(ctx, ChangeEndingSoon) {
		return nil
	}
	return &endingSoon{before: s.in.EndNoticeBefore}
}

// arm starts the timer of the grant's current end, once per end. An end
// whose notice time is not ahead gets none: the grant is no longer than
// the lead time, or an extension was granted after its new end's notice
// time (the extension_granted email tells that end).
func (n *endingSoon) arm(ctx workflow.Context, s *accessRequest) {
	if n == nil || n.end.Equal(s.expiresAt) {
		return
	}
	n.stop()
	n.end = s.expiresAt
	wait := n.end.Add(-n.before).Sub(workflow.Now(ctx))
	if wait <= 0 {
		return
	}
	tctx, cancel := workflow.WithCancel(ctx)
	n.timer, n.cancel = workflow.NewTimer(tctx, wait), cancel
}

// due reports whether the armed notice's time came.
func (n *endingSoon) due() bool {
	return n != nil && n.timer != nil && n.timer.IsReady()
}

// send emails the requester when and in how long the grant ends.
func (n *endingSoon) send(ctx workflow.Context, s *accessRequest) {
	n.timer, n.cancel = nil, nil
	left := s.expiresAt.Sub(workflow.Now(ctx))
	if left <= 0 {
		return
	}
	to := []Person{s.in.Requester}
	in := s.emailInput(activities.MailEndingSoon, to, s.nextKey(activities.MailEndingSoon), "", "")
	in.Request.EndsIn = left
	s.startEmail(ctx, in, to)
}

// stop cancels a notice not yet due: the grant ended, was revoked or
// moved to another end.
func (n *endingSoon) stop() {
	if n == nil || n.timer == nil {
		return
	}
	if !n.timer.IsReady() {
		n.cancel()
	}
	n.timer, n.cancel = nil, nil
}
