package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
)

// Activities are the activity implementations a worker registers. Their
// clients are injected once, in the worker's wiring.
type Activities struct {
	PIM    graph.PIM
	Mailer Mailer
	// Links, when set, puts a personal approval link into each approver's
	// email; without it approvers are told to decide through the API.
	Links ApprovalLinks
	// Directory resolves the approvers the policy names through Entra
	// (groups, managers) when a stage starts; nil when no policy does.
	Directory policies.Directory
}

// RemovalAlertAttempts is the attempt of the Deactivate activity from which
// every failure is logged as an alert ("Deactivation keeps failing"): a role
// that jitflow cannot remove needs a person.
const RemovalAlertAttempts = 5

// Activate assigns the role through PIM with Entra's own expiration set to
// the granted duration, so Entra removes it even if every worker is down.
func (a *Activities) Activate(ctx context.Context, in graph.ActivateInput) (graph.ActivateResult, error) {
	if in.Duration <= 0 {
		return graph.ActivateResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("activate %s: duration must be positive, got %s", in.TargetString(), in.Duration), graph.ErrRejected, nil)
	}
	res, err := a.PIM.Assign(ctx, in)
	if err != nil {
		return graph.ActivateResult{}, withContext(err, "activate %s for %s", in.TargetString(), in.PrincipalID)
	}
	return res, nil
}

// Extend moves the end of an assignment jitflow made.
func (a *Activities) Extend(ctx context.Context, in graph.ExtendInput) (graph.ExtendResult, error) {
	if in.EndDateTime.IsZero() {
		return graph.ExtendResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("extend %s: end_date_time is required", in.TargetString()), graph.ErrRejected, nil)
	}
	res, err := a.PIM.Extend(ctx, in)
	if err != nil {
		return graph.ExtendResult{}, withContext(err, "extend %s for %s to %s", in.TargetString(), in.PrincipalID, in.EndDateTime.UTC().Format(time.RFC3339))
	}
	return res, nil
}

// Deactivate removes the role. Removing what is already gone counts as done.
// Entra's refusal to remove a young assignment comes back as ErrRemovalTooSoon
// with the next retry set to when removal is allowed.
func (a *Activities) Deactivate(ctx context.Context, in graph.DeactivateInput) (graph.DeactivateResult, error) {
	res, err := a.PIM.Remove(ctx, in)
	if err == nil {
		return res, nil
	}
	if attempt := activityAttempt(ctx); attempt >= RemovalAlertAttempts {
		activity.GetLogger(ctx).Error("Deactivation keeps failing", "attempt", attempt,
			"principal_id", in.PrincipalID, "target", in.TargetString(), "request_id", in.RequestID, "error", err)
	}
	var tooSoon *graph.RemovalTooSoonError
	if errors.As(err, &tooSoon) {
		return graph.DeactivateResult{}, removalTooSoon(in, tooSoon)
	}
	return graph.DeactivateResult{}, withContext(err, "deactivate %s for %s", in.TargetString(), in.PrincipalID)
}

// removalTooSoon is a retryable error whose next retry is when Entra allows
// the removal, instead of the retry policy's backoff.
func removalTooSoon(in graph.DeactivateInput, e *graph.RemovalTooSoonError) error {
	wait := max(time.Until(e.AllowedAt), time.Second)
	return temporal.NewApplicationErrorWithOptions(
		fmt.Sprintf("deactivate %s for %s: %s", in.TargetString(), in.PrincipalID, e.Error()),
		ErrRemovalTooSoon,
		temporal.ApplicationErrorOptions{NextRetryDelay: wait, Details: []any{RemovalTooSoonDetails{AllowedAt: e.AllowedAt.UTC()}}})
}

// CheckEligibility asks Entra whether the principal holds a PIM eligibility
// for the target.
func (a *Activities) CheckEligibility(ctx context.Context, in EligibilityInput) (graph.EligibilityResult, error) {
	res, err := a.PIM.Eligible(ctx, in.Assignment)
	if err != nil {
		return graph.EligibilityResult{}, withContext(err, "check %s's eligibility for %s", in.PrincipalID, in.TargetString())
	}
	return res, nil
}

