package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	assignmentwf "github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
)

// Work is the Temporal work a phase's lifecycles did, summed over them,
// read from their histories and from the server's store requests.
type Work struct {
	Lifecycles int
	// WorkflowTasks are the completed workflow tasks.
	WorkflowTasks int64
	// Activities are the scheduled (remote) activities, LocalActivities
	// the recorded local-activity markers.
	Activities      int64
	LocalActivities int64
	HistoryEvents   int64
	// VisibilityWrites are the events that ask the server to write the
	// visibility record: each run's start and close, every search
	// attribute upsert (TemporalChangeVersion's included) and every memo
	// change.
	VisibilityWrites int64
	// Store is the server's write requests to its stores during the
	// phase; nil when not measured.
	Store *StoreWrites
}

// StoreWrites are write requests the Temporal server made to its stores:
// the main one (executions, history, tasks, shards, queues) and the
// visibility one. They include whatever else the server did meanwhile.
type StoreWrites struct{ Main, Visibility int64 }

// PerLifecycle divides v by the lifecycles.
func (w *Work) PerLifecycle(v int64) float64 {
	if w.Lifecycles == 0 {
		return 0
	}
	return float64(v) / float64(w.Lifecycles)
}

// add counts the events that happened at or after since (the zero time
// counts them all).
func (w *Work) add(events []*historypb.HistoryEvent, since time.Time) {
	for _, e := range events {
		if e.GetEventTime().AsTime().Before(since) {
			continue
		}
		w.HistoryEvents++
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			w.WorkflowTasks++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			w.Activities++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if e.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
				w.LocalActivities++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			w.VisibilityWrites++
		}
	}
}

// localActivityMarker names the marker the Go SDK records for each local
// activity.
const localActivityMarker = "LocalActivity"

// lingerClose is what an assignment workflow still lingering will cost
// when its idle timer fires: the timer's event, one workflow task
// (scheduled, started, completed) and the close, which writes the
// visibility record.
var lingerClose = Work{WorkflowTasks: 1, HistoryEvents: 5, VisibilityWrites: 1}

