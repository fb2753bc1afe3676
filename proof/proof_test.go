package proof_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/proof"
)

type input struct {
	ApproverID string       `json:"approver_id"`
	Comment    string       `json:"comment"`
	Proof      *proof.Proof `json:"proof,omitempty"`
}

func keys(t *testing.T, ks ...approvals.Key) *proof.Keys {
	t.Helper()
	set, err := approvals.NewKeySet(ks...)
	if err != nil {
		t.Fatal(err)
	}
	return proof.FromKeySet(set)
}

func TestSignVerify(t *testing.T) {
	oldKey, newKey := approvals.GenerateKey(), approvals.GenerateKey()
	old := keys(t, oldKey)
	rotated := keys(t, newKey, oldKey)
	now := time.Date(2036, 1, 2, 3, 4, 5, 6, time.UTC)
	in := input{ApproverID: "oid-bob", Comment: "ok"}
	want := proof.Statement{Kind: proof.KindDecide, RequestID: "req-1", ActorID: "oid-bob"}
	st := want
	st.Channel = proof.ChannelAPI
	p, err := old.Sign(st, in, now)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as Temporal carries it.
	in.Proof = p
	b, _ := json.Marshal(in)
	var got input
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	unsigned := got
	unsigned.Proof = nil
	if err := rotated.Verify(got.Proof, want, unsigned, now.Add(time.Minute)); err != nil {
		t.Fatalf("a proof of a rotated-out key still verifies while it is listed: %v", err)
	}
	swapped := unsigned
	swapped.Comment = "changed"
	otherReq := want
	otherReq.RequestID = "req-2"
	otherActor := want
	otherActor.ActorID = "oid-mallory"
	asOperator := want
	asOperator.Operator = true
	otherKind := want
	otherKind.Kind = proof.KindRevoke
	tampered := *got.Proof
	tampered.Via = "someone else"
	cases := []struct {
		name  string
		keys  *proof.Keys
		p     *proof.Proof
		want  proof.Statement
		in    any
		now   time.Time
		error error
	}{
		{"missing", old, nil, want, unsigned, now, proof.ErrMissing},
		{"unknown key", keys(t, newKey), got.Proof, want, unsigned, now, proof.ErrUnknownKey},
		{"no keys", nil, got.Proof, want, unsigned, now, proof.ErrUnknownKey},
		{"tampered statement", old, &tampered, want, unsigned, now, proof.ErrSignature},
		{"swapped comment", old, got.Proof, want, swapped, now, proof.ErrMismatch},
		{"other request", old, got.Proof, otherReq, unsigned, now, proof.ErrMismatch},
		{"other actor", old, got.Proof, otherActor, unsigned, now, proof.ErrMismatch},
		{"operator flag", old, got.Proof, asOperator, unsigned, now, proof.ErrMismatch},
		{"other kind", old, got.Proof, otherKind, unsigned, now, proof.ErrMismatch},
		{"stale", old, got.Proof, want, unsigned, now.Add(proof.MaxAge + time.Second), proof.ErrStale},
		{"future", old, got.Proof, want, unsigned, now.Add(-proof.MaxAge - time.Second), proof.ErrStale},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.keys.Verify(c.p, c.want, c.in, c.now); !errors.Is(err, c.error) {
				t.Fatalf("Verify = %v, want %v", err, c.error)
			}
		})
	}
}

// The derived keys are the link keys' own per key id: a second process
// with the same list verifies what the first signed.
func TestSameListSameKeys(t *testing.T) {
	k := approvals.GenerateKey()
	now := time.Now()
	st := proof.Statement{Kind: proof.KindCancel, RequestID: "r", ActorID: "a"}
	p, err := keys(t, k).Sign(st, struct{}{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys(t, k).Verify(p, st, struct{}{}, now); err != nil {
		t.Fatal(err)
	}
	if err := keys(t, approvals.GenerateKey()).Verify(p, st, struct{}{}, now); err == nil {
		t.Fatal("another list verified the proof")
	}
}
