package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/internal/historytest"
)

// savedSource serves one saved history as a closed request.
type savedSource struct {
	events []*historypb.HistoryEvent
	query  string
}

func (s *savedSource) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	s.query = req.GetQuery()
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: []*workflowpb.WorkflowExecutionInfo{{
		Execution: &commonpb.WorkflowExecution{WorkflowId: "req-saved", RunId: "run"},
		Status:    enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		CloseTime: timestamppb.Now(),
	}}}, nil
}

func (s *savedSource) GetWorkflowHistory(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return historytest.Iterator(s.events)
}

// TestExportTrailsWindow: the export writes the events inside the window,
// one JSON line each, with the request on every line.
func TestExportTrailsWindow(t *testing.T) {
	h := historytest.Load(t, filepath.Join("..", "..", "workflows", "testdata", "histories", "drained", "revoked.json"))
	trail, err := audit.Read(h.GetEvents(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// From the approval to just before the revoke.
	var from, to time.Time
	for _, ev := range trail.Events {
		switch ev.Type {
		case "approved":
			from = ev.Time
		case "revoked":
			to = ev.Time
		}
	}
	src := &savedSource{events: h.GetEvents()}
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	var out bytes.Buffer
	requests, events, err := exportTrails(cmd, src, &out, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src.query, "CloseTime >= '"+from.UTC().Format(time.RFC3339Nano)+"'") || !strings.Contains(src.query, "StartTime < ") {
		t.Errorf("visibility query %q", src.query)
	}
	var types []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Time.Before(from) || !r.Time.Before(to) || r.Request.ID != trail.Request.ID || r.Schema != audit.Schema {
			t.Errorf("line outside the window or without its request: %+v", r)
		}
		types = append(types, r.Type)
	}
	if requests != 1 || events != len(types) || types[0] != "approved" || strings.Contains(strings.Join(types, " "), "revoked") {
		t.Errorf("exported %d requests, %d events: %v", requests, events, types)
	}
}

func TestProbe(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	run := func(args ...string) error {
		cmd := probeCommand()
		cmd.SetArgs(args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		return cmd.Execute()
	}
	if err := run(srv.URL + "/healthz"); err != nil {
		t.Errorf("healthy: %v", err)
	}
	status = http.StatusServiceUnavailable
	if err := run(srv.URL + "/healthz"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503: err = %v", err)
	}
	if err := run("127.0.0.1:8080/healthz"); err == nil || !strings.Contains(err.Error(), "http(s) URL") {
		t.Errorf("no scheme: err = %v", err)
	}
}
