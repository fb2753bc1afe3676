package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Activities are the activity implementations a worker registers. Their
// clients are injected once, in the worker's wiring.
type Activities struct {
	PIM    PIM
	Mailer Mailer
	// Links, when set, puts a personal approval link into each approver's
	// email; without it approvers are told to decide through the API.
	Links ApprovalLinks
}

// Activate assigns the role through PIM with Entra's own expiration set to
// the granted duration, so Entra removes it even if every worker is down.
func (a *Activities) Activate(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	if in.Duration <= 0 {
		return ActivateResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("activate %s: duration must be positive, got %s", in.RoleDefinitionID, in.Duration), ErrGraphRejected, nil)
	}
	res, err := a.PIM.Assign(ctx, in)
	if err != nil {
		return ActivateResult{}, withContext(err, "activate role %s at %s for %s", in.RoleDefinitionID, in.DirectoryScopeID, in.PrincipalID)
	}
	return res, nil
}

// Deactivate removes the role. Removing what is already gone counts as done.
func (a *Activities) Deactivate(ctx context.Context, in DeactivateInput) (DeactivateResult, error) {
	res, err := a.PIM.Remove(ctx, in)
	if err != nil {
		return DeactivateResult{}, withContext(err, "deactivate role %s at %s for %s", in.RoleDefinitionID, in.DirectoryScopeID, in.PrincipalID)
	}
	return res, nil
}

// SendEmail renders one notification and hands it to the mailer.
func (a *Activities) SendEmail(ctx context.Context, in EmailInput) (EmailResult, error) {
	if len(in.To) == 0 {
		return EmailResult{}, nil
	}
	msg, err := Render(in)
	if err != nil {
		return EmailResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "BadEmail", err)
	}
	if err := a.Mailer.Send(ctx, msg); err != nil {
		var perm *PermanentError
		if errors.As(err, &perm) {
			return EmailResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "MailRejected", err)
		}
		return EmailResult{}, fmt.Errorf("send %s email for %s: %w", in.Kind, in.Request.ID, err)
	}
	return EmailResult{To: msg.To, Subject: msg.Subject, SentAt: time.Now().UTC()}, nil
}

// withContext prefixes err with what was being done. An application error
// is returned as it is: Temporal reads its type and retryability only from
// the outermost error, so wrapping would turn a permanent refusal into one
// that is retried.
func withContext(err error, format string, args ...any) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// PermanentError is a mail failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
