package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
)

// acts names the activity methods; the worker registers a real
// *activities.Activities under the same names.
var acts *activities.Activities

// emailOptions keep a failing mailer from holding a request open for long:
// five attempts, then the failure is recorded and the request moves on.
func emailOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    5,
		},
	}
}

// emailRetryOptions are emailOptions for the activity that takes over an
// email the local activity failed: that was the first of the five attempts.
func emailRetryOptions() workflow.ActivityOptions {
	o := emailOptions()
	o.RetryPolicy.MaximumAttempts--
	return o
}

// activitySendEmail is the name activities.Activities.SendEmail is
// registered under, by which a local activity calls it.
const activitySendEmail = "SendEmail"

// emailLocalOptions: one attempt within the workflow task (see
// startEmail); the activity retries what it fails.
func emailLocalOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	}
}
