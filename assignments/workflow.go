// Package assignments is the assignment workflow: one per principal and
// target, it holds the role for every access request of that person and
// target (hold, extend, release), and removes it when the last grant ends.
// Request workflows reach it through Hold and Release; the worker
// registers it with Register.
package assignments

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/proof"
)

// LapseGrace is how long after a grant's end the assignment workflow waits
// for its request to release it before dropping it itself (the request
// workflow was terminated, say).
const LapseGrace = 2 * time.Minute

// IdleLinger is how long the assignment workflow waits, with nothing held
// and nothing assigned, before it ends.
const IdleLinger = 10 * time.Minute

// RemovalAlertAfter is how long a removal may keep failing before jitflow
// raises an alert ("Role removal keeps failing").
const RemovalAlertAfter = 10 * time.Minute

// Workflow is the long-lived workflow that owns one principal's
// assignment of one target. Requests ask it to hold the target until a time
// (UpdateHold) and give their hold up (UpdateRelease); it assigns the role
// once, moves Entra's end to the latest grant, and removes the role when no
// grant is left. An assignment the principal held before jitflow (standing,
// or made by someone else) is recorded and never removed.
//
// The workflow accepts only holds a jitflow worker signed with keys. With
// nil keys it replays any history and refuses every hold, which suits a
// replayer.
func Workflow(keys *proof.Keys) func(workflow.Context, Input) error {
	return func(ctx workflow.Context, in Input) error {
		s := newAssignment(ctx, in)
		s.keys = keys
		if err := s.setup(ctx); err != nil {
			return err
		}
		return s.run(ctx)
	}
}

// grant is a Grant with the answer its hold is waiting for.
type grant struct {
	Grant
	prevUntil     time.Time
	justification string
	ticket        string
	settled       bool
	result        HoldResult
}

type assignment struct {
	target graph.Assignment
	logger log.Logger
	// keys check the holds' proofs; nonces are those of accepted holds
	// (this run's: continue-as-new starts afresh, and a proof lives
	// proof.MaxAge).
	keys   *proof.Keys
	nonces map[string]struct{}

	grants      []*grant
	assigned    bool
	activating  bool
	removing    bool
	alreadyHeld *graph.Instance
	activeSince time.Time
	entraEnd    time.Time

	// endsGrants: grants end at their end here, and their requests are
	// told (ChangeGrantEndNotice); before, a grant lapsed LapseGrace
	// later, only if its request never released it.
	endsGrants bool
	// ended are the requests whose grants ended and who are yet to be told.
	ended []string
	// reassigns: when the assignment the principal held before jitflow
	// ends before a grant, jitflow assigns the role itself for the rest
	// (changeReassignAfterOwnEnd); before, grants outlived the role.
	reassigns bool
	// lean: the run recorded grantEndNoticeLean or later, so the changes
	// it implies apply without asking GetVersion; inline: it recorded
	// grantEndNoticeInline, so it signs its notices (notify).
	lean   bool
	inline bool
	// reassignNotBefore holds off the next attempt while Graph still
	// lists the principal's own assignment past its end.
	reassignNotBefore time.Time

	releaseReason  string
	releasedBy     string
	waiting        []string
	lastRemoval    *graph.DeactivateResult
	removalFailure string
}

func newAssignment(ctx workflow.Context, in Input) *assignment {
	s := &assignment{
		target:      in.Assignment,
		assigned:    in.Assigned,
		alreadyHeld: in.AlreadyHeld,
		activeSince: in.ActiveSince,
		entraEnd:    in.EntraEnd,
		logger:      log.With(workflow.GetLogger(ctx), "target", in.Assignment.TargetString(), "principal_id", in.Assignment.PrincipalID),
	}
	// Grants carried over continue-as-new were all answered; a repeated
	// hold for one gets the state as it stands.
	for _, g := range in.Grants {
		c := &grant{Grant: g}
		s.settle(c, HoldResult{})
		s.grants = append(s.grants, c)
	}
	return s
}

func (s *assignment) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryAssignment, func() (View, error) { return s.view(), nil }); err != nil {
		return fmt.Errorf("register query %s: %w", QueryAssignment, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateHold, s.hold, workflow.UpdateHandlerOptions{Validator: s.validateHold}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateHold, err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateRelease, s.release, workflow.UpdateHandlerOptions{Validator: s.validateRelease}); err != nil {
		return fmt.Errorf("register update %s: %w", UpdateRelease, err)
	}
	return nil
}