// history reads one run's events; runID "" is the latest run.
func history(ctx context.Context, c client.Client, workflowID, runID string) ([]*historypb.HistoryEvent, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of workflow %s: %w", workflowID, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// historyReads is how many histories are read at once.
const historyReads = 8

// countWorkflows adds the histories of the workflows (latest runs) and
// returns the earliest time one of them started, by the server's clock.
func (w *Work) countWorkflows(ctx context.Context, c client.Client, ids []string) (time.Time, error) {
	each := make([]Work, len(ids))
	starts := make([]time.Time, len(ids))
	err := parallel(ctx, historyReads, len(ids), func(ctx context.Context, i int) error {
		events, err := history(ctx, c, ids[i], "")
		if err != nil {
			return err
		}
		each[i].add(events, time.Time{})
		if len(events) > 0 {
			starts[i] = events[0].GetEventTime().AsTime()
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	var first time.Time
	for i := range each {
		w.plus(each[i])
		if first.IsZero() || (!starts[i].IsZero() && starts[i].Before(first)) {
			first = starts[i]
		}
	}
	return first, nil
}

// assignmentRun is one run of an assignment workflow.
type assignmentRun struct {
	workflowID, runID string
	open              bool
}

// assignmentRuns lists the runs of the assignment workflows with these
// ids that were open at since or started later: every run,
// continue-as-new's included.
func assignmentRuns(ctx context.Context, c client.Client, ids map[string]bool, since time.Time) ([]assignmentRun, error) {
	query := fmt.Sprintf("WorkflowType = '%s' AND (ExecutionStatus = 'Running' OR CloseTime >= '%s')",
		assignmentwf.WorkflowName, since.UTC().Format(time.RFC3339Nano))
	var runs []assignmentRun
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list assignment workflows (%s): %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if ids[e.GetExecution().GetWorkflowId()] {
				runs = append(runs, assignmentRun{
					workflowID: e.GetExecution().GetWorkflowId(),
					runID:      e.GetExecution().GetRunId(),
					open:       e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
				})
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return runs, nil
		}
	}
}

// jitflowWork counts the throughput phase's work: each request's workflow,
// and the assignment workflows its grants held from the moment the first
// of those requests started (an assignment workflow may have started
// earlier and served other requests before). That moment is taken from
// the server's clock, in history, so the bench's own clock does not
// matter. It returns notes on what it estimated or missed.
func jitflowWork(ctx context.Context, c client.Client, gs []grant) (*Work, []string, error) {
	w := &Work{Lifecycles: len(gs)}
	requests := make([]string, len(gs))
	targets := map[string]bool{}
	for i, g := range gs {
		requests[i] = g.req.ID
		targets[assignmentwf.WorkflowID(graph.Assignment{PrincipalID: g.req.RequesterID, RoleDefinitionID: g.req.RoleDefinitionID,
			DirectoryScopeID: g.req.DirectoryScopeID, GroupID: g.req.GroupID, AccessID: g.req.AccessID})] = true
	}
	since, err := w.countWorkflows(ctx, c, requests)
	if err != nil {
		return nil, nil, err
	}
	runs, err := assignmentRuns(ctx, c, targets, since)
	if err != nil {
		return nil, nil, err
	}
	each := make([]Work, len(runs))
	err = parallel(ctx, historyReads, len(runs), func(ctx context.Context, i int) error {
		events, err := history(ctx, c, runs[i].workflowID, runs[i].runID)
		if err != nil {
			return err
		}
		each[i].add(events, since)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	found, open := map[string]bool{}, 0
	for i, r := range runs {
		w.plus(each[i])
		found[r.workflowID] = true
		if r.open {
			open++
			w.plus(lingerClose)
		}
	}
	var notes []string
	if open > 0 {
		notes = append(notes, fmt.Sprintf("work: %d assignment workflow(s) still linger (%s after their last release, for a next request): "+
			"their close is estimated as what the idle timer's firing costs (%d workflow task, %d events, %d visibility write each) and added; "+
			"its store writes come after the measurement and are not counted",
			open, assignmentwf.IdleLinger, lingerClose.WorkflowTasks, lingerClose.HistoryEvents, lingerClose.VisibilityWrites))
	}
	if len(found) < len(targets) {
		notes = append(notes, fmt.Sprintf("work: %d of %d assignment workflows were not found in visibility; their work is not counted", len(targets)-len(found), len(targets)))
	}
	return w, notes, nil
}

// plus adds o's history counts to w.
func (w *Work) plus(o Work) {
	w.WorkflowTasks += o.WorkflowTasks
	w.Activities += o.Activities
	w.LocalActivities += o.LocalActivities
	w.HistoryEvents += o.HistoryEvents
	w.VisibilityWrites += o.VisibilityWrites
}

// StoreCounts are the Temporal server's store requests so far, by
// operation (the server's "operation" tag): the main store's and the
// visibility store's.
type StoreCounts struct {
	Main, Visibility map[string]int64
}

// StoreMeter reads the server's store requests so far.
type StoreMeter func(context.Context) (StoreCounts, error)

// CountedStore reads counts the embedded server's metrics handler keeps.
func CountedStore(counts func() (main, visibility map[string]int64)) StoreMeter {
	return func(context.Context) (StoreCounts, error) {
		m, v := counts()
		return StoreCounts{Main: m, Visibility: v}, nil
	}
}

// writeOps are the beginnings of the operations that write: the server's
// operation names start with a verb, and those of reads (Get, List, Read,
// Scan, Count, Watch, Assert) are left out.
var writeOps = []string{
	"Create", "Update", "Append", "Delete", "Complete", "Range", "Put", "Set", "Upsert", "Save",
	"Enqueue", "Add", "Record", "Prune", "Trim", "Fork", "ConflictResolve", "Rename", "Initialize",
}

// isWrite says whether the store operation writes.
func isWrite(op string) bool {
	for _, p := range writeOps {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// writesBetween sums the write requests made from before to after.
func writesBetween(before, after StoreCounts) StoreWrites {
	sum := func(b, a map[string]int64) int64 {
		var n int64
		for op, v := range a {
			if isWrite(op) {
				n += v - b[op]
			}
		}
		return n
	}
	return StoreWrites{Main: sum(before.Main, after.Main), Visibility: sum(before.Visibility, after.Visibility)}
}

// storeWindow measures store writes from its start to its end; with no
// meter it measures nothing.
type storeWindow struct {
	meter  StoreMeter
	before StoreCounts
}

func startStoreWindow(ctx context.Context, meter StoreMeter) (*storeWindow, error) {
	if meter == nil {
		return &storeWindow{}, nil
	}
	before, err := meter(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the Temporal server's store requests: %w", err)
	}
	return &storeWindow{meter: meter, before: before}, nil
}

// end returns the writes since the start; nil with no meter.
func (s *storeWindow) end(ctx context.Context) (*StoreWrites, error) {
	if s.meter == nil {
		return nil, nil
	}
	after, err := s.meter(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the Temporal server's store requests: %w", err)
	}
	w := writesBetween(s.before, after)
	return &w, nil
}
