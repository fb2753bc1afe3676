package assignments

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/graph"
)

// TestActivityOptions pins the timeouts and retry policies: the test
// environment cannot show some of them (it caps unlimited retries at ten).
func TestActivityOptions(t *testing.T) {
	tests := []struct {
		name string
		got  workflow.ActivityOptions
		want workflow.ActivityOptions
	}{
		{"activate", activateOptions(), workflow.ActivityOptions{
			StartToCloseTimeout:    30 * time.Second,
			ScheduleToCloseTimeout: 10 * time.Minute,
			WaitForCancellation:    true,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
				NonRetryableErrorTypes: []string{graph.ErrRejected},
			},
		}},
		{"deactivate retries without limit or deadline", deactivateOptions(), workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}
