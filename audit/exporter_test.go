package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/internal/historytest"
)

// fakeSource serves histories the way Temporal would: each request with
// the part of its history written so far.
type fakeSource struct {
	execs   []audit.Execution
	history map[string][]*historypb.HistoryEvent
	queries []string
}

func (f *fakeSource) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, req.GetQuery())
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for _, x := range f.execs {
		info := &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: x.ID, RunId: x.RunID},
			Status:    enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		}
		if !x.Running {
			info.Status = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
			info.CloseTime = timestamppb.New(x.CloseTime)
		}
		resp.Executions = append(resp.Executions, info)
	}
	return resp, nil
}

func (f *fakeSource) GetWorkflowHistory(_ context.Context, id, _ string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return historytest.Iterator(f.history[id])
}

// memorySink keeps what it was sent; fail makes the next write fail.
type memorySink struct {
	lines []audit.Record
	fail  error
}

func (m *memorySink) Write(_ context.Context, jsonl []byte) error {
	if m.fail != nil {
		err := m.fail
		m.fail = nil
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return err
		}
		m.lines = append(m.lines, r)
	}
	return sc.Err()
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestExporterSendsEachEventOnce runs the export three times over a request
// that is still running, then finishes, beside one that closed: every
// event reaches the sink once, a failed write loses nothing, and requests
// that closed long ago leave the checkpoint.
func TestExporterSendsEachEventOnce(t *testing.T) {
	running := loadHistory(t, "revoked.json")
	closed := loadHistory(t, "denied.json")
	runningTrail, _ := audit.Read(running, nil)
	closedTrail, _ := audit.Read(closed, nil)
	runID, closedID := runningTrail.Request.ID, closedTrail.Request.ID
	half := len(running) / 2

	clk := &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	src := &fakeSource{
		execs: []audit.Execution{
			{ID: runID, RunID: "r1", Running: true},
			{ID: closedID, RunID: "r2", CloseTime: clk.t.Add(-time.Minute)},
		},
		history: map[string][]*historypb.HistoryEvent{runID: running[:half], closedID: closed},
	}
	sink := &memorySink{}
	exp := &audit.Exporter{Source: src, Sink: sink, Now: clk.now}
	ctx := context.Background()

	cp, err := exp.ExportAuditBatch(ctx, audit.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	if !cp.Since.Equal(clk.t) || cp.Positions[runID] == 0 || cp.Positions[closedID] == 0 {
		t.Fatalf("first checkpoint = %+v", cp)
	}

	// The request finishes; the first try to deliver its rest fails.
	clk.t = clk.t.Add(5 * time.Minute)
	src.history[runID] = running
	sink.fail = errors.New("SIEM down")
	if _, err := exp.ExportAuditBatch(ctx, cp); err == nil {
		t.Fatal("a failed sink write must fail the batch")
	}
	cp, err = exp.ExportAuditBatch(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	if want := audit.ChangedQuery(clk.t.Add(-5*time.Minute).Add(-5*time.Minute), time.Time{}); src.queries[len(src.queries)-1] != want {
		t.Errorf("query = %q, want %q", src.queries[len(src.queries)-1], want)
	}

	// Much later the closed request has left the look-back window.
	clk.t = clk.t.Add(time.Hour)
	src.execs = src.execs[:1]
	src.execs[0].Running, src.execs[0].CloseTime = false, clk.t.Add(-30*time.Minute)
	cp, err = exp.ExportAuditBatch(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Positions) != 0 {
		t.Errorf("positions kept for requests closed long ago: %v", cp.Positions)
	}

	want := len(runningTrail.Events) + len(closedTrail.Events)
	seen := map[string]bool{}
	for _, r := range sink.lines {
		if seen[r.Event.ID] {
			t.Errorf("event %s exported twice", r.Event.ID)
		}
		seen[r.Event.ID] = true
		if r.Schema != audit.Schema || r.Request.ID == "" || r.Role == "" || r.RequesterID == "" || r.Type == "" {
			t.Errorf("record lacks its request or event: %+v", r)
		}
	}
	if len(sink.lines) != want {
		t.Errorf("exported %d events, want %d", len(sink.lines), want)
	}
}

func TestExportWorkflowCarriesTheCheckpoint(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	prev := audit.Checkpoint{Since: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), Positions: map[string]int64{"req-a": 12}}
	next := audit.Checkpoint{Since: prev.Since.Add(time.Minute), Positions: map[string]int64{"req-a": 40}}
	env.SetLastCompletionResult(prev)
	var got audit.Checkpoint
	exp := &audit.Exporter{}
	audit.RegisterExporter(env, exp)
	env.OnActivity(audit.ExportActivityName, mock.Anything, mock.Anything).Return(func(_ context.Context, cp audit.Checkpoint) (audit.Checkpoint, error) {
		got = cp
		return next, nil
	})
	env.ExecuteWorkflow(audit.ExportWorkflowName)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res audit.Checkpoint
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if !got.Since.Equal(prev.Since) || got.Positions["req-a"] != 12 || res.Positions["req-a"] != 40 {
		t.Fatalf("activity got %+v, workflow returned %+v", got, res)
	}
}

func TestFileSinkAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenSink(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"{\"a\":1}\n", "{\"b\":2}\n"} {
		if err := sink.Write(context.Background(), []byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "{\"a\":1}\n{\"b\":2}\n" {
		t.Fatalf("file = %q, %v", data, err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
}

func TestHTTPSink(t *testing.T) {
	var got []byte
	var header http.Header
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		header = r.Header
		w.WriteHeader(status)
		io.WriteString(w, "nope")
	}))
	defer srv.Close()
	sink, err := audit.OpenSink(srv.URL+"/ingest", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(context.Background(), []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if string(got) != "{}\n" || header.Get("Content-Type") != "application/x-ndjson" || header.Get("Authorization") != "Bearer s3cret" {
		t.Errorf("sent %q with %v", got, header)
	}
	status = http.StatusServiceUnavailable
	if err := sink.Write(context.Background(), []byte("{}\n")); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("503 answer: err = %v", err)
	}
	if _, err := audit.OpenSink("http://", ""); err == nil {
		t.Error("a URL without host was accepted")
	}
}
