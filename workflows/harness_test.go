package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// t0 is when every test workflow starts, so times can be checked exactly.
// It lies years ahead: the test environment measures local activities'
// deadlines against the real clock, so a t0 in the past would time them out.
var t0 = time.Date(2036, 11, 26, 9, 0, 0, 0, time.UTC)

var (
	alice   = workflows.Person{ID: "oid-alice", UPN: "alice@example.com", Email: "alice@example.com"}
	bob     = workflows.Person{ID: "oid-bob", UPN: "bob@example.com", Email: "bob@example.com"}
	carol   = workflows.Person{ID: "oid-carol", UPN: "carol@example.com", Email: "carol@example.com"}
	dave    = workflows.Person{ID: "oid-dave", UPN: "dave@example.com", Email: "dave@example.com"}
	erin    = workflows.Person{ID: "oid-erin", UPN: "erin@example.com", Email: "erin@example.com"}
	mallory = workflows.Person{ID: "oid-mallory", UPN: "mallory@example.com", Email: "mallory@example.com"}
)

// readerInput is the dev policy's reader role: bob, escalating to carol
// after 20s, timing out 60s later.
func readerInput() workflows.AccessRequestInput {
	return workflows.AccessRequestInput{
		RequestID:     "req-reader",
		Requester:     alice,
		Target:        workflows.Target{Role: "reader", RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"},
		Duration:      time.Hour,
		Justification: "look into incident 42",
		CreatedAt:     t0,
		BaseURL:       "http://jitflow.test",
		Stages: []workflows.Stage{{
			Name:      "team lead",
			Approvals: 1,
			Tiers: []workflows.Tier{
				{Approvers: []workflows.Person{bob}, Timeout: 20 * time.Second},
				{Approvers: []workflows.Person{carol}, Timeout: 60 * time.Second},
			},
		}},
	}
}

// adminInput is the dev policy's admin role: stage 1 as reader, then dave.
func adminInput() workflows.AccessRequestInput {
	in := readerInput()
	in.RequestID = "req-admin"
	in.Target = workflows.Target{Role: "admin", RoleDefinitionID: "194ae4cb-b126-40b2-bd5b-6091b380977d", DirectoryScopeID: "/"}
	in.Ticket = "CHG-7"
	in.Stages = append(in.Stages, workflows.Stage{
		Name:      "security",
		Approvals: 1,
		Tiers:     []workflows.Tier{{Approvers: []workflows.Person{dave}, Timeout: time.Hour}},
	})
	return in
}

// twoOfThreeInput needs two of bob, carol and dave.
func twoOfThreeInput() workflows.AccessRequestInput {
	in := readerInput()
	in.RequestID = "req-two-of-three"
	in.Stages = []workflows.Stage{{
		Name:      "peers",
		Approvals: 2,
		Tiers:     []workflows.Tier{{Approvers: []workflows.Person{bob, carol, dave}, Timeout: time.Hour}},
	}}
	return in
}

// breakGlassInput is the dev policy's breakglass role, asked for by erin.
func breakGlassInput() workflows.AccessRequestInput {
	return workflows.AccessRequestInput{
		RequestID:     "req-breakglass",
		Requester:     erin,
		Target:        workflows.Target{Role: "breakglass", RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", DirectoryScopeID: "/"},
		Duration:      30 * time.Minute,
		Justification: "tenant-wide outage",
		CreatedAt:     t0,
		BreakGlass:    true,
		Notify:        []workflows.Person{dave},
	}
}

// harness runs one AccessRequest in the test environment with mocked
// activities, and keeps what the workflow did.
type harness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	in    workflows.AccessRequestInput
	audit *auditRecorder
	// logs are the workflow's warnings and errors.
	logs *logLines

	// activate answers attempt n (1-based) of Activate; activateDelay is
	// how long each attempt takes on the workflow clock.
	activate      func(n int) (graph.ActivateResult, error)
	activateDelay time.Duration
	// deactivate answers attempt n (1-based) of Deactivate.
	deactivate func(n int) (graph.DeactivateResult, error)
	// sendEmail fails an email by returning an error.
	sendEmail func(in activities.EmailInput) error

	// release answers the release of the request's hold; nil removes the
	// role through deactivate.
	release func(in assignments.ReleaseInput) (assignments.ReleaseResult, error)
	// hold, when set, answers every hold instead of the single-grant stand-in.
	hold func(in assignments.HoldInput) (assignments.HoldResult, error)
	// mockReleaseDelay is how long each release takes on the workflow clock.
	mockReleaseDelay time.Duration
	// eligible answers the eligibility check.
	eligible bool
	// noEndNotice leaves out the assignment workflow's notice at the
	// grant's end, as an assignment workflow from before the notice would.
	noEndNotice bool
	// until is the grant's current end, for the end notice.
	until time.Time
	// unsignedStart starts the workflow with h.in as it is, without the
	// server's proof run adds.
	unsignedStart bool
	// resolve answers attempt n (1-based, over the whole run) of
	// ResolveApprovers; nil runs the real activity of a worker without a
	// directory.
	resolve func(n int, in activities.ResolveApproversInput) (activities.ResolveApproversResult, error)
	// resolveDelay is how long each ResolveApprovers attempt takes on the
	// workflow clock.
	resolveDelay time.Duration

	mu          sync.Mutex
	activations []graph.ActivateInput
	removals    []graph.DeactivateInput
	emails      []activities.EmailInput
	holds       []assignments.HoldInput
	resolves    []activities.ResolveApproversInput
	// resolvedAt is when each ResolveApprovers attempt ran, from t0.
	resolvedAt []time.Duration
	// approverIDs is what each upsert set SearchApproverIDs to.
	approverIDs [][]string
}

func newHarness(t *testing.T, in workflows.AccessRequestInput) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	logs := &logLines{}
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t, logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	rec := &auditRecorder{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
	env.RegisterWorkflowWithOptions(workflows.NewTrust(testProofs).AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
	return &harness{
		t:     t,
		env:   env,
		in:    in,
		audit: rec,
		logs:  logs,
		activate: func(int) (graph.ActivateResult, error) {
			return graph.ActivateResult{GraphRequestID: "graph-activate", GraphStatus: "Provisioned", EndDateTime: t0.Add(in.Duration)}, nil
		},
		deactivate: func(int) (graph.DeactivateResult, error) {
			return graph.DeactivateResult{GraphRequestID: "graph-deactivate", GraphStatus: "Revoked"}, nil
		},
		sendEmail: func(activities.EmailInput) error { return nil },
	}
}

// run executes the workflow to its end and returns its result.
func (h *harness) run() workflows.Request {
	h.t.Helper()
	a := &activities.Activities{}
	h.env.RegisterActivity(a)
	h.registerGrants()
	h.mockGrants()
	h.env.OnActivity(a.CheckEligibility, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.EligibilityInput) (graph.EligibilityResult, error) {
			return graph.EligibilityResult{Eligible: h.eligible}, nil
		})
	act := h.env.OnActivity(a.Activate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in graph.ActivateInput) (graph.ActivateResult, error) {
			h.mu.Lock()
			h.activations = append(h.activations, in)
			n := len(h.activations)
			h.mu.Unlock()
			return h.activate(n)
		})
	if h.activateDelay > 0 {
		act.After(h.activateDelay)
	}
	h.env.OnActivity(a.Deactivate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in graph.DeactivateInput) (graph.DeactivateResult, error) {
			h.mu.Lock()
			h.removals = append(h.removals, in)
			n := len(h.removals)
			h.mu.Unlock()
			return h.deactivate(n)
		})
	h.env.OnActivity(a.SendEmail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EmailInput) (activities.EmailResult, error) {
			h.mu.Lock()
			h.emails = append(h.emails, in)
			h.mu.Unlock()
			if err := h.sendEmail(in); err != nil {
				return activities.EmailResult{}, err
			}
			return activities.EmailResult{Subject: in.Kind}, nil
		})

	resolve := h.env.OnActivity(a.ResolveApprovers, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
			h.mu.Lock()
			h.resolves = append(h.resolves, in)
			h.resolvedAt = append(h.resolvedAt, h.env.Now().Sub(t0))
			n := len(h.resolves)
			h.mu.Unlock()
			if h.resolve == nil {
				return a.ResolveApprovers(ctx, in)
			}
			return h.resolve(n, in)
		})
	if h.resolveDelay > 0 {
		resolve.After(h.resolveDelay)
	}
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		if ids, ok := args.Get(0).(temporal.SearchAttributes).GetKeywordList(workflows.SearchApproverIDs); ok {
			h.mu.Lock()
			h.approverIDs = append(h.approverIDs, ids)
			h.mu.Unlock()
		}
	})

	in := h.in
	if !h.unsignedStart {
		in = signed(h.t, in.RequestID, in, t0).(workflows.AccessRequestInput)
	}
	h.env.ExecuteWorkflow(workflows.WorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
	var r workflows.Request
	require.NoError(h.t, h.env.GetWorkflowResult(&r))
	return r
}

