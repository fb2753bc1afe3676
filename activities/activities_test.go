package activities

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
)

// refusingPIM answers every call with one error.
type refusingPIM struct{ err error }

func (p refusingPIM) Assign(context.Context, ActivateInput) (ActivateResult, error) {
	return ActivateResult{}, p.err
}
func (p refusingPIM) Remove(context.Context, DeactivateInput) (DeactivateResult, error) {
	return DeactivateResult{}, p.err
}
func (p refusingPIM) Extend(context.Context, ExtendInput) (ExtendResult, error) {
	return ExtendResult{}, p.err
}
func (p refusingPIM) Instances(context.Context, Assignment) ([]Instance, error) { return nil, p.err }
func (p refusingPIM) Eligible(context.Context, Assignment) (EligibilityResult, error) {
	return EligibilityResult{}, p.err
}

// Temporal reads retryability from the outermost error only: a refusal
// must reach it as a non-retryable application error, not wrapped.
func TestGraphRefusalStaysNonRetryable(t *testing.T) {
	refusal := temporal.NewNonRetryableApplicationError("graph assign: HTTP 400", ErrGraphRejected, nil)
	a := &Activities{PIM: refusingPIM{err: refusal}}
	in := ActivateInput{Assignment: Assignment{PrincipalID: "p", RoleDefinitionID: "r", DirectoryScopeID: "/"}, Duration: 1}
	_, err := a.Activate(context.Background(), in)
	var appErr *temporal.ApplicationError
	if err != refusal || !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("activate: %v, want the non-retryable refusal itself", err)
	}
	_, err = a.Deactivate(context.Background(), DeactivateInput{Assignment: in.Assignment})
	if err != refusal {
		t.Fatalf("deactivate: %v, want the non-retryable refusal itself", err)
	}
	transient := errors.New("HTTP 503")
	a.PIM = refusingPIM{err: transient}
	_, err = a.Activate(context.Background(), in)
	if !errors.Is(err, transient) || err.Error() == transient.Error() {
		t.Fatalf("activate: %v, want the transient error with context", err)
	}
}
