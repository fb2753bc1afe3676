package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Waits for a workflow's own view of its request before a read answers
// with the request as submitted instead. During a burst of submissions a
// workflow's first task may not run for minutes, and a busy worker answers
// queries late: an accepted request must still read at once.
const (
	// readWait bounds the query of GET /api/v1/requests/{id}.
	readWait = 2 * time.Second
	// listWait bounds the queries of one listing, all rows together.
	listWait = time.Second
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
	endedAt     *time.Time
	// unready: no workflow task has completed yet, so a query could only
	// wait and fail.
	unready bool
	// run and length name the history as it stood when described: the
	// key of the view cache.
	run    string
	length int64
}

// firstTaskEvents is the length of a history whose first workflow task
// has not completed: started, task scheduled, task started.
const firstTaskEvents = 3

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
	if d.WorkflowCloseTime != nil {
		t := d.WorkflowCloseTime.UTC()
		out.endedAt = &t
	}
	out.unready = out.running && d.HistoryLength > 0 && d.HistoryLength <= firstTaskEvents
	out.run, out.length = d.WorkflowExecution.RunID, int64(d.HistoryLength)
	return out, nil
}

// queryRequest asks the workflow for its current view.
func (s *Server) queryRequest(ctx context.Context, id string) (workflows.Request, error) {
	return s.cachedQuery(ctx, id, recorded{})
}

// cachedQuery is queryRequest through the view cache: a history that did
// not grow since the view was kept answers without the workflow.
func (s *Server) cachedQuery(ctx context.Context, id string, rec recorded) (workflows.Request, error) {
	var req workflows.Request
	if data, ok := s.viewCache.get(id, rec.run, rec.length); ok {
		if err := json.Unmarshal(data, &req); err == nil {
			return req, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := s.temporal.QueryWorkflow(ctx, id, rec.run, workflows.QueryRequest)
	if err != nil {
		return workflows.Request{}, err
	}
	var data json.RawMessage
	if err := v.Get(&data); err != nil {
		return workflows.Request{}, err
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return workflows.Request{}, err
	}
	s.viewCache.put(id, rec.run, rec.length, data)
	return req, nil
}

// currentOrSubmitted is request id as its workflow shows it now or, when
// the workflow does not answer before queryCtx ends, as submitted (see
// submittedView). Only the history read failing is an error, and NotFound
// from the query: the request is gone.
func (s *Server) currentOrSubmitted(ctx, queryCtx context.Context, id string, rec recorded) (workflows.Request, error) {
	if !rec.unready {
		req, err := s.cachedQuery(queryCtx, id, rec)
		if err == nil || isNotFound(err) {
			return req, err
		}
		if queryCtx.Err() != nil {
			s.warm(id, rec)
		}
		s.log.Debug("request view not read from its workflow; answering as submitted", "access_request_id", id, "error", err)
	}
	return s.submittedView(ctx, id, rec)
}

// warmers bounds the queries that go on after their reader stopped
// waiting.
const warmers = 4

// warm lets the query a reader stopped waiting for go on in the background
// (a few at a time), so that the view is kept for the next read: a list of
// requests whose workflows had to be replayed answers from the cache the
// next time instead of as submitted again.
func (s *Server) warm(id string, rec recorded) {
	if rec.length <= 0 {
		return
	}
	select {
	case s.warming <- struct{}{}:
	default:
		return // enough under way; a later read tries again
	}
	go func() {
		defer func() { <-s.warming }()
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		if _, err := s.cachedQuery(ctx, id, rec); err != nil {
			s.log.Debug("request view not kept: its workflow did not answer", "access_request_id", id, "error", err)
		}
	}()
}

// recorded is what Temporal holds of a request without asking its worker:
// the status the workflow last wrote to its search attributes, when it
// ended, and whether its first task is still to run.
type recorded struct {
	status  workflows.Status
	endedAt *time.Time
	unready bool
	// run and length, when known, let the view cache answer.
	run    string
	length int64
}

func (d description) recorded() recorded {
	return recorded{status: d.status, endedAt: d.endedAt, unready: d.unready, run: d.run, length: d.length}
}

// submittedView is the request as submitted, from this server's recent
// starts or else from the first event of its history, with the status the
// workflow recorded since. Nothing the workflow has not recorded is made
// up: decisions, escalations and grant times are left out, and approvers
// too once approval is no longer pending.
func (s *Server) submittedView(ctx context.Context, id string, rec recorded) (workflows.Request, error) {
	req, ok := s.recent.request(id)
	if !ok {
		in, err := s.startInput(ctx, id)
		if err != nil {
			return workflows.Request{}, err
		}
		req = workflows.NewRequest(in)
	}
	req.View = api.ViewSubmitted
	if rec.status != "" && rec.status != req.Status {
		req.Status = rec.status
		if rec.status != api.StatusPending {
			req.Approvers, req.EscalatesAt = []workflows.Approver{}, nil
		}
	}
	if rec.endedAt != nil {
		req.EndedAt = rec.endedAt
	}
	return req, nil
}

// startInput reads what the request was started with from the first event
// of its history, which Temporal holds and serves without a worker.
func (s *Server) startInput(ctx context.Context, id string) (workflows.AccessRequestInput, error) {
	it := s.temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return workflows.AccessRequestInput{}, fmt.Errorf("read the start of request %s: its history is empty", id)
	}
	ev, err := it.Next()
	if err != nil {
		return workflows.AccessRequestInput{}, err
	}
	a := ev.GetWorkflowExecutionStartedEventAttributes()
	if a == nil {
		return workflows.AccessRequestInput{}, fmt.Errorf("read the start of request %s: its first history event is %s, not the start", id, ev.GetEventType())
	}
	var in workflows.AccessRequestInput
	if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil {
		return workflows.AccessRequestInput{}, fmt.Errorf("read the start of request %s: %w", id, err)
	}
	if in.RequestID != id {
		return workflows.AccessRequestInput{}, fmt.Errorf("read the start of request %s: its input names request %q", id, in.RequestID)
	}
	return in, nil
}
