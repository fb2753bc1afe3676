package telemetry

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/api/workflowservice/v1"
)

// fakeCounter answers counts from a table keyed by role and status, read
// out of the query.
type fakeCounter struct {
	counts map[string]int64
	calls  int
	err    error
}

var queryParts = regexp.MustCompile(`JitflowRole = '([a-z]+)' AND JitflowStatus = '([a-z_]+)'`)

func (f *fakeCounter) CountWorkflow(_ context.Context, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	m := queryParts.FindStringSubmatch(req.GetQuery())
	if m == nil || !strings.HasPrefix(req.GetQuery(), "WorkflowType = 'AccessRequest'") {
		return nil, errors.New("unexpected query " + req.GetQuery())
	}
	return &workflowservice.CountWorkflowExecutionsResponse{Count: f.counts[m[1]+"/"+m[2]]}, nil
}

func TestVisibilityCollector(t *testing.T) {
	fc := &fakeCounter{counts: map[string]int64{"reader/active": 2, "reader/expired": 5, "admin/pending_approval": 1}}
	v := NewVisibilityCollector(fc, []string{"reader", "admin"}, time.Minute)
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	v.now = func() time.Time { return now }
	reg := prometheus.NewRegistry()
	reg.MustRegister(v)

	want := `
# HELP jitflow_active_grants Requests whose role is assigned now (status active), by role.
# TYPE jitflow_active_grants gauge
jitflow_active_grants{role="admin"} 0
jitflow_active_grants{role="reader"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "jitflow_active_grants"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "jitflow_requests"); err != nil || n != 20 {
		t.Errorf("jitflow_requests series = %d, %v; want 2 roles x 10 statuses", n, err)
	}
	calls := fc.calls
	// Within the TTL the counts come from the cache.
	testutil.GatherAndCount(reg, "jitflow_requests")
	if fc.calls != calls {
		t.Errorf("scrape within the TTL asked visibility %d more times", fc.calls-calls)
	}
	// After it, visibility is asked again; a failure shows as a scrape error.
	now = now.Add(2 * time.Minute)
	fc.err = errors.New("visibility unavailable")
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "visibility unavailable") {
		t.Errorf("gather with visibility down: %v", err)
	}
}
