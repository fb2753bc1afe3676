package telemetry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/telemetry"
	"github.com/jitflow/jitflow/workflows"
)

var (
	t0    = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	alice = workflows.Person{ID: "oid-alice", UPN: "alice@example.com", Email: "alice@example.com"}
	bob   = workflows.Person{ID: "oid-bob", UPN: "bob@example.com", Email: "bob@example.com"}
	carol = workflows.Person{ID: "oid-carol", UPN: "carol@example.com", Email: "carol@example.com"}
)

func readerInput() workflows.AccessRequestInput {
	return workflows.AccessRequestInput{
		RequestID:     "req-metrics",
		Requester:     alice,
		Target:        workflows.Target{Role: "reader", RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"},
		Duration:      time.Hour,
		Justification: "metrics check",
		CreatedAt:     t0,
		Stages: []workflows.Stage{{
			Name: "team lead", Approvals: 1,
			Tiers: []workflows.Tier{
				{Approvers: []workflows.Person{bob}, Timeout: 20 * time.Second},
				{Approvers: []workflows.Person{carol}, Timeout: time.Minute},
			},
		}},
	}
}

// flakyPIM is throttled on its first assignment.
type flakyPIM struct {
	mu      sync.Mutex
	assigns int
	now     func() time.Time // the workflow clock; t0 when nil
}

func (p *flakyPIM) Assign(_ context.Context, in graph.ActivateInput) (graph.ActivateResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assigns++
	if p.assigns == 1 {
		return graph.ActivateResult{}, &graph.Error{Op: "assign", Status: 429, Code: "TooManyRequests", Message: "slow down"}
	}
	now := t0
	if p.now != nil {
		now = p.now()
	}
	return graph.ActivateResult{GraphRequestID: "graph-1", EndDateTime: now.Add(in.Duration)}, nil
}

func (p *flakyPIM) Remove(context.Context, graph.DeactivateInput) (graph.DeactivateResult, error) {
	return graph.DeactivateResult{GraphRequestID: "graph-2"}, nil
}

func (p *flakyPIM) Extend(_ context.Context, in graph.ExtendInput) (graph.ExtendResult, error) {
	return graph.ExtendResult{EndDateTime: in.EndDateTime}, nil
}

func (p *flakyPIM) Instances(context.Context, graph.Assignment) ([]graph.Instance, error) {
	return nil, nil
}

func (p *flakyPIM) Eligible(context.Context, graph.Assignment) (graph.EligibilityResult, error) {
	return graph.EligibilityResult{Eligible: true}, nil
}

// meteredRequest is a test environment whose worker feeds m: it runs the
// real request workflow (accepting proofs signed with keys) with a
// throttled Graph, a flaky mailer and grants held at once.
func meteredRequest(t *testing.T) (*telemetry.Metrics, *testsuite.TestWorkflowEnvironment, *proof.Keys) {
	t.Helper()
	m := telemetry.New()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{m.WorkerInterceptor()}})
	keys := testProofKeys(t)
	env.RegisterWorkflowWithOptions(workflows.NewTrust(keys).AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
	env.RegisterActivity(&activities.Activities{PIM: &flakyPIM{}, Mailer: &flakyMailer{seen: map[string]bool{}}})
	registerGrants(env)
	return m, env, keys
}

// registerGrants stands in for the assignment workflow, which holds the
// role for the request (TestWorkerInterceptorCountsGraphErrors runs the
// real one).
func registerGrants(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterActivityWithOptions(func(_ context.Context, in assignments.HoldInput) (assignments.HoldResult, error) {
		until := env.Now().Add(in.Duration)
		return assignments.HoldResult{Until: until, EntraEnd: until, Activation: &graph.ActivateResult{GraphRequestID: "graph-1", EndDateTime: until}}, nil
	}, activity.RegisterOptions{Name: assignments.ActivityHoldGrant})
	env.RegisterActivityWithOptions(func(context.Context, assignments.ReleaseInput) (assignments.ReleaseResult, error) {
		return assignments.ReleaseResult{Removal: &graph.DeactivateResult{GraphRequestID: "graph-2"}}, nil
	}, activity.RegisterOptions{Name: assignments.ActivityReleaseGrant})
}

// flakyMailer fails every first attempt of an email kind, and rejects the
// expiry email for good.
type flakyMailer struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *flakyMailer) Send(_ context.Context, msg activities.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[msg.Key] {
		return nil
	}
	m.seen[msg.Key] = true
	return errors.New("mail relay unavailable")
}

