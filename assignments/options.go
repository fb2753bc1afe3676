package assignments

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
)

// activateOptions bound activation (and extension) to ten minutes of
// retries: a request that cannot be activated by then fails visibly instead
// of starting a grant late.
// Graph's definite refusals are not retried at all. WaitForCancellation makes
// a cancelled workflow wait until the attempt really ended, so the cleanup
// removal cannot run before a late assignment lands.
func activateOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		WaitForCancellation:    true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{graph.ErrRejected},
		},
	}
}

// deactivateOptions retry without end: a role must never stay assigned
// because Graph was throttling or down for a while. Only an error the
// activity marks non-retryable stops the retries.
func deactivateOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    0, // unlimited
		},
	}
}

// removeOptions are deactivateOptions for the assignment workflow, which
// waits out Entra's minimum active time itself (ErrRemovalTooSoon) instead
// of leaving it to blind retries, and stops on Graph's outright refusal.
func removeOptions() workflow.ActivityOptions {
	o := deactivateOptions()
	o.RetryPolicy.NonRetryableErrorTypes = []string{activities.ErrRemovalTooSoon, graph.ErrRejected}
	return o
}

// removeLocalOptions: one attempt within the workflow task (see
// deactivateLocally). It may take a while when many grants end
// together; nothing else waits on this workflow's task meanwhile, and the
// activity it would fall back to queues behind the same burst.
func removeLocalOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	}
}

// activateLocalOptions are activateOptions for a local activity: the
// assignment workflow activates in the same workflow task that received the
// hold. Graph's refusals and a target held before jitflow are final.
func activateLocalOptions() workflow.LocalActivityOptions {
	o := activateOptions()
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    o.StartToCloseTimeout,
		ScheduleToCloseTimeout: o.ScheduleToCloseTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        o.RetryPolicy.InitialInterval,
			BackoffCoefficient:     o.RetryPolicy.BackoffCoefficient,
			MaximumInterval:        o.RetryPolicy.MaximumInterval,
			NonRetryableErrorTypes: []string{graph.ErrRejected, graph.ErrAssignmentHeld},
		},
	}
}

// checkOptions bound the eligibility check, a local activity that only
// reads.
func checkOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{graph.ErrRejected},
		},
	}
}

// notifyOptions: a few quick attempts to tell the requests. A request
// never told ends the grant itself, workflows.EndNoticeWait past its end.
func notifyOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumAttempts:    4,
		},
	}
}

// HoldFastWait is how long a hold waits as a local activity before the wait
// moves to an ordinary activity (see Hold).
const HoldFastWait = 3 * time.Second

// holdFastOptions: one attempt of at most HoldFastWait.
func holdFastOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: HoldFastWait,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	}
}

// holdSlowOptions wait as long as the assignment workflow's activation may
// take (activateOptions), and a little more, heartbeating meanwhile.
// WaitForCancellation: a cancelled request waits until the hold is
// answered, so its release cannot overtake it.
func holdSlowOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    12 * time.Minute,
		ScheduleToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:       30 * time.Second,
		WaitForCancellation:    true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			NonRetryableErrorTypes: []string{ErrInvalid},
		},
	}
}

// releaseOptions retry without end, like deactivateOptions: the release
// waits for the removal, which must happen however long Graph misbehaves.
// The activity heartbeats while it waits.
func releaseOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalid},
		},
	}
}
