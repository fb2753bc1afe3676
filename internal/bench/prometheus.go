package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// The Temporal server's counters of store requests as its Prometheus
// endpoint names them: a configured prefix may come before, and an
// OpenTelemetry exporter adds "_total" after.
const (
	promStoreRequests      = "persistence_requests"
	promVisibilityRequests = "visibility_persistence_requests"
	promOperationLabel     = "operation"
)

// ScrapedStore reads a Temporal server's store requests from its
// Prometheus endpoint (metricsURL, e.g. http://temporal:9090/metrics).
func ScrapedStore(metricsURL string) StoreMeter {
	hc := &http.Client{Timeout: 30 * time.Second}
	return func(ctx context.Context) (StoreCounts, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
		if err != nil {
			return StoreCounts{}, fmt.Errorf("--temporal-metrics-url %s: %w", metricsURL, err)
		}
		req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		resp, err := hc.Do(req)
		if err != nil {
			return StoreCounts{}, fmt.Errorf("--temporal-metrics-url %s: %w", metricsURL, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return StoreCounts{}, fmt.Errorf("--temporal-metrics-url %s: answered %s", metricsURL, resp.Status)
		}
		counts, err := parseStoreCounts(resp.Body)
		if err != nil {
			return StoreCounts{}, fmt.Errorf("--temporal-metrics-url %s: %w", metricsURL, err)
		}
		return counts, nil
	}
}

// parseStoreCounts sums the store request counters of a Prometheus text
// exposition by operation. An exposition without them is an error: the
// URL is then not a Temporal server's metrics, or they are turned off.
func parseStoreCounts(r io.Reader) (StoreCounts, error) {
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return StoreCounts{}, fmt.Errorf("not Prometheus text format: %w", err)
	}
	out := StoreCounts{Main: map[string]int64{}, Visibility: map[string]int64{}}
	found := false
	for name, f := range families {
		name = strings.TrimSuffix(name, "_total")
		var into map[string]int64
		switch {
		case strings.HasSuffix(name, promVisibilityRequests):
			into = out.Visibility
		case strings.HasSuffix(name, promStoreRequests):
			into = out.Main
		default:
			continue
		}
		found = true
		for _, m := range f.GetMetric() {
			into[label(m, promOperationLabel)] += int64(value(m))
		}
	}
	if !found {
		return StoreCounts{}, fmt.Errorf("no %s or %s counter: give the Temporal server's own metrics endpoint", promStoreRequests, promVisibilityRequests)
	}
	return out, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// value reads a counter, or an untyped sample (tally's exposition).
func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetUntyped().GetValue()
}
