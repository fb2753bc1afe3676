package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jitflow/jitflow/workflows"
)

// fakeTemporal stands in for a Temporal client: it keeps started requests
// in memory, answers queries with their view, evaluates the few visibility
// queries the API writes, and lets tests script updates. Methods the API
// does not use are left to the nil embedded client (a call would panic).
type fakeTemporal struct {
	client.Client

	mu        sync.Mutex
	wfs       map[string]*fakeWorkflow
	order     []string
	starts    []client.StartWorkflowOptions
	queries   []string
	updates   []client.UpdateWorkflowOptions
	clock     time.Time
	startErr  error
	listErr   error
	healthErr error
	// listHook runs at the start of every ListWorkflow call.
	listHook func()
	// describeErr, when set, is every describe's answer.
	describeErr error
	// missDescribes makes the next describes miss, as a server racing
	// this one would see before the other's start lands.
	missDescribes int
	// visibilityLag hides new workflows from ListWorkflow, as visibility
	// does for a moment after a start.
	visibilityLag bool
	// queryErr, when set, is every query's answer (no worker).
	queryErr error
	// history, when not nil, is every workflow's history; otherwise a
	// workflow's history is its start event.
	history []*historypb.HistoryEvent
	// historyErr, when set, is the answer of every history read.
	historyErr error
	// update scripts the answer to an update; nil means "return the view".
	update func(opts client.UpdateWorkflowOptions) (workflows.Request, error)
	// calls counts the calls to Temporal, by method.
	calls map[string]int
}

func (f *fakeTemporal) count(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
}

// callCount is how many calls to Temporal the API made, and which.
func (f *fakeTemporal) callCount() (int, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n, maps.Clone(f.calls)
}

type fakeWorkflow struct {
	typ   string
	input workflows.AccessRequestInput
	view  workflows.Request
	attrs map[string]any
	// staleAttrs, when set, is what visibility still shows while attrs
	// already changed in the workflow (visibility lags behind).
	staleAttrs map[string]any
	invisible  bool // not in visibility yet
	status     enumspb.WorkflowExecutionStatus
	started    time.Time
	closed     *time.Time
	// queryErr, when set, is this workflow's answer to queries.
	queryErr error
	// queryGate, when set, holds this workflow's queries until it is
	// closed or the caller gives up, as a worker that has not run the
	// workflow's task yet would.
	queryGate chan struct{}
	// historyLength is what describing the workflow says of its history;
	// 0 leaves it unsaid.
	historyLength int
	// memo, when set, is the view the workflow kept in its memo
	// (workflows.MemoRequest), which visibility returns with its row.
	memo *workflows.Request
	// memoRun is the run the memo names (workflows.MemoRun); "" names the
	// fake's own run, noMemoRun none.
	memoRun string
}

// noMemoRun leaves workflows.MemoRun out of a fake workflow's memo.
const noMemoRun = "(none)"

func newFakeTemporal() *fakeTemporal {
	return &fakeTemporal{wfs: map[string]*fakeWorkflow{}, clock: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.count("ExecuteWorkflow")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return nil, f.startErr
	}
	if _, ok := f.wfs[opts.ID]; ok {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "run")
	}
	name, _ := wf.(string)
	in := args[0].(workflows.AccessRequestInput)
	attrs := map[string]any{}
	for k, v := range opts.TypedSearchAttributes.GetUntypedValues() {
		attrs[k.GetName()] = v
	}
	f.clock = f.clock.Add(time.Second)
	f.wfs[opts.ID] = &fakeWorkflow{typ: name, input: in, view: workflows.NewRequest(in), attrs: attrs,
		status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, started: f.clock, invisible: f.visibilityLag}
	f.order = append(f.order, opts.ID)
	f.starts = append(f.starts, opts)
	return nil, nil
}

// close ends a workflow with the given request status.
func (f *fakeTemporal) close(id string, st workflows.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.wfs[id]
	t := w.started.Add(time.Minute)
	w.closed, w.status = &t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	w.view.Status, w.view.EndedAt, w.attrs[workflows.SearchStatus.GetName()] = st, &t, string(st)
}

func (f *fakeTemporal) get(id string) (*fakeWorkflow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.wfs[id]
	if !ok {
		return nil, serviceerror.NewNotFoundf("workflow %s not found", id)
	}
	return w, nil
}

