package audit

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/workflows"
)

// Source is the part of client.Client the export reads from.
type Source interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// Execution is one request's workflow as visibility lists it.
type Execution struct {
	ID      string
	RunID   string
	Running bool
	// CloseTime is zero while the request runs.
	CloseTime time.Time
}

// ChangedQuery is the visibility query for the requests that may hold
// events at or after since: the running ones and those closed since then.
// until, when set, leaves out requests started at or after it.
func ChangedQuery(since, until time.Time) string {
	q := fmt.Sprintf("WorkflowType = '%s'", workflows.WorkflowName)
	if !since.IsZero() {
		q += fmt.Sprintf(" AND (ExecutionStatus = 'Running' OR CloseTime >= '%s')", since.UTC().Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		q += fmt.Sprintf(" AND StartTime < '%s'", until.UTC().Format(time.RFC3339Nano))
	}
	return q
}

// Changed lists the requests ChangedQuery selects, every page of them.
func Changed(ctx context.Context, src Source, since, until time.Time) ([]Execution, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{Query: ChangedQuery(since, until), PageSize: 500}
	var out []Execution
	for {
		resp, err := src.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list requests changed since %s: %w", since.UTC().Format(time.RFC3339), err)
		}
		for _, e := range resp.GetExecutions() {
			x := Execution{
				ID:      e.GetExecution().GetWorkflowId(),
				RunID:   e.GetExecution().GetRunId(),
				Running: e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
			}
			if !x.Running && e.GetCloseTime() != nil {
				x.CloseTime = e.GetCloseTime().AsTime()
			}
			out = append(out, x)
		}
		if len(resp.GetNextPageToken()) == 0 {
			return out, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}

// ReadTrail reads one request's whole history and builds its trail.
func ReadTrail(ctx context.Context, src Source, x Execution) (Trail, error) {
	it := src.GetWorkflowHistory(ctx, x.ID, x.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return Trail{}, fmt.Errorf("read the history of %s: %w", x.ID, err)
		}
		events = append(events, ev)
	}
	trail, err := Read(events, converter.GetDefaultDataConverter())
	if err != nil {
		return Trail{}, fmt.Errorf("read the audit trail of %s: %w", x.ID, err)
	}
	return trail, nil
}
