package proof

import "time"

// Input is a workflow input that carries a proof: the start of an access
// request, each of its updates, a worker's hold on an assignment workflow.
type Input interface {
	// Carried is the proof the input carries, or nil.
	Carried() *Proof
	// Claim is what the proof must say about the input (kind, actor,
	// operator flag; the request id when the input names it), and the
	// input without its proof (what the digest covers).
	Claim() (Statement, any)
}

// SignInput signs in: st names the request, channel, link and identity;
// what the input itself decides comes from in.Claim.
func (k *Keys) SignInput(in Input, st Statement, now time.Time) (*Proof, error) {
	want, unsigned := in.Claim()
	st.Kind, st.ActorID, st.Operator = want.Kind, want.ActorID, want.Operator
	if want.RequestID != "" {
		st.RequestID = want.RequestID
	}
	return k.Sign(st, unsigned, now)
}

// VerifyInput checks that in carries a proof of k, for request requestID,
// saying what in asks (see Verify). The nonce is left to the workflow,
// which alone knows which ones it accepted.
func (k *Keys) VerifyInput(requestID string, in Input, now time.Time) error {
	want, unsigned := in.Claim()
	want.RequestID = requestID
	return k.Verify(in.Carried(), want, unsigned, now)
}