// run does the Graph work the handlers ask for, one thing at a time, and
// ends when nothing is held and nothing is assigned.
func (s *assignment) run(ctx workflow.Context) error {
	v := workflow.GetVersion(ctx, ChangeGrantEndNotice, workflow.DefaultVersion, grantEndNoticeInline)
	s.endsGrants, s.lean, s.inline = v >= 1, v >= grantEndNoticeLean, v >= grantEndNoticeInline
	s.reassigns = s.lean || workflow.GetVersion(ctx, changeReassignAfterOwnEnd, workflow.DefaultVersion, 1) == 1
	for {
		if err := s.awaitWork(ctx); err != nil {
			return err
		}
		s.dropLapsed(ctx)
		if !s.needRemove() {
			s.tellEnded(ctx)
		}
		switch {
		case s.needReassign(ctx):
			s.reassign(ctx)
		case s.needActivate():
			s.activate(ctx)
		case s.needExtend():
			s.extend(ctx)
		case s.needRemove():
			s.remove(ctx)
		case s.finished(ctx):
			// Stay a while for the next request of the same person and
			// target, which then needs no new workflow.
			more, err := workflow.AwaitWithTimeout(ctx, IdleLinger, func() bool { return len(s.grants) > 0 })
			if err != nil || (!more && s.finished(ctx)) {
				return err
			}
		case s.quiet(ctx) && workflow.GetInfo(ctx).GetContinueAsNewSuggested():
			return workflow.NewContinueAsNewError(ctx, WorkflowName, s.carry())
		}
	}
}

// awaitWork waits for something to do, or for the earliest grant to lapse.
func (s *assignment) awaitWork(ctx workflow.Context) error {
	ready := func() bool {
		return s.needReassign(ctx) || s.needActivate() || s.needExtend() || s.needRemove() || s.finished(ctx) ||
			(s.quiet(ctx) && workflow.GetInfo(ctx).GetContinueAsNewSuggested())
	}
	lapse, ok := s.nextLapse()
	if s.endsGrants {
		// A grant that ends sooner than the one waited for wakes it.
		work := ready
		ready = func() bool {
			next, found := s.nextLapse()
			return work() || (found && (!ok || next.Before(lapse)))
		}
	}
	if s.reassigns {
		// The end of the principal's own assignment wakes it too, and a
		// grant or a renewal that moves that moment starts the wait over.
		due, found := s.reassignAt()
		work := ready
		ready = func() bool {
			next, still := s.reassignAt()
			return work() || still != found || !next.Equal(due)
		}
		if found && (!ok || due.Before(lapse)) {
			lapse, ok = due, true
		}
	}
	if !ok {
		return workflow.Await(ctx, ready)
	}
	_, err := workflow.AwaitWithTimeout(ctx, max(lapse.Sub(workflow.Now(ctx)), time.Second), ready)
	return err
}

func (s *assignment) needActivate() bool {
	return !s.activating && !s.assigned && s.alreadyHeld == nil && s.hasUnsettled()
}

func (s *assignment) needExtend() bool {
	if !s.assigned || s.activating {
		return false
	}
	for _, g := range s.grants {
		if !g.settled && g.Until.After(s.entraEnd) {
			return true
		}
	}
	return false
}

func (s *assignment) needRemove() bool {
	return len(s.grants) == 0 && s.assigned && !s.activating
}

// finished: nothing held, nothing assigned, nobody waiting for an answer.
func (s *assignment) finished(ctx workflow.Context) bool {
	return len(s.grants) == 0 && !s.assigned && !s.activating && !s.removing && workflow.AllHandlersFinished(ctx)
}

// quiet: no Graph work under way and no handler waiting, so the state can
// be carried into a new run.
func (s *assignment) quiet(ctx workflow.Context) bool {
	return !s.activating && !s.removing && !s.hasUnsettled() && workflow.AllHandlersFinished(ctx)
}

func (s *assignment) hasUnsettled() bool {
	return slices.ContainsFunc(s.grants, func(g *grant) bool { return !g.settled })
}

// validateHold refuses a hold that no jitflow worker signed, for another
// target or without a length.
func (s *assignment) validateHold(ctx workflow.Context, in HoldInput) error {
	if err := s.checkProof(ctx, "hold", in.RequestID, in); err != nil {
		return err
	}
	switch {
	case in.RequestID == "":
		return invalid("request_id is required")
	case in.Assignment != s.target:
		return invalid("hold for %s of %s sent to the workflow of %s of %s", in.Assignment.TargetString(), in.Assignment.PrincipalID, s.target.TargetString(), s.target.PrincipalID)
	case in.Duration <= 0 && in.Until.IsZero():
		return invalid("duration must be positive, got %s", in.Duration)
	}
	return nil
}

