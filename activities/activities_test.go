package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/graph"
)

// refusingPIM answers every call with one error.
type refusingPIM struct{ err error }

func (p refusingPIM) Assign(context.Context, graph.ActivateInput) (graph.ActivateResult, error) {
	return graph.ActivateResult{}, p.err
}
func (p refusingPIM) Remove(context.Context, graph.DeactivateInput) (graph.DeactivateResult, error) {
	return graph.DeactivateResult{}, p.err
}
func (p refusingPIM) Extend(context.Context, graph.ExtendInput) (graph.ExtendResult, error) {
	return graph.ExtendResult{}, p.err
}
func (p refusingPIM) Instances(context.Context, graph.Assignment) ([]graph.Instance, error) {
	return nil, p.err
}
func (p refusingPIM) Eligible(context.Context, graph.Assignment) (graph.EligibilityResult, error) {
	return graph.EligibilityResult{}, p.err
}

// Temporal reads retryability from the outermost error only: a refusal
// must reach it as a non-retryable application error, not wrapped.
func TestGraphRefusalStaysNonRetryable(t *testing.T) {
	refusal := temporal.NewNonRetryableApplicationError("graph assign: HTTP 400", graph.ErrRejected, nil)
	a := &Activities{PIM: refusingPIM{err: refusal}}
	in := graph.ActivateInput{Assignment: graph.Assignment{PrincipalID: "p", RoleDefinitionID: "r", DirectoryScopeID: "/"}, Duration: 1}
	_, err := a.Activate(context.Background(), in)
	var appErr *temporal.ApplicationError
	if err != refusal || !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Fatalf("activate: %v, want the non-retryable refusal itself", err)
	}
	_, err = a.Deactivate(context.Background(), graph.DeactivateInput{Assignment: in.Assignment})
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

// Entra's refusal to remove a young assignment is retried when Entra
// allows it, and says when in its details.
func TestRemovalTooSoonRetriesWhenAllowed(t *testing.T) {
	allowed := time.Now().Add(4 * time.Minute).UTC()
	a := &Activities{PIM: refusingPIM{err: &graph.RemovalTooSoonError{AllowedAt: allowed, Err: errors.New("ActiveDurationTooShort")}}}
	_, err := a.Deactivate(context.Background(), graph.DeactivateInput{Assignment: graph.Assignment{PrincipalID: "p", RoleDefinitionID: "r", DirectoryScopeID: "/"}})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != ErrRemovalTooSoon || app.NonRetryable() {
		t.Fatalf("deactivate: %v, want a retryable %s", err, ErrRemovalTooSoon)
	}
	if d := app.NextRetryDelay(); d < 3*time.Minute || d > 4*time.Minute {
		t.Errorf("next retry in %s, want about 4m (when Entra allows it)", d)
	}
	var details RemovalTooSoonDetails
	if err := app.Details(&details); err != nil || !details.AllowedAt.Equal(allowed) {
		t.Errorf("details %+v (%v), want allowed_at %s", details, err, allowed)
	}
}

// A throttled Graph call is retried after its Retry-After, not the retry
// policy's backoff.
func TestRetryAfterSetsNextRetry(t *testing.T) {
	throttled := &graph.Error{Op: "assign", Status: 429, Code: "TooManyRequests", Message: "slow down", RetryAfter: 7 * time.Second}
	a := &Activities{PIM: refusingPIM{err: throttled}}
	_, err := a.Activate(context.Background(), graph.ActivateInput{Assignment: graph.Assignment{PrincipalID: "p", RoleDefinitionID: "r", DirectoryScopeID: "/"}, Duration: time.Hour})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.NextRetryDelay() != 7*time.Second {
		t.Fatalf("activate: %v, want a retryable error retried after 7s", err)
	}
	if !errors.Is(err, throttled) {
		t.Errorf("activate: %v does not keep Graph's error as its cause", err)
	}
}
