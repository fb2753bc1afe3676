package telemetry

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/graph"
)

// TestSDKHandlerServesConsistentFamilies reports one SDK metric under two
// tag sets, as the SDK does, and checks /metrics serves it as one valid
// family with the union of the labels.
func TestSDKHandlerServesConsistentFamilies(t *testing.T) {
	m := New()
	h := m.SDKHandler()
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"namespace": "default", "task-queue": "jitflow"}).Counter("temporal_request").Inc(1)
	h.Gauge("temporal_num_pollers").Update(3)
	h.WithTags(map[string]string{"operation": "StartWorkflowExecution"}).Timer("temporal_request_latency").Record(30 * time.Millisecond)

	m.Refusals.WithLabelValues("POST", "/api/v1/requests/:id/approve", "403").Inc()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, text)
	}
	for _, want := range []string{
		`temporal_request_total{namespace="default",task_queue=""} 2`,
		`temporal_request_total{namespace="default",task_queue="jitflow"} 1`,
		`temporal_num_pollers 3`,
		`temporal_request_latency_seconds_bucket{operation="StartWorkflowExecution",le="0.05"} 1`,
		`temporal_request_latency_seconds_count{operation="StartWorkflowExecution"} 1`,
		`jitflow_refusals_total{method="POST",route="/api/v1/requests/:id/approve",status="403"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestGraphFailure(t *testing.T) {
	tests := []struct {
		name         string
		err          error
		status, code string
		ok           bool
	}{
		{"throttled", fmt.Errorf("activate: %w", &graph.Error{Op: "assign", Status: 429, Code: "TooManyRequests"}), "429", "TooManyRequests", true},
		{"no answer", &graph.Error{Op: "remove", Err: errors.New("connection reset")}, "none", "none", true},
		{"refused", temporal.NewNonRetryableApplicationError("graph assign: HTTP 400 RoleAssignmentRequestPolicyValidationFailed: no", graph.ErrRejected, nil), "400", "RoleAssignmentRequestPolicyValidationFailed", true},
		{"refused without code", temporal.NewNonRetryableApplicationError("graph remove: HTTP 403: denied", graph.ErrRejected, nil), "403", "none", true},
		{"rejected elsewhere", temporal.NewNonRetryableApplicationError("duration must be positive", graph.ErrRejected, nil), "none", "none", true},
		{"mail", temporal.NewNonRetryableApplicationError("bounced", "MailRejected", nil), "", "", false},
		{"plain", errors.New("boom"), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, ok := graphFailure(tt.err)
			if status != tt.status || code != tt.code || ok != tt.ok {
				t.Fatalf("graphFailure = %q %q %v, want %q %q %v", status, code, ok, tt.status, tt.code, tt.ok)
			}
		})
	}
}

func TestMailReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("relay down"), "retryable"},
		{temporal.NewNonRetryableApplicationError("bounced", "MailRejected", nil), "MailRejected"},
		{temporal.NewApplicationError("flaky", "Transient"), "retryable"},
	}
	for _, tt := range tests {
		if got := mailReason(tt.err); got != tt.want {
			t.Errorf("mailReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