// hold records the grant (or its new end) and waits for the main loop to
// activate or extend the role, or for the answer at once when the role is
// already there long enough.
func (s *assignment) hold(ctx workflow.Context, in HoldInput) (HoldResult, error) {
	s.useProof(in.Proof)
	g := s.grant(in.RequestID)
	switch {
	case g == nil:
		g = &grant{Grant: Grant{RequestID: in.RequestID, Duration: in.Duration}, justification: in.Justification, ticket: in.Ticket}
		s.grants = append(s.grants, g)
		// Once the principal's own assignment has ended, a new grant
		// waits for the role to be assigned again.
		if s.active() && !s.ownEnded(ctx) {
			g.Until = workflow.Now(ctx).Add(in.Duration)
			s.settleIfCovered(ctx, g)
		}
	case !in.Until.IsZero() && !in.Until.Equal(g.Until) && g.settled:
		g.prevUntil, g.Until, g.settled = g.Until, in.Until, false
		g.justification, g.ticket = in.Justification, in.Ticket
		s.settleIfCovered(ctx, g)
	}
	if err := workflow.Await(ctx, func() bool { return g.settled }); err != nil {
		return HoldResult{}, err
	}
	res := g.result
	res.Shared = len(s.grants) - 1
	return res, nil
}

// settleIfCovered answers a grant the current assignment already covers:
// one held before jitflow (which reassign takes over when it ends before
// the grant), or jitflow's own that lasts long enough.
func (s *assignment) settleIfCovered(ctx workflow.Context, g *grant) {
	if (s.alreadyHeld != nil && !s.ownEnded(ctx)) || !g.Until.After(s.entraEnd) {
		s.settle(g, HoldResult{})
	}
}

func (s *assignment) settle(g *grant, res HoldResult) {
	res.Until, res.EntraEnd, res.AlreadyHeld = g.Until, s.entraEnd, s.alreadyHeld
	if res.Failure != "" {
		res.Until = g.prevUntil
	}
	g.result, g.settled = res, true
}

// active: the principal holds the target now, by jitflow or before it.
func (s *assignment) active() bool {
	return !s.activating && (s.assigned || s.alreadyHeld != nil)
}

func (s *assignment) grant(id string) *grant {
	for _, g := range s.grants {
		if g.RequestID == id {
			return g
		}
	}
	return nil
}

func (s *assignment) validateRelease(ctx workflow.Context, in ReleaseInput) error {
	if err := s.checkProof(ctx, "release", in.RequestID, in); err != nil {
		return err
	}
	if in.RequestID == "" {
		return invalid("request_id is required")
	}
	return nil
}

// useProof records the nonce of an accepted update's proof (none in
// updates from before proofs), so a replay rebuilds them.
func (s *assignment) useProof(p *proof.Proof) {
	if p == nil {
		return
	}
	if s.nonces == nil {
		s.nonces = map[string]struct{}{}
	}
	s.nonces[p.Nonce] = struct{}{}
}

// checkProof refuses an update (what: "hold", "release") that no jitflow
// worker signed for the request, or whose proof was used before.
func (s *assignment) checkProof(ctx workflow.Context, what, requestID string, in proof.Input) error {
	if err := s.keys.VerifyInput(requestID, in, workflow.Now(ctx)); err != nil {
		s.logger.Warn("Update refused: no valid proof", "update", what, "request_id", requestID, "error", err)
		return forbidden("%s refused: it was not issued by a jitflow worker", what)
	}
	if _, used := s.nonces[in.Carried().Nonce]; used {
		return forbidden("%s refused: its proof was already used", what)
	}
	return nil
}

// release drops the request's grant. When others still hold the role, or
// it was held before jitflow, it answers at once; otherwise it waits for
// the main loop to remove the role.
func (s *assignment) release(ctx workflow.Context, in ReleaseInput) (ReleaseResult, error) {
	s.useProof(in.Proof)
	before := len(s.grants)
	s.grants = slices.DeleteFunc(s.grants, func(g *grant) bool { return g.RequestID == in.RequestID })
	if len(s.grants) > 0 {
		return ReleaseResult{Remaining: len(s.grants), AlreadyHeld: s.alreadyHeld != nil}, nil
	}
	// A request this run never held (its hold never came, or an earlier
	// run answered it) learns of no removal that was not its own.
	if before == 0 && !s.assigned && !s.activating && !s.removing {
		return ReleaseResult{AlreadyHeld: s.alreadyHeld != nil}, nil
	}
	s.releaseReason, s.releasedBy = in.Reason, in.RequestID
	s.waiting = append(s.waiting, in.RequestID)
	defer func() { s.waiting = slices.DeleteFunc(s.waiting, func(id string) bool { return id == in.RequestID }) }()
	err := workflow.Await(ctx, func() bool { return len(s.grants) > 0 || (!s.activating && !s.assigned && !s.removing) })
	if err != nil {
		return ReleaseResult{}, err
	}
	if len(s.grants) > 0 && (s.assigned || s.activating) {
		return ReleaseResult{Remaining: len(s.grants)}, nil
	}
	return ReleaseResult{Removal: s.lastRemoval, Failure: s.removalFailure, AlreadyHeld: s.alreadyHeld != nil}, nil
}

