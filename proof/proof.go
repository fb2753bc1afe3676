// Package proof makes and checks the signed statements that let a workflow
// tell what a jitflow server (or worker) sent from what anyone else with
// access to Temporal sent: a request's start, every decision, cancel,
// revoke and extension, and a worker's hold on an assignment carry one.
//
// The server signs, for the caller it authenticated, what is done (kind),
// to which request, by whom (the actor's immutable object id), through
// which channel, a digest of the rest of the input, when, and a random
// nonce. The workflow verifies it in the update's validator and refuses
// anything else, so an update sent straight through Temporal leaves
// nothing in history.
//
// The Ed25519 keys are derived from jitflow's one key list (the approval
// link keys, approvals.KeySet) by HKDF under their own label; they share its
// key ids, so rotating that list rotates these keys: the first key signs,
// every key verifies.
package proof

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jitflow/jitflow/approvals"
)

// Kind is what a statement allows.
type Kind string

// The kinds of statements.
const (
	KindSubmit  Kind = "submit" // start of an access-request workflow
	KindDecide  Kind = "decide"
	KindCancel  Kind = "cancel"
	KindRevoke  Kind = "revoke"
	KindExtend  Kind = "extend"
	KindHold    Kind = "hold"    // a worker's hold on an assignment workflow
	KindRelease Kind = "release" // a worker giving a hold up
	KindNotice  Kind = "notice"  // an assignment workflow's word to a request (its removal progress)
)

// Channels: the door a caller came through, as the audit trail names it.
const (
	ChannelAPI       = "api"        // the HTTP API, with a bearer token
	ChannelEmailLink = "email-link" // an approval link from an email
	ChannelOperator  = "operator"   // the HTTP API, by a caller holding the operator role
	ChannelWorker    = "worker"     // a jitflow worker acting for a request
	ChannelPortal    = "portal"     // the web portal, in a signed-in browser session
)

// Statement is what a proof vouches for.
type Statement struct {
	Kind      Kind   `json:"kind"`
	RequestID string `json:"request_id"`
	// ActorID is the immutable object id of the person acting; empty for
	// a worker's hold.
	ActorID  string `json:"actor_id,omitempty"`
	Operator bool   `json:"operator,omitempty"`
	Channel  string `json:"channel"`
	LinkID   string `json:"link_id,omitempty"`
	// Via is the authenticated identity behind the action, as the server
	// saw it (token subject, principal name, issuer; or the approval link
	// and any sign-in).
	Via string `json:"via,omitempty"`
	// Digest is the SHA-256 (hex) of the input the proof travels in, with
	// the proof left out (see Digest): nothing else in it can be swapped.
	Digest   string    `json:"digest"`
	IssuedAt time.Time `json:"issued_at"`
	Nonce    string    `json:"nonce"`
}

// Proof is a signed Statement.
type Proof struct {
	Statement
	KeyID     string `json:"key_id"`
	Signature []byte `json:"signature"`
}

// purpose labels the derived Ed25519 seeds; it is also in every signed
// message, so no other signature of these keys can pass for a proof.
const purpose = "decision-proof"

// Keys sign and verify proofs.
type Keys struct {
	active string
	priv   ed25519.PrivateKey
	pub    map[string]ed25519.PublicKey
}

// FromKeySet derives the proof keys of a key list: the list's first key
// signs, all verify.
func FromKeySet(ks *approvals.KeySet) *Keys {
	k := &Keys{pub: map[string]ed25519.PublicKey{}}
	for i, d := range ks.Derive(purpose, ed25519.SeedSize) {
		priv := ed25519.NewKeyFromSeed(d.Secret)
		if i == 0 {
			k.active, k.priv = d.ID, priv
		}
		k.pub[d.ID] = priv.Public().(ed25519.PublicKey)
	}
	return k
}

// Digest is the SHA-256 (hex) of v's JSON encoding. v is an input with its
// proof field cleared; signer and verifier encode the same Go type, so
// they agree byte for byte.
func Digest(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("proof digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Sign completes st (digest of unsigned, issue time now, a fresh nonce)
// and signs it with the active key.
func (k *Keys) Sign(st Statement, unsigned any, now time.Time) (*Proof, error) {
	d, err := Digest(unsigned)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 16)
	rand.Read(nonce) // never fails (crypto/rand crashes the program instead)
	st.Digest = d
	st.IssuedAt = now.UTC().Round(0)
	st.Nonce = base64.RawURLEncoding.EncodeToString(nonce)
	msg, err := message(k.active, st)
	if err != nil {
		return nil, err
	}
	return &Proof{Statement: st, KeyID: k.active, Signature: ed25519.Sign(k.priv, msg)}, nil
}

// Errors of Verify. Callers tell people only that the proof was refused;
// these name which check failed, for logs and tests.
var (
	ErrMissing    = errors.New("no proof")
	ErrUnknownKey = errors.New("proof signed with an unknown key")
	ErrSignature  = errors.New("proof signature does not match")
	ErrMismatch   = errors.New("proof is for something else")
	ErrStale      = errors.New("proof issued too long ago or in the future")
)

// MaxAge bounds how far a proof's issue time may lie from the verifier's
// clock, either way: long enough for a slow call and clock skew between
// servers and Temporal, short enough that a captured proof soon stops
// working (a used one never works twice: the workflow keeps its nonces).
const MaxAge = 5 * time.Minute

// Verify checks p's signature and that it says exactly want (kind,
// request, actor, operator flag) about unsigned, issued within MaxAge of
// now. A nil Keys verifies nothing.
func (k *Keys) Verify(p *Proof, want Statement, unsigned any, now time.Time) error {
	if p == nil {
		return ErrMissing
	}
	if k == nil {
		return ErrUnknownKey
	}
	pub, ok := k.pub[p.KeyID]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownKey, p.KeyID)
	}
	msg, err := message(p.KeyID, p.Statement)
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, p.Signature) {
		return ErrSignature
	}
	st := p.Statement
	switch {
	case st.Kind != want.Kind:
		return fmt.Errorf("%w: a %s, not a %s", ErrMismatch, st.Kind, want.Kind)
	case st.RequestID != want.RequestID:
		return fmt.Errorf("%w: request %s", ErrMismatch, st.RequestID)
	case st.ActorID != want.ActorID:
		return fmt.Errorf("%w: another actor", ErrMismatch)
	case st.Operator != want.Operator:
		return fmt.Errorf("%w: operator flag differs", ErrMismatch)
	}
	d, err := Digest(unsigned)
	if err != nil {
		return err
	}
	if d != st.Digest {
		return fmt.Errorf("%w: the input was changed after signing", ErrMismatch)
	}
	if age := now.Sub(st.IssuedAt); age > MaxAge || age < -MaxAge {
		return fmt.Errorf("%w (issued %s, now %s)", ErrStale, st.IssuedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// message is what is signed: a label naming the purpose and key, then the
// statement's JSON.
func message(kid string, st Statement) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("proof statement: %w", err)
	}
	return append([]byte("jitflow/"+purpose+"/v1\x00"+kid+"\x00"), b...), nil
}
