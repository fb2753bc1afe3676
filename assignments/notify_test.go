package assignments_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
)

// signals is a Temporal client that keeps the signals sent to it; ids in
// gone answer NotFound, as Temporal does for a workflow that ended.
type signals struct {
	client.Client
	gone map[string]bool
	fail error
	got  map[string]assignments.RemovalProgress
}

func (c *signals) SignalWorkflow(_ context.Context, id, _, name string, arg any) error {
	if c.fail != nil {
		return c.fail
	}
	if c.gone[id] {
		return serviceerror.NewNotFound("workflow execution already completed")
	}
	if name != assignments.SignalRemoval {
		return errors.New("unexpected signal " + name)
	}
	c.got[id] = arg.(assignments.RemovalProgress)
	return nil
}

// TestNotifyRequestsSignsEachNotice: each request gets the progress
// addressed to it with a worker's proof that holds for it alone; a request
// that is gone is skipped; any other failure is returned for a retry.
func TestNotifyRequestsSignsEachNotice(t *testing.T) {
	c := &signals{gone: map[string]bool{"req-gone": true}, got: map[string]assignments.RemovalProgress{}}
	g := &assignments.Grants{Client: c, Keys: testProofs}
	ended := assignments.RemovalProgress{Ended: &assignments.ReleaseResult{Removal: &graph.DeactivateResult{GraphRequestID: "graph-remove"}}}
	err := g.NotifyRequests(context.Background(), assignments.NoticeInput{RequestIDs: []string{"req-a", "req-gone", "req-b"}, Progress: ended})
	require.NoError(t, err)
	require.Len(t, c.got, 2)
	now := time.Now()
	for _, id := range []string{"req-a", "req-b"} {
		p := c.got[id]
		require.Equal(t, id, p.RequestID)
		require.Equal(t, "graph-remove", p.Ended.Removal.GraphRequestID)
		require.NoError(t, testProofs.VerifyInput(id, p, now))
	}
	require.Error(t, testProofs.VerifyInput("req-b", c.got["req-a"], now), "a notice's proof holds for its own request only")
	changed := c.got["req-a"]
	changed.Ended = &assignments.ReleaseResult{Remaining: 1}
	require.Error(t, testProofs.VerifyInput("req-a", changed, now), "the proof covers what the notice says")

	c.fail = serviceerror.NewUnavailable("frontend down")
	require.Error(t, g.NotifyRequests(context.Background(), assignments.NoticeInput{RequestIDs: []string{"req-a"}, Progress: ended}))
}
