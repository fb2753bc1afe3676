package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/proof"
)

// accessRequest is the state of one request. Only the workflow's main
// coroutine changes Status; update handlers record decisions and flags and
// wait for the main coroutine to act on them.
type accessRequest struct {
	in     AccessRequestInput
	logger log.Logger
	// trust checks the proofs of the start and of every update; started
	// is the start's proof once checked, nonces those of accepted updates.
	trust   *Trust
	started *proof.Proof
	nonces  map[string]struct{}

	status Status
	// req is the approval round of the request itself.
	req *round
	// decisions are every accepted decision, the request's and its
	// extensions', in the order they came.
	decisions []Decision
	// canceled is set by the requester's cancel update.
	canceled   bool
	revocation *RevokeInput
	// mayBeAssigned is true from the moment activation is scheduled until a
	// removal succeeded: while it is set, every way out removes the role.
	mayBeAssigned bool
	entraEnd      time.Time
	activatedAt   time.Time
	expiresAt     time.Time
	endedAt       time.Time
	reason        string

	emailSeq       int
	emailsInFlight int

	// autoApproved is set while a policy rule's approval stands in for
	// the stages.
	autoApproved bool
	// endNotice is the assignment workflow's word that the grant ended and
	// what became of the role (changeGrantEndNotice).
	endNotice *assignments.ReleaseResult
	// holdSlow is set when the hold's wait moved to an ordinary activity:
	// the activation no longer finishes within the current workflow task.
	holdSlow bool
	// alreadyHeld is the assignment the requester held before jitflow.
	alreadyHeld bool
	// roleLost is set when the requester's own assignment ended before
	// the grant and the role could not be assigned again: the assignment
	// workflow dropped the grant.
	roleLost *assignments.Reassignment
	// removalWaitsUntil is when Entra allows the removal it refused as too
	// soon; a revoke answers at once then, showing deactivating.
	removalWaitsUntil time.Time
	// ext is the extension asked for and not yet settled; extensions
	// counts those granted, extensionAsks all asked for (a refused one
	// included), which numbers them: an approval link or email key of a
	// refused extension never names the next one.
	ext           *extension
	extensions    int
	extensionAsks int
	// asked are the approvers the directory named for a stage, beyond the
	// plan's own, each once, in the order they were first asked.
	asked []Person

	// lean is set for requests started with StartProofLean; published is
	// the view last kept in the memo (lean.go).
	lean      bool
	published []byte
	// inline is set for requests started with StartProofInline.
	inline bool
	// quickHold is set while the activation's hold runs (see settling).
	quickHold bool
	// begun is set once the request recorded itself (requested): updates
	// are refused before (ErrStarting).
	begun bool
}

func newAccessRequest(in AccessRequestInput) *accessRequest {
	status := api.StatusPending
	auto := in.AutoApproval != nil && !in.BreakGlass
	if in.BreakGlass || auto {
		status = api.StatusActivating
	}
	s := &accessRequest{in: in, status: status, autoApproved: auto}
	s.req = newRound(s, 0, func() bool { return s.canceled })
	if auto {
		s.req.stage = len(in.Stages) // no stage is being decided
	}
	return s
}

// setup registers the query and update handlers before the first thing the
// workflow waits on, so no update or query finds them missing.
func (s *accessRequest) setup(ctx workflow.Context) error {
	s.logger = log.With(workflow.GetLogger(ctx), "request_id", s.in.RequestID)
	if err := workflow.SetQueryHandler(ctx, QueryRequest, func() (Request, error) { return s.view(), nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QueryRequest, err)
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateDecide, s.decide, s.validateDecide},
		{UpdateCancel, s.cancel, s.validateCancel},
		{UpdateRevoke, s.revoke, s.validateRevoke},
		{UpdateExtend, s.extend, s.validateExtend},
	}
	for _, u := range updates {
		opts := workflow.UpdateHandlerOptions{Validator: u.validator}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, opts); err != nil {
			return fmt.Errorf("register update %s: %w", u.name, err)
		}
	}
	workflow.Go(ctx, s.receiveRemovalProgress)
	return nil
}

