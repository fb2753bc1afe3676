package workflows_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/workflows"
)

// TestReplaySavedHistories replays the recorded history of every path
// (testdata/histories, recorded from the real server by
// internal/devstack's TestRecordHistories) with the current code. A change
// that would break requests already running fails here.
func TestReplaySavedHistories(t *testing.T) {
	var files []string
	err := filepath.WalkDir(filepath.Join("testdata", "histories"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d saved histories, want one per path (10)", len(files))
	}
	for _, file := range files {
		name, _ := filepath.Rel(filepath.Join("testdata", "histories"), file)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
			r.RegisterWorkflowWithOptions(workflows.Assignment, workflow.RegisterOptions{Name: workflows.AssignmentWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

// TestAuditFromSavedHistory reads the audit trail back from a history the
// real server wrote, as the API does.
func TestAuditFromSavedHistory(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "histories", "escalated_expired.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	events, err := workflows.AuditEvents(h.GetEvents(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		if ev.Type != workflows.EventNotified {
			got = append(got, ev.Type+" "+ev.Actor)
		}
	}
	want := []string{
		"requested alice@example.com",
		"escalated system",
		"approved carol@example.com",
		"activated system",
		"deactivated system",
		"expired system",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit without notifications:\n got %q\nwant %q", got, want)
	}
}