// SendEmail renders one notification and hands it to the mailer. An email
// that asks for a decision goes to each approver separately when Links is
// set, each with a personal link and its own key; otherwise one message
// goes to everyone. Keys already sent by an earlier attempt (the attempt's
// heartbeat carries them across workers) are skipped, and the mailer skips
// keys it remembers itself.
func (a *Activities) SendEmail(ctx context.Context, in EmailInput) (EmailResult, error) {
	msgs, err := a.messages(ctx, in)
	if err != nil {
		return EmailResult{}, err
	}
	sent := sentSoFar(ctx)
	res := EmailResult{To: []string{}}
	for _, m := range msgs {
		if !slices.Contains(sent, m.Key) {
			if err := a.Mailer.Send(ctx, m); err != nil {
				return EmailResult{}, mailFailure(in, err)
			}
			sent = append(sent, m.Key)
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, sent)
			}
		}
		res.To = append(res.To, m.To...)
		res.Subject = m.Subject
	}
	res.SentAt = time.Now().UTC()
	return res, nil
}

// messages renders the email: one per approver with a personal link, or
// one for all.
func (a *Activities) messages(ctx context.Context, in EmailInput) ([]Message, error) {
	bad := func(err error) error { return temporal.NewNonRetryableApplicationError(err.Error(), ErrBadEmail, err) }
	if !AsksDecision(in.Kind) || a.Links == nil {
		msg, err := Render(in)
		if err != nil {
			return nil, bad(err)
		}
		if len(msg.To) == 0 {
			return nil, nil
		}
		return []Message{msg}, nil
	}
	var out []Message
	for _, rc := range in.To {
		if rc.Email == "" || rc.ID == "" || rc.ID == in.Request.RequesterID {
			continue // nobody is asked to approve their own request
		}
		link, err := a.Links.Link(ctx, LinkInput{
			RequestID: in.Request.ID, Stage: in.Request.Stage, Extension: in.Request.Extension, ApproverID: rc.ID, Expires: in.LinkExpires,
		})
		if err != nil {
			return nil, fmt.Errorf("approval link for %s on request %s: %w", rc.ID, in.Request.ID, err)
		}
		msg, err := RenderFor(in, rc, link)
		if err != nil {
			return nil, bad(err)
		}
		out = append(out, msg)
	}
	return out, nil
}

// sentSoFar reads the keys an earlier attempt of this activity sent.
func sentSoFar(ctx context.Context) []string {
	var keys []string
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &keys); err != nil {
			return nil
		}
	}
	return keys
}

// mailFailure makes a mailer error something Temporal acts on: permanent
// failures are not retried, a rate limit delays the next attempt until the
// limit resets, anything else is retried by the activity's policy.
func mailFailure(in EmailInput, err error) error {
	msg := fmt.Sprintf("send %s email for %s: %v", in.Kind, in.Request.ID, err)
	var perm *PermanentError
	if errors.As(err, &perm) {
		return temporal.NewNonRetryableApplicationError(msg, ErrMailRejected, err)
	}
	var sg *SendGridError
	if errors.As(err, &sg) && sg.RateLimited() {
		return temporal.NewApplicationErrorWithOptions(msg, ErrMailRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: sg.Wait, Cause: err})
	}
	return fmt.Errorf("send %s email for %s: %w", in.Kind, in.Request.ID, err)
}

// withContext prefixes err with what was being done. An application error
// is returned as it is: Temporal reads its type and retryability only from
// the outermost error, so wrapping would turn a permanent refusal into one
// that is retried. A Graph error with Retry-After becomes a retryable
// application error whose next retry honours it.
func withContext(err error, format string, args ...any) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	wrapped := fmt.Errorf(format+": %w", append(args, err)...)
	var ge *graph.Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return temporal.NewApplicationErrorWithOptions(wrapped.Error(), "GraphThrottled",
			temporal.ApplicationErrorOptions{NextRetryDelay: ge.RetryAfter, Cause: err})
	}
	return wrapped
}

// activityAttempt is the current attempt, or 0 outside an activity (tests
// calling the methods directly).
func activityAttempt(ctx context.Context) int32 {
	if !activity.IsActivity(ctx) {
		return 0
	}
	return activity.GetInfo(ctx).Attempt
}

// PermanentError is a mail failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }
