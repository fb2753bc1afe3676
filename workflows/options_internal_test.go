package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TestActivityOptions pins the timeouts and retry policies: the test
// environment cannot show some of them (it caps unlimited retries at ten).
func TestActivityOptions(t *testing.T) {
	tests := []struct {
		name string
		got  workflow.ActivityOptions
		want workflow.ActivityOptions
	}{
		{"email", emailOptions(), workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}
