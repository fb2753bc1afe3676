package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

const notIssued = "not issued by a jitflow server for an authenticated caller"

// Every way an update can lack a valid proof is refused before it reaches
// history: no decision, no audit event, nothing activated.
func TestUpdatesWithoutValidProofAreRefused(t *testing.T) {
	h := newHarness(t, twoOfThreeInput())
	bobApproves := workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Comment: "ok"}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	sign := func(arg any, id string, now time.Time) any { return signed(t, id, arg, now) }
	otherKeys, err := approvals.NewKeySet(approvals.GenerateKey())
	require.NoError(t, err)

	cases := []struct {
		name, update, contains string
		arg                    func() any
	}{
		{"no proof", workflows.UpdateDecide, notIssued, func() any { return bobApproves }},
		{"bad signature", workflows.UpdateDecide, notIssued, func() any {
			in := sign(bobApproves, h.in.RequestID, at(time.Second)).(workflows.DecideInput)
			p := *in.Proof
			p.Signature = append([]byte(nil), p.Signature...)
			p.Signature[0] ^= 1
			in.Proof = &p
			return in
		}},
		{"another request's proof", workflows.UpdateDecide, notIssued, func() any {
			return sign(bobApproves, "req-other", at(2*time.Second))
		}},
		{"comment swapped", workflows.UpdateDecide, notIssued, func() any {
			in := sign(bobApproves, h.in.RequestID, at(3*time.Second)).(workflows.DecideInput)
			in.Comment = "something else"
			return in
		}},
		{"deny swapped for approve", workflows.UpdateDecide, notIssued, func() any {
			in := sign(workflows.DecideInput{ApproverID: bob.ID, Decision: deny}, h.in.RequestID, at(4*time.Second)).(workflows.DecideInput)
			in.Decision = approve
			return in
		}},
		{"actor swapped", workflows.UpdateDecide, notIssued, func() any {
			in := sign(bobApproves, h.in.RequestID, at(5*time.Second)).(workflows.DecideInput)
			in.ApproverID = carol.ID
			return in
		}},
		{"stale", workflows.UpdateDecide, notIssued, func() any {
			return sign(bobApproves, h.in.RequestID, at(6*time.Second).Add(-proof.MaxAge-time.Second))
		}},
		{"unknown key", workflows.UpdateDecide, notIssued, func() any {
			in, err := bobApproves.Sign(proof.FromKeySet(otherKeys), proof.Statement{RequestID: h.in.RequestID, Channel: proof.ChannelAPI}, at(7*time.Second))
			require.NoError(t, err)
			return in
		}},
		{"a proof for another kind", workflows.UpdateCancel, notIssued, func() any {
			d := sign(workflows.DecideInput{ApproverID: alice.ID, Decision: approve}, h.in.RequestID, at(8*time.Second)).(workflows.DecideInput)
			return workflows.CancelInput{ActorID: alice.ID, Proof: d.Proof}
		}},
		{"cancel without proof", workflows.UpdateCancel, notIssued, func() any { return workflows.CancelInput{ActorID: alice.ID} }},
		{"revoke as operator without proof", workflows.UpdateRevoke, notIssued, func() any {
			return workflows.RevokeInput{Actor: mallory, Operator: true}
		}},
		{"operator flag added", workflows.UpdateRevoke, notIssued, func() any {
			in := sign(workflows.RevokeInput{Actor: mallory}, h.in.RequestID, at(10*time.Second)).(workflows.RevokeInput)
			in.Operator = true
			return in
		}},
		{"extend without proof", workflows.UpdateExtend, notIssued, func() any {
			return workflows.ExtendInput{Actor: alice, Duration: time.Hour}
		}},
	}
	outcomes := make([]*outcome, len(cases))
	for i, c := range cases {
		outcomes[i] = h.sendAt(time.Duration(i+1)*time.Second, c.update, c.arg)
	}
	view := h.queryAt(15 * time.Second)
	// Bob's decision, properly signed, is accepted; sent again as it was
	// (say, captured from the first call), its proof is refused as used.
	var once any
	h.env.RegisterDelayedCallback(func() {
		once = sign(bobApproves, h.in.RequestID, at(16*time.Second))
	}, 15*time.Second)
	ok := h.sendAt(16*time.Second, workflows.UpdateDecide, func() any { return once })
	again := h.sendAt(17*time.Second, workflows.UpdateDecide, func() any { return once })
	r := h.run()

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { rejected(t, outcomes[i], workflows.ErrForbidden, c.contains) })
	}
	require.Equal(t, api.StatusPending, view.Status)
	require.Empty(t, view.Decisions, "no refused update left a decision")
	accepted(t, ok)
	rejected(t, again, workflows.ErrForbidden, "its proof was already used")

	require.Equal(t, api.StatusTimedOut, r.Status)
	require.Len(t, r.Decisions, 1)
	require.Empty(t, h.activations)
	require.Equal(t, []string{api.EventRequested, api.EventApproved, api.EventTimedOut}, h.audit.types())
	approved := h.audit.ofType(api.EventApproved)[0]
	require.Equal(t, proof.ChannelAPI, approved.Channel)
	require.Equal(t, "test token", approved.Via)
	require.Equal(t, "test", approved.KeyID)
	requested := h.audit.ofType(api.EventRequested)[0]
	require.Equal(t, proof.ChannelAPI, requested.Channel)
}

// A request started straight through Temporal, without the server's
// proof, fails at once: nothing activated, nobody emailed, however
// tempting its plan (break-glass here).
func TestStartWithoutProofFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forged func(workflows.AccessRequestInput) workflows.AccessRequestInput
	}{
		{"no proof", func(in workflows.AccessRequestInput) workflows.AccessRequestInput { return in }},
		{"proof of a plan with stages", func(in workflows.AccessRequestInput) workflows.AccessRequestInput {
			staged := in
			staged.BreakGlass = false
			staged.Stages = readerInput().Stages
			p := signed(t, in.RequestID, staged, t0).(workflows.AccessRequestInput).Proof
			in.Proof = p
			return in
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.forged(breakGlassInput()))
			h.unsignedStart = true
			r := h.run()
			require.Equal(t, api.StatusFailed, r.Status)
			require.Equal(t, workflows.NotIssued, r.Reason)
			require.Empty(t, h.activations)
			require.Empty(t, h.holds)
			require.Empty(t, h.emails)
			require.Equal(t, []string{api.EventFailed}, h.audit.types())
		})
	}
}
