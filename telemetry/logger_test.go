package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/telemetry"
	"github.com/jitflow/jitflow/workflows"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestActivityLogsNameTheRequest: a line an activity of a request logs
// carries the request id.
func TestActivityLogsNameTheRequest(t *testing.T) {
	var buf lockedBuffer
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "req-logged"})
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{telemetry.New().WorkerInterceptor()}})
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		activity.GetLogger(ctx).Info("talking to Graph")
		return nil
	}, activity.RegisterOptions{Name: "Talk"})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "Talk").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: workflows.WorkflowName})
	env.ExecuteWorkflow(workflows.WorkflowName)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	buf.mu.Lock()
	defer buf.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSpace(buf.b.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "talking to Graph" {
			continue
		}
		if rec[telemetry.LogKeyRequest] != "req-logged" {
			t.Fatalf("activity line %s lacks %s=req-logged", line, telemetry.LogKeyRequest)
		}
		return
	}
	t.Fatalf("no activity line in:\n%s", buf.b.String())
}