// activate assigns the role as a local activity (no round trip through the
// task queue). The provider looks at what the principal holds first: an
// assignment this request made counts as done (so a repeat after a lost
// answer or a worker crash is safe), and a standing or foreign one is
// refused with ErrAssignmentHeld, which leaves it alone: the grants ride on
// it, and it is never removed.
func (s *assignment) activate(ctx workflow.Context) {
	s.activating = true
	defer func() { s.activating = false }()
	s.lastRemoval, s.removalFailure = nil, ""
	first := s.firstUnsettled()
	in := graph.ActivateInput{
		RequestID:     first.RequestID,
		Assignment:    s.target,
		Duration:      s.longestUnsettled(),
		Justification: first.justification,
		Ticket:        first.ticket,
	}
	res, err := activateLocally(ctx, in)
	if inst, ok := heldBefore(err); ok {
		s.alreadyHeld, s.entraEnd, s.activeSince = &inst, inst.EndDateTime, workflow.Now(ctx)
		s.logger.Info("Principal already holds the target; it will not be removed", "instance_id", inst.ID, "assignment_type", inst.AssignmentType)
		s.settleNew(ctx, nil, 0)
		return
	}
	if err != nil {
		s.failUnsettled("activation failed: " + activities.FailureText(err))
		// A failure other than Graph's outright refusal may have left an
		// assignment behind (an attempt whose answer was lost): remove it.
		var app *temporal.ApplicationError
		s.assigned = !errors.As(err, &app) || app.Type() != graph.ErrRejected
		return
	}
	s.assigned, s.entraEnd, s.activeSince = true, res.EndDateTime, workflow.Now(ctx)
	if s.entraEnd.IsZero() {
		s.entraEnd = s.activeSince.Add(in.Duration)
	}
	s.settleNew(ctx, &res, in.Duration)
}

// heldBefore reads the assignment the principal held before jitflow from
// the provider's ErrAssignmentHeld refusal.
func heldBefore(err error) (graph.Instance, bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != graph.ErrAssignmentHeld {
		return graph.Instance{}, false
	}
	var inst graph.Instance
	if app.HasDetails() {
		if derr := app.Details(&inst); derr != nil {
			inst = graph.Instance{}
		}
	}
	return inst, true
}

// settleNew starts the clock of every grant waiting for activation, now
// that the role is there. A grant the activation covered ends with Entra's
// assignment (Entra's clock started when the role was really there, a
// moment before this one); one that outlasts it is left for the main loop
// to extend.
func (s *assignment) settleNew(ctx workflow.Context, res *graph.ActivateResult, activated time.Duration) {
	now := workflow.Now(ctx)
	for _, g := range s.grants {
		if g.settled || !g.Until.IsZero() {
			continue
		}
		g.Until = now.Add(g.Duration)
		if g.Duration <= activated && g.Until.After(s.entraEnd) {
			g.Until = s.entraEnd
		}
		if s.alreadyHeld != nil || !g.Until.After(s.entraEnd) {
			s.settle(g, HoldResult{Activation: res})
		}
	}
}

func (s *assignment) firstUnsettled() *grant {
	for _, g := range s.grants {
		if !g.settled {
			return g
		}
	}
	return nil
}

func (s *assignment) longestUnsettled() time.Duration {
	var d time.Duration
	for _, g := range s.grants {
		if !g.settled {
			d = max(d, g.Duration)
		}
	}
	return d
}

// failUnsettled answers every waiting grant with the failure. New grants
// are dropped; extensions keep their earlier end.
func (s *assignment) failUnsettled(reason string) {
	s.logger.Warn("Hold failed", "reason", reason)
	var keep []*grant
	for _, g := range s.grants {
		if !g.settled {
			s.settle(g, HoldResult{Failure: reason})
			g.Until = g.prevUntil
		}
		if !g.Until.IsZero() {
			keep = append(keep, g)
		}
	}
	s.grants = keep
}

