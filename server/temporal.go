package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// temporalClient is the part of client.Client the API uses; tests fake it.
type temporalClient interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	DescribeWorkflow(ctx context.Context, workflowID, runID string) (*client.WorkflowExecutionDescription, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
	GetWorkflowHistory(ctx context.Context, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
	CheckHealth(ctx context.Context, request *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Deadlines for calls that need a worker to answer (queries, updates): a
// request whose worker is down gets a 503 instead of hanging.
const (
	queryTimeout = 10 * time.Second
	// An accepted revoke waits up to RevokeWait for the removal: the API
	// must wait longer, or a slow removal would answer 503 although the
	// revoke was recorded.
	updateTimeout = workflows.RevokeWait + 15*time.Second
)

// temporalFailure maps an error from Temporal to an answer. NotFound is the
// caller's to handle (it means different things to different calls).
func temporalFailure(err error, what string) *apiError {
	var unavailable *serviceerror.Unavailable
	var exhausted *serviceerror.ResourceExhausted
	var deadline *serviceerror.DeadlineExceeded
	var updTimeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	var notReady *serviceerror.WorkflowNotReady
	switch {
	case errors.As(err, &unavailable):
		return &apiError{status: http.StatusServiceUnavailable, detail: what + ": the workflow service is unavailable; try again shortly", cause: err}
	case errors.As(err, &exhausted):
		return &apiError{status: http.StatusServiceUnavailable, detail: what + ": the workflow service is overloaded; try again shortly", cause: err, header: http.Header{"Retry-After": {"1"}}}
	case errors.As(err, &deadline), errors.As(err, &updTimeout), errors.As(err, &notReady),
		errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusServiceUnavailable, detail: what + ": no answer in time (is a jitflow worker running?); try again shortly", cause: err}
	case errors.Is(err, context.Canceled):
		return &apiError{status: http.StatusServiceUnavailable, detail: what + ": the call was canceled", cause: err}
	}
	return &apiError{status: http.StatusInternalServerError, detail: what + ": the workflow service failed", cause: err}
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

func isInvalidArgument(err error) bool {
	var ia *serviceerror.InvalidArgument
	return errors.As(err, &ia)
}

func isAlreadyStarted(err error) bool {
	return temporal.IsWorkflowExecutionAlreadyStartedError(err)
}

// rawAttrs reads the search attributes of a visibility record, which the
// list API returns undecoded.
type rawAttrs map[string]*commonpb.Payload

func (a rawAttrs) keyword(key temporal.SearchAttributeKeyKeyword) string {
	var s string
	if p := a[key.GetName()]; p != nil {
		if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
			return ""
		}
	}
	return s
}

// statusOf is a request's status as visibility knows it. A workflow that
// was terminated or failed outside its own logic never wrote a final
// status; it is reported as failed (or canceled) rather than stuck.
func statusOf(recorded string, exec enumspb.WorkflowExecutionStatus) workflows.Status {
	st := workflows.Status(recorded)
	switch exec {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return st
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		if !st.Terminal() {
			return api.StatusCanceled
		}
	default:
		if !st.Terminal() {
			return api.StatusFailed
		}
	}
	return st
}

// description is what the API needs from a workflow's description.
type description struct {
	requesterID string
	approverIDs []string
	role        string
	status      workflows.Status
	running     bool
}

// describe finds request id. A workflow of another type with the same id
// is not a request: NotFound.
func (s *Server) describe(ctx context.Context, id string) (description, error) {
	d, err := s.temporal.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return description{}, err
	}
	if d.WorkflowType.Name != workflows.WorkflowName {
		return description{}, serviceerror.NewNotFoundf("workflow %s is not an access request", id)
	}
	sa := d.TypedSearchAttributes
	var out description
	out.requesterID, _ = sa.GetKeyword(workflows.SearchRequesterID)
	out.approverIDs, _ = sa.GetKeywordList(workflows.SearchApproverIDs)
	out.role, _ = sa.GetKeyword(workflows.SearchRole)
	recorded, _ := sa.GetKeyword(workflows.SearchStatus)
	out.status = statusOf(recorded, d.Status)
	out.running = d.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	return out, nil
}

// queryRequest asks the workflow for its current view.
func (s *Server) queryRequest(ctx context.Context, id string) (workflows.Request, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := s.temporal.QueryWorkflow(ctx, id, "", workflows.QueryRequest)
	if err != nil {
		return workflows.Request{}, err
	}
	var req workflows.Request
	if err := v.Get(&req); err != nil {
		return workflows.Request{}, err
	}
	return req, nil
}
