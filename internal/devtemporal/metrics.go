package devtemporal

import (
	"maps"
	"sync"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
)

// The server's counters of requests to its stores, one per request and
// tagged with the operation (metrics.OperationTagName).
var (
	persistenceRequests = metrics.PersistenceRequests.Name()
	visibilityRequests  = metrics.VisibilityPersistenceRequests.Name()
)

// RequestCounter is a metrics handler for the embedded server that counts
// the requests it makes to its stores, by operation: the main store
// (executions, history, tasks, shards, queues) apart from the visibility
// store. It records nothing else. Plug it in with Options.MetricsHandler.
type RequestCounter struct {
	mu         sync.Mutex
	main       map[string]int64
	visibility map[string]int64
}

// NewRequestCounter returns a counter with nothing counted.
func NewRequestCounter() *RequestCounter {
	return &RequestCounter{main: map[string]int64{}, visibility: map[string]int64{}}
}

// Counts returns copies of the counts so far, by operation: the main
// store's and the visibility store's.
func (c *RequestCounter) Counts() (main, visibility map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.main), maps.Clone(c.visibility)
}

func (c *RequestCounter) add(metric, operation string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch metric {
	case persistenceRequests:
		c.main[operation] += n
	case visibilityRequests:
		c.visibility[operation] += n
	}
}

// Handler returns the metrics handler that feeds the counter.
func (c *RequestCounter) Handler() metrics.Handler { return counterHandler{c: c} }

// counterHandler is the counter seen through the server's metrics.Handler:
// it carries the operation tag given by WithTags down to the counter.
type counterHandler struct {
	c         *RequestCounter
	operation string
}

func operationOf(op string, tags []metrics.Tag) string {
	for _, t := range tags {
		if t.Key == metrics.OperationTagName {
			op = t.Value
		}
	}
	return op
}

func (h counterHandler) WithTags(tags ...metrics.Tag) metrics.Handler {
	return counterHandler{c: h.c, operation: operationOf(h.operation, tags)}
}

func (h counterHandler) Counter(name string) metrics.CounterIface {
	if name != persistenceRequests && name != visibilityRequests {
		return metrics.NoopCounterMetricFunc
	}
	return metrics.CounterFunc(func(n int64, tags ...metrics.Tag) {
		h.c.add(name, operationOf(h.operation, tags), n)
	})
}

func (counterHandler) Gauge(string) metrics.GaugeIface { return metrics.NoopGaugeMetricFunc }
func (counterHandler) Timer(string) metrics.TimerIface { return metrics.NoopTimerMetricFunc }
func (counterHandler) Histogram(string, metrics.MetricUnit) metrics.HistogramIface {
	return metrics.NoopHistogramMetricFunc
}
func (counterHandler) Stop(log.Logger) {}

func (h counterHandler) StartBatch(string) metrics.BatchHandler { return batch{h} }

// batch sends a batch's metrics one by one.
type batch struct{ counterHandler }

func (batch) Close() error { return nil }
