package workflows_test

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/internal/historytest"
	"github.com/jitflow/jitflow/workflows"
)

// drained holds the histories of requests that assigned and removed the
// role themselves, before the assignment workflow. That path is gone, and
// they no longer replay (changeAssignmentWorkflow is pinned): such requests
// are drained before workers are upgraded (docs/workflow-changes.md). They
// stay for the audit trail, which is read from closed requests' histories.
var drained = filepath.Join("testdata", "histories", "drained")

// savedHistories lists the history files under dir, sub folders included.
func savedHistories(t *testing.T, dir string, skip string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && path == skip {
			return filepath.SkipDir
		}
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestReplaySavedHistories replays the recorded history of every path
// (testdata/histories, recorded from the real server by
// internal/devstack's TestRecordHistories) with the current code. A change
// that would break requests already running fails here. The drained
// histories are left out (see drained).
func TestReplaySavedHistories(t *testing.T) {
	files := savedHistories(t, filepath.Join("testdata", "histories"), drained)
	if len(files) < 10 {
		t.Fatalf("found %d saved histories, want one per path (10)", len(files))
	}
	for _, file := range files {
		name, _ := filepath.Rel(filepath.Join("testdata", "histories"), file)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
			r.RegisterWorkflowWithOptions(assignments.Workflow(nil), workflow.RegisterOptions{Name: assignments.WorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

// TestDrainedHistoriesDoNotReplay: the drained histories took the removed
// path, so the current code refuses them; were one to replay, it would
// belong with the others.
func TestDrainedHistoriesDoNotReplay(t *testing.T) {
	for _, file := range savedHistories(t, drained, "") {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err == nil {
			t.Errorf("%s replays with the current code; move it out of %s", file, drained)
		}
	}
}

// TestAuditOfDrainedHistories: the audit trails of requests that held the
// role themselves still read from their histories: requested, and the
// activation or its failure.
func TestAuditOfDrainedHistories(t *testing.T) {
	files := savedHistories(t, drained, "")
	if len(files) == 0 {
		t.Fatal("no drained histories")
	}
	for _, file := range files {
		name, _ := filepath.Rel(drained, file)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			events, err := workflows.AuditEvents(loadHistory(t, file).GetEvents(), nil)
			if err != nil {
				t.Fatal(err)
			}
			types := make([]string, len(events))
			for i, ev := range events {
				types[i] = ev.Type
			}
			// The first recordings stamp requested and the first approval
			// alike, so requested need not come first.
			if !slices.Contains(types, api.EventRequested) {
				t.Fatalf("audit trail %q has no %s", types, api.EventRequested)
			}
			if !slices.Contains(types, api.EventActivated) && !slices.Contains(types, api.EventFailed) {
				t.Fatalf("audit trail %q has neither %s nor %s", types, api.EventActivated, api.EventFailed)
			}
		})
	}
}

func loadHistory(t *testing.T, file string) *historypb.History {
	t.Helper()
	return historytest.Load(t, file)
}

// TestAuditFromSavedHistory reads the audit trail back from histories the
// real server wrote, as the API does: one whose side effects hold bare
// events (drained) and one that holds audit records.
func TestAuditFromSavedHistory(t *testing.T) {
	for _, file := range []string{
		filepath.Join(drained, "escalated_expired.json"),
		filepath.Join("testdata", "histories", "escalated_expired.json"),
	} {
		t.Run(file, func(t *testing.T) {
			h := loadHistory(t, file)
			events, err := workflows.AuditEvents(h.GetEvents(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ev := range events {
				if ev.Type != api.EventNotified {
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
		})
	}
}