// extend moves Entra's end to the latest grant, rounded up to a whole
// second (Graph keeps no fractions). Every grant it was asked for is then
// answered, whatever Graph reports as the new end.
func (s *assignment) extend(ctx workflow.Context) {
	latest, by := s.latest()
	if r := latest.Truncate(time.Second); r.Before(latest) {
		latest = r.Add(time.Second)
	}
	in := graph.ExtendInput{
		RequestID:     by.RequestID,
		Assignment:    s.target,
		EndDateTime:   latest,
		Justification: by.justification,
		Ticket:        by.ticket,
	}
	var res graph.ExtendResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activateOptions()), acts.Extend, in).Get(ctx, &res)
	if err != nil {
		s.failExtension("extending the assignment failed: " + activities.FailureText(err))
		return
	}
	s.entraEnd = res.EndDateTime
	if s.entraEnd.IsZero() {
		s.entraEnd = latest
	}
	for _, g := range s.grants {
		if !g.settled && !g.Until.After(latest) {
			s.settle(g, HoldResult{Extension: &res})
		}
	}
}

// failExtension answers the grants that asked for more than Entra's end:
// an extension keeps its earlier end, a new grant is cut to Entra's end.
func (s *assignment) failExtension(reason string) {
	s.logger.Warn("Extension failed", "reason", reason)
	for _, g := range s.grants {
		if g.settled {
			continue
		}
		if g.prevUntil.IsZero() {
			g.Until = s.entraEnd
			s.settle(g, HoldResult{})
			continue
		}
		s.settle(g, HoldResult{Failure: reason})
		g.Until = g.prevUntil
	}
}

// latest is the latest end any grant asks for, and whose it is.
func (s *assignment) latest() (time.Time, *grant) {
	var at time.Time
	var by *grant
	for _, g := range s.grants {
		if by == nil || g.Until.After(at) {
			at, by = g.Until, g
		}
	}
	return at, by
}

// nextLapse is when the earliest settled grant lapses.
func (s *assignment) nextLapse() (time.Time, bool) {
	var at time.Time
	found := false
	for _, g := range s.grants {
		if g.settled && !g.Until.IsZero() && (!found || g.Until.Before(at)) {
			at, found = g.Until, true
		}
	}
	return at.Add(s.lapseGrace()), found
}

// lapseGrace is how long past its end a grant is kept.
func (s *assignment) lapseGrace() time.Duration {
	if s.endsGrants {
		return 0
	}
	return LapseGrace
}

// dropLapsed ends grants whose end has come (with endsGrants), or forgets
// those whose request never released them.
func (s *assignment) dropLapsed(ctx workflow.Context) {
	now := workflow.Now(ctx)
	s.grants = slices.DeleteFunc(s.grants, func(g *grant) bool {
		lapsed := g.settled && !g.Until.IsZero() && !now.Before(g.Until.Add(s.lapseGrace()))
		switch {
		case lapsed && s.endsGrants:
			s.ended = append(s.ended, g.RequestID)
			s.releaseReason, s.releasedBy = "the grant ran out", g.RequestID
		case lapsed:
			s.logger.Warn("Grant lapsed without a release; dropping it", "request_id", g.RequestID, "until", g.Until)
		}
		return lapsed
	})
}

// tellEnded tells each request whose grant ended what became of the role:
// kept for other grants or held before jitflow, or removed (or not) by the
// removal that just ran. A request that is gone cannot be told, which is
// no reason to stop.
func (s *assignment) tellEnded(ctx workflow.Context) {
	if len(s.ended) == 0 {
		return
	}
	res := ReleaseResult{Remaining: len(s.grants), AlreadyHeld: s.alreadyHeld != nil}
	if len(s.grants) == 0 && s.alreadyHeld == nil {
		res = ReleaseResult{Removal: s.lastRemoval, Failure: s.removalFailure}
	}
	s.notify(ctx, s.ended, RemovalProgress{Ended: &res})
	s.ended = nil
}

func (s *assignment) view() View {
	v := View{Assignment: s.target, Grants: []Grant{}, Assigned: s.assigned, AlreadyHeld: s.alreadyHeld, EntraEnd: s.entraEnd}
	for _, g := range s.grants {
		v.Grants = append(v.Grants, g.Grant)
	}
	return v
}

// carry is the state a new run continues from.
func (s *assignment) carry() Input {
	v := s.view()
	return Input{Assignment: s.target, Grants: v.Grants, Assigned: s.assigned, AlreadyHeld: s.alreadyHeld, ActiveSince: s.activeSince, EntraEnd: s.entraEnd}
}
