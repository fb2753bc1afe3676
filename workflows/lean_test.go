package workflows_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/workflows"
)

// TestLeanHistoriesDoLessWork reads every history recorded from the
// current code and checks what lean requests (StartProofLean) and lean
// assignment runs save: one version marker per run, each search-attribute
// upsert carrying only values that changed, each memo upsert a new view,
// and the last memo the request's final view; and what inline ones save
// on top (checkInlineHistory).
func TestLeanHistoriesDoLessWork(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no histories: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			events := loadHistory(t, file).GetEvents()
			checkInlineHistory(t, events)
			switch events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName() {
			case workflows.WorkflowName:
				checkLeanRequest(t, events)
			default:
				if n := versionMarkers(events); n > 1 {
					t.Errorf("assignment run records %d version markers, want at most 1", n)
				}
			}
		})
	}
}

func checkLeanRequest(t *testing.T, events []*historypb.HistoryEvent) {
	t.Helper()
	if n := versionMarkers(events); n != 1 {
		t.Errorf("%d version markers, want 1 (start-proof)", n)
	}
	dc := converter.GetDefaultDataConverter()
	attrs := map[string]string{}
	for k, p := range events[0].GetWorkflowExecutionStartedEventAttributes().GetSearchAttributes().GetIndexedFields() {
		attrs[k] = string(p.GetData())
	}
	runID := events[0].GetWorkflowExecutionStartedEventAttributes().GetOriginalExecutionRunId()
	var lastMemo *commonpb.Payload
	memos := 0
	for _, e := range events {
		if u := e.GetUpsertWorkflowSearchAttributesEventAttributes(); u != nil {
			for k, p := range u.GetSearchAttributes().GetIndexedFields() {
				// Every status change upserts the status: operators count
				// each as a transition, the first one too.
				if k == "TemporalChangeVersion" || k == workflows.SearchStatus.GetName() {
					attrs[k] = string(p.GetData())
					continue
				}
				if attrs[k] == string(p.GetData()) {
					t.Errorf("event %d upserts %s with the value it already has: %s", e.GetEventId(), k, p.GetData())
				}
				attrs[k] = string(p.GetData())
			}
		}
		if m := e.GetWorkflowPropertiesModifiedEventAttributes(); m != nil {
			p := m.GetUpsertedMemo().GetFields()[workflows.MemoRequest]
			if p == nil {
				t.Fatalf("event %d modifies the memo without %q", e.GetEventId(), workflows.MemoRequest)
			}
			// The memo names the run that wrote it: listings trust no
			// other (see workflows.MemoRun).
			var run string
			if err := dc.FromPayload(m.GetUpsertedMemo().GetFields()[workflows.MemoRun], &run); err != nil || run != runID {
				t.Errorf("event %d: memo names run %q (%v), want this run %q", e.GetEventId(), run, err, runID)
			}
			if lastMemo != nil && string(lastMemo.GetData()) == string(p.GetData()) {
				t.Errorf("event %d upserts the memo's view unchanged", e.GetEventId())
			}
			lastMemo = p
			memos++
		}
	}
	if memos == 0 {
		t.Fatal("the request kept no view in its memo")
	}
	var last workflows.Request
	if err := dc.FromPayload(lastMemo, &last); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := json.Unmarshal([]byte(attrs[workflows.SearchStatus.GetName()]), &status); err != nil {
		t.Fatalf("status in visibility: %v", err)
	}
	if string(last.Status) != status {
		t.Errorf("last memo view has status %q, visibility %q", last.Status, status)
	}
	if events[len(events)-1].GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED && !last.Status.Terminal() {
		t.Errorf("the request completed with its memo view at %q", last.Status)
	}
}

func versionMarkers(events []*historypb.HistoryEvent) int {
	n := 0
	for _, e := range events {
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == "Version" {
			n++
		}
	}
	return n
}
