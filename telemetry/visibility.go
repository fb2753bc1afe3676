package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// Counter is the part of client.Client the visibility collector uses.
type Counter interface {
	CountWorkflow(ctx context.Context, request *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error)
}

// VisibilityCollector reports how many requests each role has in each
// status, and the active grants, as Temporal visibility counts them: the
// same numbers whichever server is scraped, however many workers run.
// Counts are cached for TTL so that scrapes do not load visibility.
type VisibilityCollector struct {
	client  Counter
	roles   []string
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	requests *prometheus.Desc
	active   *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	counts  map[[2]string]int64 // role, status
	lastErr error
}

// NewVisibilityCollector counts the requests of roles (the policy's role
// names), refreshing at most every ttl.
func NewVisibilityCollector(c Counter, roles []string, ttl time.Duration) *VisibilityCollector {
	return &VisibilityCollector{
		client: c, roles: roles, ttl: ttl, timeout: 10 * time.Second, now: time.Now,
		requests: prometheus.NewDesc(Namespace+"_requests", "Requests Temporal visibility holds (running, and closed within the namespace retention), by role and status.", []string{"role", "status"}, nil),
		active:   prometheus.NewDesc(Namespace+"_active_grants", "Requests whose role is assigned now (status active), by role.", []string{"role"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (v *VisibilityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- v.requests
	ch <- v.active
}

// Collect implements prometheus.Collector.
func (v *VisibilityCollector) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.counts == nil || v.now().Sub(v.at) >= v.ttl {
		v.refresh()
	}
	if v.lastErr != nil {
		ch <- prometheus.NewInvalidMetric(v.requests, v.lastErr)
		return
	}
	for _, role := range v.roles {
		for _, st := range api.Statuses {
			ch <- prometheus.MustNewConstMetric(v.requests, prometheus.GaugeValue, float64(v.counts[[2]string{role, string(st)}]), role, string(st))
		}
		ch <- prometheus.MustNewConstMetric(v.active, prometheus.GaugeValue, float64(v.counts[[2]string{role, string(api.StatusActive)}]), role)
	}
}

func (v *VisibilityCollector) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), v.timeout)
	defer cancel()
	counts := map[[2]string]int64{}
	for _, role := range v.roles {
		for _, st := range api.Statuses {
			q := fmt.Sprintf("WorkflowType = '%s' AND %s = '%s' AND %s = '%s'", workflows.WorkflowName,
				workflows.SearchRole.GetName(), role, workflows.SearchStatus.GetName(), st)
			resp, err := v.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
			if err != nil {
				v.lastErr = fmt.Errorf("count %s requests in %s: %w", role, st, err)
				return
			}
			counts[[2]string{role, string(st)}] = resp.GetCount()
		}
	}
	v.counts, v.at, v.lastErr = counts, v.now(), nil
}
