package activities

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

func TestFailureText(t *testing.T) {
	graph := temporal.NewApplicationError("activate role x: 503 service unavailable", "")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"application error", graph, "activate role x: 503 service unavailable"},
		{"timeout after retries", temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, graph),
			"gave up after a ScheduleToClose timeout; last error: activate role x: 503 service unavailable"},
		{"timeout without cause", temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_START_TO_CLOSE, nil), "gave up after a StartToClose timeout"},
		{"plain error", errors.New("boom"), "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, FailureText(tc.err))
		})
	}
}