func (f *fakeTemporal) DescribeWorkflow(_ context.Context, id, _ string) (*client.WorkflowExecutionDescription, error) {
	f.count("DescribeWorkflow")
	f.mu.Lock()
	miss := f.missDescribes > 0
	if miss {
		f.missDescribes--
	}
	f.mu.Unlock()
	if miss {
		return nil, serviceerror.NewNotFoundf("workflow %s not found", id)
	}
	if err := f.describeErr; err != nil {
		return nil, err
	}
	w, err := f.get(id)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &client.WorkflowExecutionDescription{WorkflowExecutionMetadata: client.WorkflowExecutionMetadata{
		WorkflowExecution:     workflow.Execution{ID: id, RunID: "run"},
		WorkflowType:          workflow.Type{Name: w.typ},
		Status:                w.status,
		TypedSearchAttributes: typedAttrs(w.attrs),
		WorkflowStartTime:     w.started,
		WorkflowCloseTime:     w.closed,
		HistoryLength:         w.historyLength,
	}}, nil
}

func typedAttrs(attrs map[string]any) temporal.SearchAttributes {
	var ups []temporal.SearchAttributeUpdate
	for k, v := range attrs {
		switch v := v.(type) {
		case string:
			ups = append(ups, temporal.NewSearchAttributeKeyKeyword(k).ValueSet(v))
		case []string:
			ups = append(ups, temporal.NewSearchAttributeKeyKeywordList(k).ValueSet(v))
		}
	}
	return temporal.NewSearchAttributes(ups...)
}