// outcome is what happened to one update.
type outcome struct {
	accepted  bool
	rejected  error
	completed bool
	err       error
	result    workflows.Request
}

// updateAt sends an update when the workflow clock is at t0+at, signed
// then as the API server signs it.
func (h *harness) updateAt(at time.Duration, name string, arg any) *outcome {
	return h.sendAt(at, name, func() any { return signed(h.t, h.in.RequestID, arg, h.env.Now()) })
}

// sendAt sends the update argument arg() makes when the workflow clock is
// at t0+at, as it is: with no proof unless it carries one.
func (h *harness) sendAt(at time.Duration, name string, arg func() any) *outcome {
	o := &outcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected = err },
			OnComplete: func(v any, err error) {
				o.completed, o.err = true, err
				if r, ok := v.(workflows.Request); ok {
					o.result = r
				}
			},
		}, arg())
	}, at)
	return o
}

func (h *harness) decideAt(at time.Duration, who workflows.Person, decision, comment string) *outcome {
	return h.updateAt(at, workflows.UpdateDecide, workflows.DecideInput{ApproverID: who.ID, Decision: decision, Comment: comment})
}

func (h *harness) revokeAt(at time.Duration, who workflows.Person, operator bool) *outcome {
	return h.updateAt(at, workflows.UpdateRevoke, workflows.RevokeInput{Actor: who, Operator: operator, Reason: "done early"})
}

