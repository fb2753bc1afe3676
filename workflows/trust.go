package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/proof"
)

// Trust holds the keys the workflows check proofs with (proof.Keys of
// jitflow's key list). A worker registers its workflows through one Trust
// (Trust.AccessRequest); only what a jitflow server signed gets past its
// validators.
type Trust struct {
	keys *proof.Keys
}

// NewTrust returns the Trust of a worker holding keys.
func NewTrust(keys *proof.Keys) *Trust { return &Trust{keys: keys} }

// verifier is the keys, or nil (which verifies nothing) for a nil Trust.
func (t *Trust) verifier() *proof.Keys {
	if t == nil {
		return nil
	}
	return t.keys
}

// AccessRequest is the workflow of one access request (see the package
// function AccessRequest) checking proofs with t's keys.
func (t *Trust) AccessRequest(ctx workflow.Context, in AccessRequestInput) (Request, error) {
	s := newAccessRequest(in)
	s.trust = t
	if err := s.setup(ctx); err != nil {
		return s.view(), err
	}
	s.run(ctx)
	return s.view(), nil
}

// AccessRequest is the workflow of one access request: approval stages with
// escalation, activation, the grant, and removal of the role. It always
// completes with the final Request view as its result. Cancelling the
// workflow in Temporal ends the request too: a pending one as canceled, an
// activating or active one as revoked after its role was removed.
//
// Registered as it is, with no keys, it replays any saved history (proofs
// are checked only in validators and in a side effect, neither of which
// runs again on replay) and refuses every new request and update: workers
// register Trust.AccessRequest instead.
func AccessRequest(ctx workflow.Context, in AccessRequestInput) (Request, error) {
	return (*Trust)(nil).AccessRequest(ctx, in)
}

// ChangeStartProof is the GetVersion change id of the start check: a
// request whose input carries no valid proof of a jitflow server ends
// failed before it does anything.
const ChangeStartProof = "start-proof"

// startCheck is the recorded outcome of the start check. It is a side
// effect's result, read back by AuditEvents like an audit event: having no
// "type", it is skipped there.
type startCheck struct {
	Refused string `json:"start_refused"`
}

// NotIssued is the reason a request without a server's proof fails with.
const NotIssued = "not issued by a jitflow server"

// verifyStart checks the input's proof once, when the request starts, and
// records the outcome, so a replay (with other keys, at another time)
// takes the same path. Histories from before the check skip it.
func (s *accessRequest) verifyStart(ctx workflow.Context) bool {
	v := workflow.GetVersion(ctx, ChangeStartProof, workflow.DefaultVersion, StartProofInline)
	if v == workflow.DefaultVersion {
		return true
	}
	s.lean, s.inline = v >= StartProofLean, v >= StartProofInline
	started := workflow.GetInfo(ctx).WorkflowStartTime
	var check startCheck
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		if err := s.trust.verifier().VerifyInput(s.in.RequestID, s.in, started); err != nil {
			return startCheck{Refused: err.Error()}
		}
		return startCheck{}
	}).Get(&check)
	if err == nil && check.Refused == "" {
		s.started = s.in.Proof
		return true
	}
	s.logger.Warn("Request refused at its start", "reason", check.Refused, "error", err)
	s.reason = NotIssued
	s.setStatus(ctx, api.StatusFailed)
	s.record(ctx, AuditEvent{Type: api.EventFailed, Actor: api.ActorSystem, Detail: "refused at its start: " + NotIssued})
	return false
}

// checkProof is the first check of every update's validator: the update
// must carry a proof of a jitflow server saying exactly what it asks, not
// used before in this request. A refusal names no detail of the check.
func (s *accessRequest) checkProof(ctx workflow.Context, in proof.Input) error {
	want, _ := in.Claim()
	switch err := s.proofProblem(in, workflow.Now(ctx)); {
	case errors.Is(err, errProofUsed):
		s.logger.Warn("Update refused: proof used before", "kind", want.Kind)
		return forbidden("%s refused: its proof was already used", want.Kind)
	case err != nil:
		s.logger.Warn("Update refused: no valid proof", "kind", want.Kind, "error", err)
		return forbidden("%s refused: it was not issued by a jitflow server for an authenticated caller", want.Kind)
	}
	if !s.begun {
		// An update that reaches the workflow in its first task, before
		// the request checked its start and recorded it, would be decided
		// ahead of the request's own record.
		return temporal.NewApplicationError(fmt.Sprintf("%s refused for now: request %s is still starting; try again in a moment", want.Kind, s.in.RequestID), ErrStarting)
	}
	return nil
}

// errProofUsed: the proof was accepted before in this request.
var errProofUsed = errors.New("its proof was already used")

// proofProblem is why in may not be taken, the one check of updates and
// notices: no valid proof for this request at now, or one it accepted
// before (errProofUsed).
func (s *accessRequest) proofProblem(in proof.Input, now time.Time) error {
	if err := s.trust.verifier().VerifyInput(s.in.RequestID, in, now); err != nil {
		return err
	}
	if _, used := s.nonces[in.Carried().Nonce]; used {
		return errProofUsed
	}
	return nil
}

