package telemetry

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// LogKeyRequest is the log key of the access request id (the workflow id)
// on every line a jitflow workflow or activity logs.
const LogKeyRequest = "request_id"

// WorkerInterceptor feeds the metrics from what workflows and activities do
// and puts the request id on the activities' loggers (the workflow names it
// on its own logger; the SDK's own lines carry it as WorkflowID). It watches the workflow's
// status changes (search-attribute upserts) and audit events (side
// effects), and the activities' errors, so the state machine and the
// activities carry no metrics code. Nothing is counted while a workflow
// replays: a worker that picks up a running request does not count its
// past again.
func (m *Metrics) WorkerInterceptor() interceptor.WorkerInterceptor {
	return &workerInterceptor{m: m}
}

// Interceptor is WorkerInterceptor as a client interceptor: set in
// client.Options.Interceptors, every worker made from that client uses it.
func (m *Metrics) Interceptor() interceptor.ClientInterceptor {
	return &workerInterceptor{m: m}
}

type workerInterceptor struct {
	interceptor.ClientInterceptorBase
	interceptor.WorkerInterceptorBase
	m *Metrics
}

func (w *workerInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, m: w.m}
}

func (w *workerInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, m: w.m}
}

// requestState is what one workflow execution's interceptor remembers; it
// is rebuilt by replay like the workflow's own state.
type requestState struct {
	isRequest    bool
	role         string
	createdAt    time.Time
	activatingAt time.Time
	// extensionAskedAt is when the extension waiting for a decision was
	// asked for: its decisions count from then, not from the request's
	// creation. Zero when none waits.
	extensionAskedAt time.Time
}

// askedAt is when the round an approver decides now was asked for.
func (s *requestState) askedAt() time.Time {
	if !s.extensionAskedAt.IsZero() {
		return s.extensionAskedAt
	}
	return s.createdAt
}

type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	m     *Metrics
	state requestState
}

func (w *workflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return w.Next.Init(&workflowOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, m: w.m, state: &w.state})
}

func (w *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	if workflow.GetInfo(ctx).WorkflowType.Name == workflows.WorkflowName && len(in.Args) > 0 {
		if req, ok := in.Args[0].(workflows.AccessRequestInput); ok {
			w.state = requestState{isRequest: true, role: req.Target.Role, createdAt: req.CreatedAt}
		}
	}
	return w.Next.ExecuteWorkflow(ctx, in)
}

type workflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	m     *Metrics
	state *requestState
}

// UpsertTypedSearchAttributes sees every status change: the workflow tells
// visibility each one.
func (o *workflowOutbound) UpsertTypedSearchAttributes(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) error {
	err := o.Next.UpsertTypedSearchAttributes(ctx, updates...)
	if !o.state.isRequest {
		return err
	}
	status, ok := temporal.NewSearchAttributes(updates...).GetKeyword(workflows.SearchStatus)
	if !ok {
		return err
	}
	now := o.Next.Now(ctx)
	replaying := o.Next.IsReplaying(ctx)
	switch workflows.Status(status) {
	case api.StatusActivating:
		o.state.activatingAt = now
	case api.StatusActive:
		if !replaying && !o.state.activatingAt.IsZero() {
			o.m.ApproveToActive.WithLabelValues(o.state.role).Observe(now.Sub(o.state.activatingAt).Seconds())
		}
	}
	if !replaying {
		o.m.Transitions.WithLabelValues(o.state.role, status).Inc()
	}
	return err
}

// SideEffect sees every audit record the workflow writes.
func (o *workflowOutbound) SideEffect(ctx workflow.Context, f func(workflow.Context) any) converter.EncodedValue {
	v := o.Next.SideEffect(ctx, f)
	if !o.state.isRequest || v == nil || !v.HasValue() {
		return v
	}
	var rec workflows.AuditRecord
	if v.Get(&rec) != nil || rec.Schema != workflows.AuditRecordSchema {
		return v
	}
	ev := rec.Event
	// Replay rebuilds which extension waits, so a worker that takes over
	// mid-way counts its decisions from its ask too.
	switch ev.Type {
	case api.EventExtensionRequested:
		o.state.extensionAskedAt = ev.Time
	case api.EventExtended, api.EventExtensionRefused:
		o.state.extensionAskedAt = time.Time{}
	}
	if o.Next.IsReplaying(ctx) {
		return v
	}
	switch ev.Type {
	case api.EventApproved, api.EventDenied:
		decision := api.DecisionApprove
		if ev.Type == api.EventDenied {
			decision = api.DecisionDeny
		}
		o.m.Decisions.WithLabelValues(o.state.role, decision).Inc()
		if asked := o.state.askedAt(); !asked.IsZero() {
			o.m.TimeToDecision.WithLabelValues(o.state.role, decision).Observe(ev.Time.Sub(asked).Seconds())
		}
	case api.EventEscalated:
		o.m.Escalations.WithLabelValues(o.state.role).Inc()
	case api.EventAlert:
		o.m.RemovalAlerts.WithLabelValues(o.state.role).Inc()
	}
	return v
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
	m *Metrics
}

func (a *activityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&activityOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}})
}

// ExecuteActivity counts what failed: Graph calls by status and code, email
// deliveries by kind and reason.
func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	if err != nil {
		a.m.observeActivityError(activity.GetInfo(ctx).ActivityType.Name, in.Args, err)
	}
	return res, err
}

type activityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

// GetLogger names the request on every line an activity of a request logs.
func (o *activityOutbound) GetLogger(ctx context.Context) log.Logger {
	l := o.Next.GetLogger(ctx)
	info := o.Next.GetInfo(ctx)
	if info.WorkflowType != nil && info.WorkflowType.Name == workflows.WorkflowName {
		return log.With(l, LogKeyRequest, info.WorkflowExecution.ID)
	}
	return l
}
