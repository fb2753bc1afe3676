package devstack

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// TestRecordOperatorHistories records the paths operators start from the
// Temporal CLI or Web UI rather than the API: cancelling a pending or an
// active request's workflow, and terminating one. Their histories (i6-*)
// are replayed with the others and feed the audit timeline tests.
//
//	JITFLOW_RECORD_HISTORIES=1 go test -run TestRecordOperatorHistories ./internal/devstack/
func TestRecordOperatorHistories(t *testing.T) {
	if os.Getenv("JITFLOW_RECORD_HISTORIES") == "" {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 to record new histories")
	}
	st := startStack(t, t.TempDir(), fastPolicy(t))
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	ctx := context.Background()
	out := filepath.Join("..", "..", "workflows", "testdata", "histories")
	create := func() string {
		var req workflows.Request
		if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"1h","justification":"recorded history"}`, &req); status != http.StatusCreated {
			t.Fatalf("create: %d", status)
		}
		return req.ID
	}
	waitStatus := func(id string, want workflows.Status) {
		waitFor(t, 30*time.Second, string(want), func() bool {
			var req workflows.Request
			api.do("GET", "/api/v1/requests/"+id, api.token("dave"), "", &req)
			return req.Status == want
		})
	}
	waitClosed := func(id string) {
		waitFor(t, 30*time.Second, "workflow closed", func() bool {
			d, err := st.Client.DescribeWorkflowExecution(ctx, id, "")
			return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
		})
	}

	pending := create()
	if err := st.Client.CancelWorkflow(ctx, pending, ""); err != nil {
		t.Fatal(err)
	}
	waitStatus(pending, apitypes.StatusCanceled)
	waitClosed(pending)
	saveHistory(t, st, pending, filepath.Join(out, "i6-temporal_cancel_pending.json"))

	active := create()
	if status := api.do("POST", "/api/v1/requests/"+active+"/approve", api.token("bob"), `{"comment":"recorded"}`, nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	waitStatus(active, apitypes.StatusActive)
	if err := st.Client.CancelWorkflow(ctx, active, ""); err != nil {
		t.Fatal(err)
	}
	waitStatus(active, apitypes.StatusRevoked)
	waitClosed(active)
	saveHistory(t, st, active, filepath.Join(out, "i6-temporal_cancel_active.json"))

	terminated := create()
	if status := api.do("POST", "/api/v1/requests/"+terminated+"/approve", api.token("bob"), `{"comment":"recorded"}`, nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	waitStatus(terminated, apitypes.StatusActive)
	if err := st.Client.TerminateWorkflow(ctx, terminated, "", "recorded termination"); err != nil {
		t.Fatal(err)
	}
	waitClosed(terminated)
	saveHistory(t, st, terminated, filepath.Join(out, "i6-terminated_active.json"))
}
