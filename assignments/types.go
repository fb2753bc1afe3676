package assignments

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/proof"
)

// Names of the assignment workflow, which owns one principal's assignment
// of one target for every request that holds it. They are in histories:
// they never change.
const (
	// WorkflowName is the Temporal workflow type.
	WorkflowName = "Assignment"
	// UpdateHold asks the assignment to be held for a request until a time
	// (HoldInput); it answers once the role is active, extended or refused.
	UpdateHold = "hold"
	// UpdateRelease gives up a request's hold (ReleaseInput); it answers once
	// the role is removed, or at once when it stays for others.
	UpdateRelease = "release"
	// QueryAssignment returns the View.
	QueryAssignment = "assignment"
	// SignalRemoval tells a request workflow how the removal it waits for
	// is going, or what became of the role it rides on (RemovalProgress).
	SignalRemoval = "removal-progress"
)

// Application error types of the assignment workflow's refusals.
const (
	ErrForbidden = "Forbidden" // a hold no jitflow worker signed
	ErrInvalid   = "Invalid"   // a malformed hold or release
)

func forbidden(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrForbidden)
}

func invalid(format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), ErrInvalid)
}

// WorkflowID is the deterministic id of the assignment workflow
// of one principal and target: assignment/<principal>/<target hash>.
func WorkflowID(a graph.Assignment) string {
	var key string
	if a.IsGroup() {
		key = "group\n" + strings.ToLower(a.GroupID) + "\n" + a.AccessID
	} else {
		scope := a.DirectoryScopeID
		if scope == "" {
			scope = "/"
		}
		key = "role\n" + strings.ToLower(a.RoleDefinitionID) + "\n" + strings.ToLower(scope)
	}
	sum := sha256.Sum256([]byte(key))
	return "assignment/" + strings.ToLower(a.PrincipalID) + "/" + hex.EncodeToString(sum[:])[:24]
}

// Input starts the assignment workflow, or continues it as new
// with the state it carried.
type Input struct {
	Assignment graph.Assignment `json:"assignment"`
	Grants     []Grant          `json:"grants,omitempty"`
	// Assigned is set while jitflow's own assignment exists in Entra.
	Assigned    bool            `json:"assigned,omitempty"`
	AlreadyHeld *graph.Instance `json:"already_held,omitempty"`
	ActiveSince time.Time       `json:"active_since,omitempty"`
	EntraEnd    time.Time       `json:"entra_end,omitempty"`
}

// Grant is one request's hold on the assignment.
type Grant struct {
	RequestID string `json:"request_id"`
	// Duration is how long the grant lasts from activation; Until is set
	// from it once the role is active.
	Duration time.Duration `json:"duration"`
	Until    time.Time     `json:"until,omitempty"`
}

// HoldInput asks the assignment workflow to hold the target for a request:
// a new grant for Duration from activation, or (Until set) the request's
// grant extended to Until.
type HoldInput struct {
	RequestID     string           `json:"request_id"`
	Assignment    graph.Assignment `json:"assignment"`
	Duration      time.Duration    `json:"duration"`
	Until         time.Time        `json:"until,omitempty"`
	Justification string           `json:"justification"`
	Ticket        string           `json:"ticket,omitempty"`
	// Proof is the worker's signature of this input (proof.KindHold, for
	// RequestID): only a jitflow worker may have a role held.
	Proof *proof.Proof `json:"proof,omitempty"`
}

// HoldResult is the assignment workflow's answer to a hold.
type HoldResult struct {
	// Failure, when set, says why the role could not be activated or
	// extended; the grant is not held (a failed extension keeps the
	// earlier end).
	Failure string `json:"failure,omitempty"`
	// Until is when the request's grant ends.
	Until time.Time `json:"until"`
	// EntraEnd is when Entra itself ends the assignment; zero when it is
	// permanent (a standing assignment jitflow did not make).
	EntraEnd time.Time `json:"entra_end,omitempty"`
	// AlreadyHeld is the standing or foreign assignment the principal held
	// before jitflow: it is left alone and never removed.
	AlreadyHeld *graph.Instance `json:"already_held,omitempty"`
	// Activation is Graph's answer when this hold assigned the role;
	// Extension when it moved the assignment's end.
	Activation *graph.ActivateResult `json:"activation,omitempty"`
	Extension  *graph.ExtendResult   `json:"extension,omitempty"`
	// Shared counts the other requests holding the assignment.
	Shared int `json:"shared,omitempty"`
}