// queryAt reads the Request view when the workflow clock is at t0+at.
func (h *harness) queryAt(at time.Duration) *workflows.Request {
	r := &workflows.Request{}
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(workflows.QueryRequest)
		if err != nil {
			r.Reason = "query failed: " + err.Error()
			return
		}
		if err := v.Get(r); err != nil {
			r.Reason = "decode failed: " + err.Error()
		}
	}, at)
	return r
}

// emailsOf lists the emails of one kind, in the order they were sent.
func (h *harness) emailsOf(kind string) []activities.EmailInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []activities.EmailInput
	for _, e := range h.emails {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// kinds lists the kinds of all emails sent, in the order they ran.
func (h *harness) kinds() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.emails {
		out = append(out, e.Kind)
	}
	return out
}

func accepted(t *testing.T, o *outcome) workflows.Request {
	t.Helper()
	require.NoError(t, o.rejected, "update rejected")
	require.True(t, o.accepted, "update not accepted")
	require.True(t, o.completed, "update did not complete")
	require.NoError(t, o.err)
	return o.result
}

func rejected(t *testing.T, o *outcome, errType, contains string) {
	t.Helper()
	require.False(t, o.accepted, "update accepted")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, o.rejected, &appErr)
	require.Equal(t, errType, appErr.Type(), appErr.Error())
	require.Contains(t, appErr.Error(), contains)
}