func (f *fakeTemporal) QueryWorkflow(ctx context.Context, id, _, queryType string, _ ...any) (converter.EncodedValue, error) {
	f.count("QueryWorkflow")
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	if queryType != workflows.QueryRequest {
		return nil, serviceerror.NewQueryFailedf("unknown query %q", queryType)
	}
	w, err := f.get(id)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	gate, qerr := w.queryGate, w.queryErr
	f.mu.Unlock()
	if qerr != nil {
		return nil, qerr
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, serviceerror.NewDeadlineExceeded("context deadline exceeded")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return jsonValue{w.view}, nil
}

// jsonValue is an EncodedValue that decodes by a JSON round trip, as the
// default data converter would.
type jsonValue struct{ v any }

func (j jsonValue) HasValue() bool { return j.v != nil }

func (j jsonValue) Get(ptr any) error {
	b, err := json.Marshal(j.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

var clausePattern = regexp.MustCompile(`^(\w+)(=|>=|<)'((?:[^'\\]|\\.)*)'$`)

// ListWorkflow evaluates the conjunction of Key='value' clauses (and one
// parenthesised disjunction) the API writes; anything else is an error, so
// a malformed query fails the test.
func (f *fakeTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.count("ListWorkflow")
	if f.listHook != nil {
		f.listHook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, req.GetQuery())
	if f.listErr != nil {
		return nil, f.listErr
	}
	// The fake's page token is the number of matches already listed.
	skip := 0
	if t := req.GetNextPageToken(); len(t) > 0 {
		n, err := strconv.Atoi(string(t))
		if err != nil {
			return nil, serviceerror.NewInvalidArgument("invalid page token")
		}
		skip = n
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	seen := 0
	for _, id := range f.visibilityOrder() {
		w := f.wfs[id]
		if w.invisible {
			continue
		}
		ok, err := matches(req.GetQuery(), id, w)
		if err != nil {
			return nil, serviceerror.NewInvalidArgument(err.Error())
		}
		if !ok {
			continue
		}
		seen++
		switch {
		case seen <= skip:
		case len(resp.Executions) < int(req.GetPageSize()):
			resp.Executions = append(resp.Executions, w.info(id))
		case resp.NextPageToken == nil:
			resp.NextPageToken = []byte(strconv.Itoa(seen - 1))
		}
	}
	return resp, nil
}

// visibilityOrder is SQL visibility's order: running workflows first,
// newest start first, then closed ones, latest close first.
func (f *fakeTemporal) visibilityOrder() []string {
	order := slices.Clone(f.order)
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	key := func(id string) (time.Time, time.Time) {
		w := f.wfs[id]
		if w.closed == nil {
			return far, w.started
		}
		return *w.closed, w.started
	}
	slices.SortFunc(order, func(a, b string) int {
		ca, sa := key(a)
		cb, sb := key(b)
		if c := cb.Compare(ca); c != 0 {
			return c
		}
		return sb.Compare(sa)
	})
	return order
}

func matches(query, id string, w *fakeWorkflow) (bool, error) {
	for _, clause := range strings.Split(query, " AND ") {
		disj := strings.HasPrefix(clause, "(") && strings.HasSuffix(clause, ")")
		alts := []string{clause}
		if disj {
			alts = strings.Split(strings.Trim(clause, "()"), " OR ")
		}
		hit := false
		for _, alt := range alts {
			ok, err := holds(alt, w)
			if err != nil {
				return false, err
			}
			hit = hit || ok
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

func holds(clause string, w *fakeWorkflow) (bool, error) {
	m := clausePattern.FindStringSubmatch(clause)
	if m == nil {
		return false, fmt.Errorf("clause %q is not Key='value'", clause)
	}
	key, op, val := m[1], m[2], strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[3])
	if key == "StartTime" {
		at, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return false, fmt.Errorf("StartTime %q: %v", val, err)
		}
		switch op {
		case ">=":
			return !w.started.Before(at), nil
		case "<":
			return w.started.Before(at), nil
		}
		return false, fmt.Errorf("fake knows StartTime>= and StartTime< only")
	}
	if op != "=" {
		return false, fmt.Errorf("fake knows %s= only", key)
	}
	switch key {
	case "WorkflowType":
		return w.typ == val, nil
	case "ExecutionStatus":
		if val != "Running" {
			return false, fmt.Errorf("fake knows ExecutionStatus='Running' only")
		}
		return w.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
	}
	switch v := w.visibleAttrs()[key].(type) {
	case string:
		return v == val, nil
	case []string:
		return slices.Contains(v, val), nil
	case nil:
		if strings.HasPrefix(key, "Jitflow") {
			return false, nil
		}
	}
	return false, fmt.Errorf("unknown search attribute %q", key)
}

func (w *fakeWorkflow) visibleAttrs() map[string]any {
	if w.staleAttrs != nil {
		return w.staleAttrs
	}
	return w.attrs
}

func (w *fakeWorkflow) info(id string) *workflowpb.WorkflowExecutionInfo {
	dc := converter.GetDefaultDataConverter()
	fields := map[string]*commonpb.Payload{}
	for k, v := range w.visibleAttrs() {
		p, err := dc.ToPayload(v)
		if err != nil {
			panic(err)
		}
		fields[k] = p
	}
	info := &workflowpb.WorkflowExecutionInfo{
		Execution:        &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run"},
		Type:             &commonpb.WorkflowType{Name: w.typ},
		StartTime:        timestamppb.New(w.started),
		Status:           w.status,
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields},
	}
	if w.closed != nil {
		info.CloseTime = timestamppb.New(*w.closed)
	}
	if w.memo != nil {
		run := w.memoRun
		if run == "" {
			run = "run" // the fake's run id: written by the workflow
		}
		fields := map[string]any{workflows.MemoRequest: *w.memo, workflows.MemoRun: run}
		if run == noMemoRun {
			delete(fields, workflows.MemoRun)
		}
		info.Memo = &commonpb.Memo{Fields: map[string]*commonpb.Payload{}}
		for k, v := range fields {
			p, err := dc.ToPayload(v)
			if err != nil {
				panic(err)
			}
			info.Memo.Fields[k] = p
		}
	}
	return info
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.count("UpdateWorkflow")
	f.mu.Lock()
	f.updates = append(f.updates, opts)
	script := f.update
	f.mu.Unlock()
	if script != nil {
		req, err := script(opts)
		return fakeHandle{req: req, err: err}, nil
	}
	w, err := f.get(opts.WorkflowID)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if w.closed != nil {
		return nil, serviceerror.NewNotFound("workflow execution already completed")
	}
	return fakeHandle{req: w.view}, nil
}

// lastUpdate is the argument of the latest update.
func (f *fakeTemporal) lastUpdate() client.UpdateWorkflowOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.updates) == 0 {
		return client.UpdateWorkflowOptions{}
	}
	return f.updates[len(f.updates)-1]
}

type fakeHandle struct {
	client.WorkflowUpdateHandle
	req workflows.Request
	err error
}

func (h fakeHandle) Get(_ context.Context, ptr any) error {
	if h.err != nil {
		return h.err
	}
	return jsonValue{h.req}.Get(ptr)
}

func (f *fakeTemporal) GetWorkflowHistory(_ context.Context, id, _ string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	f.count("GetWorkflowHistory")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.historyErr != nil {
		return &fakeHistory{err: f.historyErr}
	}
	w, ok := f.wfs[id]
	if !ok {
		return &fakeHistory{err: serviceerror.NewNotFoundf("workflow %s not found", id)}
	}
	if f.history != nil {
		return &fakeHistory{events: slices.Clone(f.history)}
	}
	input, err := converter.GetDefaultDataConverter().ToPayloads(w.input)
	if err != nil {
		panic(err)
	}
	return &fakeHistory{events: []*historypb.HistoryEvent{{
		EventId:   1,
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			WorkflowType: &commonpb.WorkflowType{Name: w.typ},
			Input:        input,
		}},
	}}}
}

type fakeHistory struct {
	events []*historypb.HistoryEvent
	err    error
}

func (h *fakeHistory) HasNext() bool { return h.err != nil || len(h.events) > 0 }

func (h *fakeHistory) Next() (*historypb.HistoryEvent, error) {
	if h.err != nil {
		return nil, h.err
	}
	ev := h.events[0]
	h.events = h.events[1:]
	return ev, nil
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &client.CheckHealthResponse{}, f.healthErr
}