// TestWorkerInterceptorCountsARequest runs a request through the real
// workflow and activities (with a throttled Graph and a flaky mailer) and
// checks the series the interceptor fed.
func TestWorkerInterceptorCountsARequest(t *testing.T) {
	m, env, keys := meteredRequest(t)
	// Bob stays silent; carol approves after the escalation.
	env.RegisterDelayedCallback(func() {
		in, err := workflows.DecideInput{ApproverID: carol.ID, Decision: api.DecisionApprove, Comment: "ok"}.
			Sign(keys, proof.Statement{RequestID: readerInput().RequestID, Channel: proof.ChannelAPI}, env.Now())
		if err != nil {
			t.Fatal(err)
		}
		env.UpdateWorkflow(workflows.UpdateDecide, "carol", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { t.Errorf("carol's approval rejected: %v", err) }, OnComplete: func(any, error) {}}, in)
	}, 30*time.Second)
	// While the role is held, the assignment workflow reports that a
	// removal keeps failing.
	env.RegisterDelayedCallback(func() {
		p, err := assignments.RemovalProgress{Alert: "removal keeps failing for 10m"}.For(readerInput().RequestID, keys, env.Now())
		if err != nil {
			t.Fatal(err)
		}
		env.SignalWorkflow(assignments.SignalRemoval, p)
	}, 10*time.Minute)
	start, err := readerInput().Sign(keys, proof.Statement{Channel: proof.ChannelAPI}, t0)
	if err != nil {
		t.Fatal(err)
	}
	env.ExecuteWorkflow(workflows.WorkflowName, start)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.Request
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != api.StatusExpired {
		t.Fatalf("result %+v, %v; want expired", res, err)
	}

	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"decisions reader/approve", testutil.ToFloat64(m.Decisions.WithLabelValues("reader", "approve")), 1},
		{"escalations reader", testutil.ToFloat64(m.Escalations.WithLabelValues("reader")), 1},
		{"removal alerts reader", testutil.ToFloat64(m.RemovalAlerts.WithLabelValues("reader")), 1},
		{"transitions reader/pending", testutil.ToFloat64(m.Transitions.WithLabelValues("reader", "pending_approval")), 1},
		{"transitions reader/active", testutil.ToFloat64(m.Transitions.WithLabelValues("reader", "active")), 1},
		{"transitions reader/expired", testutil.ToFloat64(m.Transitions.WithLabelValues("reader", "expired")), 1},
		{"mail failures active", testutil.ToFloat64(m.MailFailures.WithLabelValues(activities.MailActive, "retryable")), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.TimeToDecision); n != 1 {
		t.Errorf("time_to_decision series = %d, want 1", n)
	}
	if n := testutil.CollectAndCount(m.ApproveToActive); n != 1 {
		t.Errorf("approve_to_active series = %d, want 1", n)
	}
}

// TestWorkerInterceptorCountsGraphErrors runs the assignment workflow, which
// activates the role for requests, against a Graph that throttles the
// first assignment: the interceptor counts the refusal by status and code.
func TestWorkerInterceptorCountsGraphErrors(t *testing.T) {
	m := telemetry.New()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	// Local activities' deadlines are checked against the real clock: a
	// start time in the future keeps them from expiring at once.
	env.SetStartTime(time.Date(2036, 1, 1, 9, 0, 0, 0, time.UTC))
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{m.WorkerInterceptor()}})
	keys := testProofKeys(t)
	env.RegisterWorkflowWithOptions(assignments.Workflow(keys), workflow.RegisterOptions{Name: assignments.WorkflowName})
	env.RegisterActivity(&activities.Activities{PIM: &flakyPIM{now: env.Now}})
	target := graph.Assignment{PrincipalID: alice.ID, RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"}
	var held, released error = errors.New("hold not answered"), errors.New("release not answered")
	env.RegisterDelayedCallback(func() {
		in, err := assignments.HoldInput{RequestID: "req-metrics", Assignment: target, Duration: time.Hour}.
			Sign(keys, proof.Statement{Channel: proof.ChannelWorker}, env.Now())
		if err != nil {
			t.Fatal(err)
		}
		env.UpdateWorkflow(assignments.UpdateHold, "hold", &testsuite.TestUpdateCallback{OnAccept: func() {},
			OnReject: func(err error) { held = err }, OnComplete: func(_ any, err error) { held = err }}, in)
	}, 0)
	env.RegisterDelayedCallback(func() {
		in := assignments.ReleaseInput{RequestID: "req-metrics", Assignment: target, Reason: "revoked"}
		var err error
		if in.Proof, err = keys.SignInput(in, proof.Statement{Channel: proof.ChannelWorker}, env.Now()); err != nil {
			t.Fatal(err)
		}
		env.UpdateWorkflow(assignments.UpdateRelease, "release", &testsuite.TestUpdateCallback{OnAccept: func() {},
			OnReject: func(err error) { released = err }, OnComplete: func(_ any, err error) { released = err }}, in)
	}, 30*time.Minute)
	env.ExecuteWorkflow(assignments.WorkflowName, assignments.Input{Assignment: target})
	if held != nil || released != nil {
		t.Fatalf("hold: %v; release: %v", held, released)
	}
	if got := testutil.ToFloat64(m.GraphErrors.WithLabelValues("Activate", "429", "TooManyRequests")); got != 1 {
		t.Errorf("graph errors Activate/429 = %v, want 1", got)
	}
}

// testProofKeys are the proof keys of a one-key list: the workflow
// accepts only starts and updates signed with them.
func testProofKeys(t *testing.T) *proof.Keys {
	t.Helper()
	ks, err := approvals.NewKeySet(approvals.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return proof.FromKeySet(ks)
}
