package telemetry_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// An extension's decision counts from the extension's ask, not from the
// request's creation: bob approves the request after 10s and, half an hour
// later, its extension 40s after alice asked.
func TestTimeToDecisionOfAnExtension(t *testing.T) {
	m, env, keys := meteredRequest(t)
	st := proof.Statement{RequestID: readerInput().RequestID, Channel: proof.ChannelAPI}
	update := func(at time.Duration, name string, sign func() (any, error)) {
		env.RegisterDelayedCallback(func() {
			in, err := sign()
			if err != nil {
				t.Fatal(err)
			}
			env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{OnAccept: func() {}, OnReject: func(err error) { t.Errorf("%s rejected: %v", name, err) }, OnComplete: func(any, error) {}}, in)
		}, at)
	}
	decide := func() (any, error) {
		return workflows.DecideInput{ApproverID: bob.ID, Decision: api.DecisionApprove}.Sign(keys, st, env.Now())
	}
	update(10*time.Second, workflows.UpdateDecide, decide)
	update(30*time.Minute, workflows.UpdateExtend, func() (any, error) {
		return workflows.ExtendInput{Actor: alice, Duration: 30 * time.Minute, Justification: "more"}.Sign(keys, st, env.Now())
	})
	update(30*time.Minute+40*time.Second, workflows.UpdateDecide, decide)
	start, err := readerInput().Sign(keys, proof.Statement{Channel: proof.ChannelAPI}, t0)
	if err != nil {
		t.Fatal(err)
	}
	env.ExecuteWorkflow(workflows.WorkflowName, start)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}

	var got dto.Metric
	if err := m.TimeToDecision.WithLabelValues("reader", "approve").(prometheus.Histogram).Write(&got); err != nil {
		t.Fatal(err)
	}
	if n, sum := got.GetHistogram().GetSampleCount(), got.GetHistogram().GetSampleSum(); n != 2 || sum != 50 {
		t.Errorf("time_to_decision: %d samples summing to %vs, want 2 summing to 50s (10s for the request, 40s for its extension)", n, sum)
	}
}
