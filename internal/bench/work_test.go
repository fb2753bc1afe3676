package bench

import (
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jitflow/jitflow/internal/historytest"
)

// recorded reads a history recorded from a jitflow worker.
func recorded(t *testing.T, name string) []*historypb.HistoryEvent {
	t.Helper()
	return historytest.Load(t, "../../workflows/testdata/histories/"+name).GetEvents()
}

// countsOf is w without the lifecycles and store writes, to compare.
func countsOf(w Work) Work {
	return Work{WorkflowTasks: w.WorkflowTasks, Activities: w.Activities, LocalActivities: w.LocalActivities,
		HistoryEvents: w.HistoryEvents, VisibilityWrites: w.VisibilityWrites}
}

// An expired request's history, counted event by event: its six workflow
// tasks, four activities, the one local activity among its fifteen
// markers (the others are versions and side effects), and the visibility
// record written at the start, at each of eight upserts and at the close.
func TestWorkCountsRecordedHistory(t *testing.T) {
	var w Work
	w.add(recorded(t, "v2/expired.json"), time.Time{})
	want := Work{WorkflowTasks: 6, Activities: 4, LocalActivities: 1, HistoryEvents: 60, VisibilityWrites: 10}
	if got := countsOf(w); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

// Counting from a moment leaves out what came before it: an assignment
// workflow that served earlier requests counts only the phase's share.
func TestWorkCountsFromAMoment(t *testing.T) {
	events := recorded(t, "v2/expired.json")
	since := events[len(events)-3].GetEventTime().AsTime()
	var want Work
	for _, e := range events {
		if !e.GetEventTime().AsTime().Before(since) {
			want.add([]*historypb.HistoryEvent{e}, time.Time{})
		}
	}
	var w Work
	w.add(events, since)
	if got := countsOf(w); got != want || got.HistoryEvents == 0 || got.HistoryEvents >= int64(len(events)) {
		t.Errorf("counts from %s: %+v, want %+v (some events, not all %d)", since, got, want, len(events))
	}
}

// builtHistory is a history of the given event types, a millisecond apart.
func builtHistory(types ...enumspb.EventType) []*historypb.HistoryEvent {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	events := make([]*historypb.HistoryEvent, len(types))
	for i, et := range types {
		events[i] = &historypb.HistoryEvent{EventId: int64(i + 1), EventType: et, EventTime: timestamppb.New(t0.Add(time.Duration(i) * time.Millisecond))}
	}
	return events
}

// workflowTask is a workflow task's three events.
var workflowTask = []enumspb.EventType{
	enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}

func seq(parts ...[]enumspb.EventType) []enumspb.EventType {
	var out []enumspb.EventType
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(t enumspb.EventType) []enumspb.EventType { return []enumspb.EventType{t} }

// The baseline's shape: started, a task, the approve update accepted with
// the first activity, its completion, the timer, the second activity and
// the close. Two visibility writes only: its start and its close.
func TestWorkCountsBaselineShape(t *testing.T) {
	activity := seq(one(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), one(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), one(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED))
	events := builtHistory(seq(
		one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), workflowTask,
		workflowTask, one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), activity,
		workflowTask, one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED), one(enumspb.EVENT_TYPE_TIMER_STARTED),
		one(enumspb.EVENT_TYPE_TIMER_FIRED), workflowTask, activity,
		workflowTask, one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
	)...)
	var w Work
	w.add(events, time.Time{})
	want := Work{WorkflowTasks: 5, Activities: 2, HistoryEvents: int64(len(events)), VisibilityWrites: 2}
	if got := countsOf(w); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

// Memo changes, continue-as-new and every kind of close write the
// visibility record; markers other than local activities are no activity.
func TestWorkCountsVisibilityWritesAndMarkers(t *testing.T) {
	events := builtHistory(seq(
		one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), workflowTask,
		one(enumspb.EVENT_TYPE_MARKER_RECORDED), one(enumspb.EVENT_TYPE_MARKER_RECORDED),
		one(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES), one(enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED),
		one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW),
	)...)
	events[4].Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: localActivityMarker}}
	events[5].Attributes = &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: "Version"}}
	var w Work
	w.add(events, time.Time{})
	want := Work{WorkflowTasks: 1, LocalActivities: 1, HistoryEvents: 9, VisibilityWrites: 4}
	if got := countsOf(w); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	for _, end := range []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
	} {
		var c Work
		c.add(builtHistory(end), time.Time{})
		if c.VisibilityWrites != 1 {
			t.Errorf("%s: %d visibility writes, want 1", end, c.VisibilityWrites)
		}
	}
}

func TestWorkPerLifecycle(t *testing.T) {
	w := Work{Lifecycles: 4, WorkflowTasks: 18}
	if got := w.PerLifecycle(w.WorkflowTasks); got != 4.5 {
		t.Errorf("18 tasks over 4 lifecycles = %v, want 4.5", got)
	}
	if got := (&Work{}).PerLifecycle(3); got != 0 {
		t.Errorf("no lifecycles gives %v, want 0", got)
	}
}

// Only write operations count, and only what happened between the two
// snapshots; an operation first seen in the later one counts in full.
func TestWritesBetween(t *testing.T) {
	before := StoreCounts{
		Main:       map[string]int64{"UpdateWorkflowExecution": 10, "GetWorkflowExecution": 50, "AppendHistoryNodes": 4},
		Visibility: map[string]int64{"UpsertWorkflowExecution": 2, "ListWorkflowExecutions": 7},
	}
	after := StoreCounts{
		Main: map[string]int64{"UpdateWorkflowExecution": 25, "GetWorkflowExecution": 90, "AppendHistoryNodes": 9,
			"CreateWorkflowExecution": 3, "RangeCompleteTransferTasks": 2, "CompleteTimerTask": 1, "GetOrCreateShard": 1, "AssertShardOwnership": 4},
		Visibility: map[string]int64{"UpsertWorkflowExecution": 6, "ListWorkflowExecutions": 20, "RecordWorkflowExecutionStarted": 3, "RecordWorkflowExecutionClosed": 3},
	}
	got := writesBetween(before, after)
	if want := (StoreWrites{Main: 15 + 5 + 3 + 2 + 1, Visibility: 4 + 3 + 3}); got != want {
		t.Errorf("writes %+v, want %+v", got, want)
	}
}

func TestIsWrite(t *testing.T) {
	for op, want := range map[string]bool{
		"CreateWorkflowExecution": true, "UpdateWorkflowExecution": true, "ConflictResolveWorkflowExecution": true,
		"AppendHistoryNodes": true, "DeleteHistoryBranch": true, "CompleteTask": true, "CompleteTasksLessThan": true,
		"RangeDeleteReplicationTaskFromDLQ": true, "PutReplicationTaskToDLQ": true, "SetWorkflowExecution": true,
		"UpsertClusterMembership": true, "AddTasks": true, "RecordWorkflowExecutionClosed": true, "EnqueueMessage": true,
		"GetWorkflowExecution": false, "GetOrCreateShard": false, "ListTaskQueue": false, "ReadHistoryBranch": false,
		"ScanWorkflowExecutions": false, "CountWorkflowExecutions": false, "AssertShardOwnership": false, "": false,
	} {
		if got := isWrite(op); got != want {
			t.Errorf("isWrite(%q) = %v, want %v", op, got, want)
		}
	}
}