// ReleaseInput gives up a request's hold.
type ReleaseInput struct {
	RequestID  string           `json:"request_id"`
	Assignment graph.Assignment `json:"assignment"`
	Reason     string           `json:"reason,omitempty"`
	// Proof is the worker's signature of this input (proof.KindRelease,
	// for RequestID): only a jitflow worker may give a request's hold up,
	// which can remove the role before the grant ends.
	Proof *proof.Proof `json:"proof,omitempty"`
}

// ReleaseResult says what became of the assignment.
type ReleaseResult struct {
	// Removal is Graph's answer when the role was removed.
	Removal *graph.DeactivateResult `json:"removal,omitempty"`
	// Remaining counts the requests still holding the role, which stays.
	Remaining int `json:"remaining,omitempty"`
	// AlreadyHeld is set when the principal held the role before jitflow:
	// it stays.
	AlreadyHeld bool `json:"already_held,omitempty"`
	// Failure says why Graph refused the removal for good.
	Failure string `json:"failure,omitempty"`
}

// RemovalProgress is what the assignment workflow signals to a request
// waiting for the removal, or holding a grant whose role changed hands.
type RemovalProgress struct {
	// AllowedAt is when Entra allows the removal, if it refused it as too soon.
	AllowedAt time.Time `json:"allowed_at,omitempty"`
	// Alert says the removal keeps failing.
	Alert string `json:"alert,omitempty"`
	// Ended says the grant reached its end and the assignment workflow
	// dropped it, with what became of the role.
	Ended *ReleaseResult `json:"ended,omitempty"`
	// Reassigned says the principal's own assignment, which the grant rode
	// on, ended before the grant, and what jitflow did about it.
	Reassigned *Reassignment `json:"reassigned,omitempty"`
	// RequestID is the request told, and Proof a jitflow worker's proof
	// (proof.KindNotice) for it: a request started with
	// workflows.StartProofInline ignores a notice without one. Notices
	// signalled by an assignment workflow from before grantEndNoticeInline
	// carry neither.
	RequestID string       `json:"request_id,omitempty"`
	Proof     *proof.Proof `json:"proof,omitempty"`
}

// Claim is what a notice's proof says: a worker's word to the request.
func (p RemovalProgress) Claim() (proof.Statement, any) {
	p.Proof = nil
	return proof.Statement{Kind: proof.KindNotice, RequestID: p.RequestID}, p
}

// Carried is the notice's proof.
func (p RemovalProgress) Carried() *proof.Proof { return p.Proof }

// For returns p addressed to request id, carrying a worker's proof of keys.
func (p RemovalProgress) For(id string, keys *proof.Keys, now time.Time) (RemovalProgress, error) {
	p.RequestID, p.Proof = id, nil
	var err error
	p.Proof, err = keys.SignInput(p, proof.Statement{Channel: proof.ChannelWorker}, now)
	return p, err
}

// Reassignment is the assignment workflow's word to a request whose grant
// rode on an assignment the principal held before jitflow, when that
// assignment ended before the grant (changeReassignAfterOwnEnd).
type Reassignment struct {
	// Previous is the principal's own assignment that ended.
	Previous graph.Instance `json:"previous"`
	// Activation is Graph's answer when jitflow assigned the role for the
	// rest of the grant: from now on the assignment is jitflow's, and it
	// is removed when the last grant ends.
	Activation *graph.ActivateResult `json:"activation,omitempty"`
	// Failure says why the role could not be assigned again: the grant is
	// dropped and the role is gone.
	Failure string `json:"failure,omitempty"`
}

// View is what QueryAssignment returns.
type View struct {
	Assignment  graph.Assignment `json:"assignment"`
	Grants      []Grant          `json:"grants"`
	Assigned    bool             `json:"assigned"`
	AlreadyHeld *graph.Instance  `json:"already_held,omitempty"`
	EntraEnd    time.Time        `json:"entra_end,omitempty"`
}

// Claim is what a hold's proof says: a worker's hold for the request.
func (in HoldInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindHold, RequestID: in.RequestID}, in
}

// Carried is the hold's proof.
func (in HoldInput) Carried() *proof.Proof { return in.Proof }

// Claim is what a release's proof says: a worker's release for the request.
func (in ReleaseInput) Claim() (proof.Statement, any) {
	in.Proof = nil
	return proof.Statement{Kind: proof.KindRelease, RequestID: in.RequestID}, in
}

// Carried is the release's proof.
func (in ReleaseInput) Carried() *proof.Proof { return in.Proof }

// Sign returns in carrying a proof of keys.
func (in HoldInput) Sign(keys *proof.Keys, st proof.Statement, now time.Time) (HoldInput, error) {
	var err error
	in.Proof, err = keys.SignInput(in, st, now)
	return in, err
}
