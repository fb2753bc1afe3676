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