func recipientsOf(e activities.EmailInput) []string {
	var out []string
	for _, r := range e.To {
		out = append(out, r.UPN)
	}
	return out
}

// auditRecorder keeps the audit events the workflow records, decoded from
// the very payload each side effect writes into history.
type auditRecorder struct {
	interceptor.WorkerInterceptorBase
	mu     sync.Mutex
	events []workflows.AuditEvent
}

func (r *auditRecorder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &auditInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, rec: r}
}

// types lists the recorded event types, leaving out "notified": emails end
// in their own time, so their events interleave with the rest.
func (r *auditRecorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Type != api.EventNotified {
			out = append(out, e.Type)
		}
	}
	return out
}

func (r *auditRecorder) ofType(typ string) []workflows.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []workflows.AuditEvent
	for _, e := range r.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

type auditInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	rec *auditRecorder
}

func (i *auditInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&auditOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, rec: i.rec})
}

type auditOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	rec *auditRecorder
}

func (o *auditOutbound) SideEffect(ctx workflow.Context, f func(workflow.Context) any) converter.EncodedValue {
	v := o.Next.SideEffect(ctx, f)
	var rec workflows.AuditRecord
	if err := v.Get(&rec); err != nil {
		panic(errors.Join(errors.New("side effect is not an object"), err))
	}
	if rec.Schema != workflows.AuditRecordSchema {
		return v // the start check, which AuditEvents skips too
	}
	o.rec.mu.Lock()
	o.rec.events = append(o.rec.events, rec.Event)
	o.rec.mu.Unlock()
	return v
}

// testWriter sends the workflow's warnings and errors to the test log, so
// they show only when a test fails or runs verbose, and keeps them.
type testWriter struct {
	t    *testing.T
	keep *logLines
}

func (w testWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	w.t.Log(line)
	w.keep.mu.Lock()
	w.keep.lines = append(w.keep.lines, line)
	w.keep.mu.Unlock()
	return len(p), nil
}

// logLines are log lines as slog's text handler wrote them.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

// matching lists the lines that hold every one of parts.
func (l *logLines) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// grants names the methods the harness mocks; the real ones are never
// called.
var grants = &assignments.Grants{}

// registerGrants stands in for the assignment workflow of a requester who
// holds nothing else: a new hold activates through h.activate, an extension
// moves the end, and a release removes through h.deactivate.
func (h *harness) registerGrants() {
	h.env.RegisterActivity(grants)
}

// mockGrants answers the grant activities (after registerGrants, as the
// test environment wants registrations before mocks).
func (h *harness) mockGrants() {
	hold := h.env.OnActivity(grants.HoldGrant, mock.Anything, mock.Anything).Return(func(_ context.Context, in assignments.HoldInput) (assignments.HoldResult, error) {
		h.mu.Lock()
		h.holds = append(h.holds, in)
		h.mu.Unlock()
		if h.hold != nil {
			return h.hold(in)
		}
		if !in.Until.IsZero() {
			h.noticeEndAt(in.Until)
			return assignments.HoldResult{Until: in.Until, EntraEnd: in.Until,
				Extension: &graph.ExtendResult{GraphRequestID: "graph-extend", EndDateTime: in.Until}}, nil
		}
		h.mu.Lock()
		h.activations = append(h.activations, graph.ActivateInput{RequestID: in.RequestID, Assignment: in.Assignment,
			Duration: in.Duration, Justification: in.Justification, Ticket: in.Ticket})
		n := len(h.activations)
		h.mu.Unlock()
		res, err := h.activate(n)
		if app, ok := refused(err); ok {
			return assignments.HoldResult{Failure: "activation failed: " + app.Message()}, nil
		}
		if err != nil {
			return assignments.HoldResult{}, err
		}
		until := h.env.Now().Add(in.Duration)
		h.noticeEndAt(until)
		return assignments.HoldResult{Until: until, EntraEnd: res.EndDateTime, Activation: &res}, nil
	})
	if h.activateDelay > 0 {
		hold.After(h.activateDelay)
	}
	release := h.env.OnActivity(grants.ReleaseGrant, mock.Anything, mock.Anything).Return(h.releaseOnce)
	if h.mockReleaseDelay > 0 {
		release.After(h.mockReleaseDelay)
	}
}

