package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"

	assignmentwf "github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/internal/historytest"
	"github.com/jitflow/jitflow/workflows"
)

// histories is a Temporal client that serves stored histories and one
// visibility listing, split over two pages.
type histories struct {
	client.Client
	byRun   map[string][]*historypb.HistoryEvent // "workflow id/run id"
	listing []*workflowpb.WorkflowExecutionInfo
	queries []string
}

func (h *histories) GetWorkflowHistory(_ context.Context, id, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return historytest.Iterator(h.byRun[id+"/"+runID])
}

func (h *histories) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	h.queries = append(h.queries, req.GetQuery())
	half := len(h.listing) / 2
	if len(req.GetNextPageToken()) == 0 {
		return &workflowservice.ListWorkflowExecutionsResponse{Executions: h.listing[:half], NextPageToken: []byte("next")}, nil
	}
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: h.listing[half:]}, nil
}

// timed gives the events times a millisecond apart from start.
func timed(start time.Time, types ...enumspb.EventType) []*historypb.HistoryEvent {
	events := builtHistory(types...)
	for i, e := range events {
		e.EventTime = timestamppb.New(start.Add(time.Duration(i) * time.Millisecond))
	}
	return events
}

func run(id, runID string, status enumspb.WorkflowExecutionStatus) *workflowpb.WorkflowExecutionInfo {
	return &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: runID}, Status: status}
}

// The phase's work is its requests' histories in full, and the runs of the
// assignment workflows its grants held from the first request's start:
// the earlier events of a workflow that served an earlier request are
// left out, a continued-as-new run counts, a workflow of someone else
// does not, and a lingering one has its close added and noted.
func TestJitflowWork(t *testing.T) {
	request := recorded(t, "v2/expired.json")
	start := request[0].GetEventTime().AsTime()
	req := workflows.Request{ID: "req-1", RequesterID: "11111111-1111-4111-8111-000000000001",
		RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"}
	target := assignmentwf.WorkflowID(graph.Assignment{PrincipalID: req.RequesterID, RoleDefinitionID: req.RoleDefinitionID, DirectoryScopeID: req.DirectoryScopeID})
	other := assignmentwf.WorkflowID(graph.Assignment{PrincipalID: "11111111-1111-4111-8111-000000000009", RoleDefinitionID: req.RoleDefinitionID, DirectoryScopeID: "/"})

	task := workflowTask
	// The first run served an earlier request (three events before the
	// phase), then one workflow task in it, and continued as new.
	first := timed(start.Add(-3*time.Millisecond), seq(
		one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), one(enumspb.EVENT_TYPE_TIMER_STARTED), one(enumspb.EVENT_TYPE_TIMER_FIRED),
		task, one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW))...)
	second := timed(start.Add(time.Second), seq(
		one(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), task, one(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), one(enumspb.EVENT_TYPE_TIMER_STARTED))...)
	c := &histories{
		byRun: map[string][]*historypb.HistoryEvent{
			"req-1/": request, target + "/r1": first, target + "/r2": second,
			other + "/r9": timed(start, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
		},
		listing: []*workflowpb.WorkflowExecutionInfo{
			run(target, "r1", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW),
			run(other, "r9", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
			run(target, "r2", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
		},
	}
	w, notes, err := jitflowWork(context.Background(), c, []grant{{req: req}})
	if err != nil {
		t.Fatal(err)
	}
	want := Work{WorkflowTasks: 6 + 1 + 1 + 1, Activities: 4 + 1, LocalActivities: 1,
		HistoryEvents: 60 + 4 + 6 + 5, VisibilityWrites: 10 + 1 + 1 + 1}
	if got := countsOf(*w); got != want || w.Lifecycles != 1 {
		t.Errorf("work %+v over %d lifecycles, want %+v over 1", got, w.Lifecycles, want)
	}
	wantQuery := fmt.Sprintf("WorkflowType = 'Assignment' AND (ExecutionStatus = 'Running' OR CloseTime >= '%s')", start.UTC().Format(time.RFC3339Nano))
	if len(c.queries) != 2 || c.queries[0] != wantQuery {
		t.Errorf("queries %q, want two pages of %q", c.queries, wantQuery)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "1 assignment workflow(s) still linger (10m0s") {
		t.Errorf("notes %q, want one on the lingering workflow", notes)
	}

	c.listing = c.listing[1:2]
	if _, notes, err = jitflowWork(context.Background(), c, []grant{{req: req}}); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "1 of 1 assignment workflows were not found in visibility") {
		t.Errorf("notes %q, want one on the workflow not found", notes)
	}
}