// Verify checks that in (the input of a request's start or of one of its
// updates) carries a proof of keys, for request requestID, saying what in
// asks, issued within proof.MaxAge of now. It is the workflows' own check
// (without the nonce, which only the workflow knows to be unused).
func Verify(keys *proof.Keys, requestID string, in any, now time.Time) error {
	a, ok := in.(proof.Input)
	if !ok {
		return fmt.Errorf("%T carries no proof", in)
	}
	return keys.VerifyInput(requestID, a, now)
}

// noticeCheck is the recorded outcome of a notice's check, like
// startCheck: a replay takes the path the notice first took, whatever the
// keys and clock then.
type noticeCheck struct {
	Refused string `json:"notice_refused"`
}

// trustNotice reports whether a notice from the assignment workflow
// carries a worker's proof for this request, not used before. Requests
// started before StartProofInline take every notice, as they always did.
func (s *accessRequest) trustNotice(ctx workflow.Context, p assignments.RemovalProgress) bool {
	if !s.inline {
		return true
	}
	now := workflow.Now(ctx)
	var check noticeCheck
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		if err := s.proofProblem(p, now); err != nil {
			return noticeCheck{Refused: err.Error()}
		}
		return noticeCheck{}
	}).Get(&check)
	if err != nil || check.Refused != "" {
		s.logger.Warn("Notice ignored: not signed by a jitflow worker for this request", "reason", check.Refused, "error", err)
		return false
	}
	s.useProof(p.Proof)
	return true
}

// useProof remembers an accepted update's or notice's nonce. Handlers run
// on replay (validators do not), so the set is rebuilt from history.
func (s *accessRequest) useProof(p *proof.Proof) {
	if p == nil {
		return
	}
	if s.nonces == nil {
		s.nonces = map[string]struct{}{}
	}
	s.nonces[p.Nonce] = struct{}{}
}

// attested puts on an audit event how the action reached the workflow:
// channel, link, the identity the server authenticated, the key that
// signed. Histories from before proofs have none.
func attested(ev AuditEvent, p *proof.Proof) AuditEvent {
	if p == nil {
		return ev
	}
	ev.Channel, ev.LinkID, ev.Via, ev.KeyID = p.Channel, p.LinkID, p.Via, p.KeyID
	return ev
}

// ChannelTemporalCancel is the channel of what follows a cancellation of
// the workflow in Temporal (CLI, Web UI, SDK): no jitflow server vouched
// for it, and the workflow cannot see who asked (history's
// WorkflowExecutionCancelRequested event names the identity Temporal
// recorded).
const ChannelTemporalCancel = "temporal-cancel"

// The statements each input's proof must make, and signing for servers:
// Sign completes st (which names the request, channel, link and identity)
// with the input's kind, actor and digest, and returns the input carrying
// the proof.

func (in AccessRequestInput) Carried() *proof.Proof { return in.Proof }

func (in AccessRequestInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindSubmit, RequestID: in.RequestID, ActorID: in.Requester.ID}, in
}

// Sign returns in carrying a proof of keys.
func (in AccessRequestInput) Sign(keys *proof.Keys, st proof.Statement, now time.Time) (AccessRequestInput, error) {
	var err error
	in.Proof, err = keys.SignInput(in, st, now)
	return in, err
}

func (in DecideInput) Carried() *proof.Proof { return in.Proof }

func (in DecideInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindDecide, ActorID: in.ApproverID}, in
}

// Sign returns in carrying a proof of keys.
func (in DecideInput) Sign(keys *proof.Keys, st proof.Statement, now time.Time) (DecideInput, error) {
	var err error
	in.Proof, err = keys.SignInput(in, st, now)
	return in, err
}

func (in CancelInput) Carried() *proof.Proof { return in.Proof }

func (in CancelInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindCancel, ActorID: in.ActorID}, in
}

// Sign returns in carrying a proof of keys.
func (in CancelInput) Sign(keys *proof.Keys, st proof.Statement, now time.Time) (CancelInput, error) {
	var err error
	in.Proof, err = keys.SignInput(in, st, now)
	return in, err
}

func (in RevokeInput) Carried() *proof.Proof { return in.Proof }

func (in RevokeInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindRevoke, ActorID: in.Actor.ID, Operator: in.Operator}, in
}

// Sign returns in carrying a proof of keys.
func (in RevokeInput) Sign(keys *proof.Keys, st proof.Statement, now time.Time) (RevokeInput, error) {
	var err error
	in.Proof, err = keys.SignInput(in, st, now)
	return in, err
}

func (in ExtendInput) Carried() *proof.Proof { return in.Proof }

func (in ExtendInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindExtend, ActorID: in.Actor.ID}, in
}

// Sign returns in carrying a proof of keys.
func (in ExtendInput) Sign(keys *proof.Keys, st proof.Statement, now time.Time) (ExtendInput, error) {
	var err error
	in.Proof, err = keys.SignInput(in, st, now)
	return in, err
}