// releaseOnce answers one release: through h.release, or by removing the
// role through deactivate.
func (h *harness) releaseOnce(_ context.Context, in assignments.ReleaseInput) (assignments.ReleaseResult, error) {
	if h.release != nil {
		return h.release(in)
	}
	h.mu.Lock()
	h.removals = append(h.removals, graph.DeactivateInput{RequestID: in.RequestID, Assignment: in.Assignment, Reason: in.Reason})
	n := len(h.removals)
	h.mu.Unlock()
	res, err := h.deactivate(n)
	if app, ok := refused(err); ok {
		return assignments.ReleaseResult{Failure: app.Message()}, nil
	}
	if err != nil {
		return assignments.ReleaseResult{}, err
	}
	return assignments.ReleaseResult{Removal: &res}, nil
}

// noticeEndAt stands in for the assignment workflow ending the grant at
// until: unless the grant moved on by then, it removes the role (retrying
// what Graph fails) and tells the request.
func (h *harness) noticeEndAt(until time.Time) {
	if h.noEndNotice {
		return
	}
	h.mu.Lock()
	h.until = until
	h.mu.Unlock()
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		current := h.until
		h.mu.Unlock()
		if !current.Equal(until) {
			return
		}
		in := assignments.ReleaseInput{RequestID: h.in.RequestID, Assignment: graph.Assignment{PrincipalID: h.in.Requester.ID,
			RoleDefinitionID: h.in.Target.RoleDefinitionID, DirectoryScopeID: h.in.Target.DirectoryScopeID}, Reason: "the grant ran out"}
		res, err := h.releaseOnce(context.Background(), in)
		for err != nil {
			res, err = h.releaseOnce(context.Background(), in)
		}
		h.notice(assignments.RemovalProgress{Ended: &res})
	}, until.Sub(h.env.Now()))
}

// notice sends the request p as its assignment workflow would: signed by a
// worker for it.
func (h *harness) notice(p assignments.RemovalProgress) {
	p, err := p.For(h.in.RequestID, testProofs, h.env.Now())
	require.NoError(h.t, err)
	h.env.SignalWorkflow(assignments.SignalRemoval, p)
}

// refused reports whether err is Graph's outright refusal, which the
// assignment workflow answers as a failure instead of retrying.
func refused(err error) (*temporal.ApplicationError, bool) {
	var app *temporal.ApplicationError
	ok := errors.As(err, &app) && (app.NonRetryable() || app.Type() == graph.ErrRejected)
	return app, ok
}

// testProofs are the proof keys of the test deployment's key list.
var testProofs = func() *proof.Keys {
	ks, err := approvals.NewKeySet(approvals.Key{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	return proof.FromKeySet(ks)
}()

// signed is arg (a start or update input) carrying the proof a jitflow
// server would give it at now, as an API call for request id.
func signed(t *testing.T, id string, arg any, now time.Time) any {
	t.Helper()
	st := proof.Statement{RequestID: id, Channel: proof.ChannelAPI, Via: "test token"}
	var out any
	var err error
	switch in := arg.(type) {
	case workflows.AccessRequestInput:
		out, err = in.Sign(testProofs, st, now)
	case workflows.DecideInput:
		if in.LinkID != "" {
			st.Channel, st.LinkID = proof.ChannelEmailLink, in.LinkID
		}
		out, err = in.Sign(testProofs, st, now)
	case workflows.CancelInput:
		out, err = in.Sign(testProofs, st, now)
	case workflows.RevokeInput:
		if in.Operator {
			st.Channel = proof.ChannelOperator
		}
		out, err = in.Sign(testProofs, st, now)
	case workflows.ExtendInput:
		out, err = in.Sign(testProofs, st, now)
	default:
		t.Fatalf("cannot sign a %T", arg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}