// run is the life of the request. Whatever way it leaves, the deferred
// cleanup ends the request, removes a role that may be assigned and waits
// for outstanding emails.
func (s *accessRequest) run(ctx workflow.Context) {
	var err error
	defer func() { s.cleanup(ctx, err) }()

	if !s.verifyStart(ctx) {
		return
	}
	if s.lean {
		workflow.Go(ctx, s.publishViews)
	}
	s.setStatus(ctx, s.status)
	s.record(ctx, attested(AuditEvent{Type: api.EventRequested, Actor: s.in.Requester.UPN, ActorID: s.in.Requester.ID, Detail: s.requestedDetail()}, s.started))
	s.begun = true
	if verr := s.in.Validate(); verr != nil {
		s.fail(ctx, fmt.Sprintf("the request plan is invalid: %v", verr))
		return
	}
	switch {
	case s.in.BreakGlass:
		s.notifyBreakGlass(ctx)
	case s.autoApprove(ctx):
	default:
		if err = s.approve(ctx); err != nil || s.status != api.StatusActivating {
			return
		}
	}
	// Requests that assigned the role themselves (no version marker) were
	// drained before this code ran; such a history fails here, on replay.
	if !s.lean {
		workflow.GetVersion(ctx, changeAssignmentWorkflow, 1, 1)
	}
	if err = s.activate(ctx); err != nil || s.status != api.StatusActive {
		return
	}
	if err = s.hold(ctx); err != nil {
		return
	}
	s.deactivate(ctx)
}

// setStatus moves the request and tells visibility, so lists and searches
// see the new status (a lean request upserts only what changed besides
// the status).
func (s *accessRequest) setStatus(ctx workflow.Context, st Status) {
	s.status = st
	if st.Terminal() && s.endedAt.IsZero() {
		s.endedAt = workflow.Now(ctx)
	}
	attrs := s.searchAttributes(st)
	if s.lean {
		attrs = s.statusSearchAttributes(ctx, st)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
		s.logger.Error("Search attributes not updated", "status", st, "error", err)
	}
}

// fail ends the request as failed and tells the requester.
func (s *accessRequest) fail(ctx workflow.Context, reason string) {
	s.reason = reason
	s.setStatus(ctx, api.StatusFailed)
	s.record(ctx, AuditEvent{Type: api.EventFailed, Actor: api.ActorSystem, Detail: reason})
	s.emailRequester(ctx, activities.MailFailed, "", reason)
}

// cleanup runs on every way out of run. err is non-nil when the workflow was
// cancelled in Temporal (or something unforeseen stopped it): then a pending
// request ends canceled, and a role that may be assigned is removed under a
// disconnected context that the cancellation cannot reach.
func (s *accessRequest) cleanup(ctx workflow.Context, err error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err != nil {
		reason, channel := "the workflow was cancelled in Temporal", ChannelTemporalCancel
		if !temporal.IsCanceledError(err) {
			reason, channel = fmt.Sprintf("the workflow stopped: %v", err), ""
			s.logger.Error("Request stopped unexpectedly", "error", err)
		}
		s.abandon(dctx, reason, channel)
	}
	// A handler still waiting would be cut off by the workflow's end.
	_ = workflow.Await(dctx, func() bool {
		return s.emailsInFlight == 0 && workflow.AllHandlersFinished(dctx)
	})
	s.publishView(dctx)
}

// abandon ends a request whose workflow is going away; channel names the
// door the end came through (ChannelTemporalCancel), if known.
func (s *accessRequest) abandon(ctx workflow.Context, reason, channel string) {
	switch {
	case s.status == api.StatusPending:
		s.reason = reason
		s.req.escalatesAt = time.Time{}
		s.setStatus(ctx, api.StatusCanceled)
		s.record(ctx, AuditEvent{Type: api.EventCanceled, Actor: api.ActorSystem, Detail: reason, Stage: s.viewStage(), Channel: channel})
		s.emailRequester(ctx, activities.MailCanceled, api.ActorSystem, reason)
	case s.mayBeAssigned && !s.status.Terminal():
		if s.revocation == nil {
			s.revocation = &RevokeInput{Actor: Person{UPN: api.ActorSystem}, Reason: reason}
			s.record(ctx, AuditEvent{Type: api.EventRevoked, Actor: api.ActorSystem, Detail: reason, Channel: channel})
		}
		s.deactivate(ctx)
	case !s.status.Terminal():
		s.fail(ctx, reason)
	}
}
