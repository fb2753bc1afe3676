package telemetry

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// sdkBuckets are the histogram buckets of the SDK's timers, in seconds:
// from a fast local call to a long poll.
var sdkBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// sdkMetrics collects what the Temporal SDK reports through
// client.MetricsHandler. The SDK names its metrics freely and tags the same
// name with different tag sets (a client call has no task queue, a worker's
// has), which Prometheus forbids inside one family; the collector keeps
// every series as reported and, when exporting, gives each family the union
// of its label names, with "" where a series lacks one.
type sdkMetrics struct {
	mu       sync.Mutex
	families map[string]*sdkFamily
}

type sdkKind int

const (
	sdkCounter sdkKind = iota
	sdkGauge
	sdkTimer
)

type sdkFamily struct {
	kind   sdkKind
	series map[string]*sdkSeries // by encoded label set
}

type sdkSeries struct {
	labels  map[string]string
	value   float64  // counter total or gauge value
	count   uint64   // timer observations
	sum     float64  // timer seconds
	buckets []uint64 // timer observations per bucket (not cumulative)
}

func newSDKMetrics() *sdkMetrics {
	return &sdkMetrics{families: map[string]*sdkFamily{}}
}

// series finds or creates the series of name with these labels. A name the
// SDK reuses for another kind keeps its first kind; the later use is
// dropped rather than mislabelled.
func (m *sdkMetrics) series(name string, kind sdkKind, labels map[string]string) *sdkSeries {
	f := m.families[name]
	if f == nil {
		f = &sdkFamily{kind: kind, series: map[string]*sdkSeries{}}
		m.families[name] = f
	}
	if f.kind != kind {
		return nil
	}
	key := labelKey(labels)
	s := f.series[key]
	if s == nil {
		s = &sdkSeries{labels: labels}
		if kind == sdkTimer {
			s.buckets = make([]uint64, len(sdkBuckets))
		}
		f.series[key] = s
	}
	return s
}

func labelKey(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(labels[k])
		b.WriteByte(0)
	}
	return b.String()
}

// Describe sends nothing: the families are only known as the SDK reports
// them, so the collector is unchecked.
func (m *sdkMetrics) Describe(chan<- *prometheus.Desc) {}

// Collect exports every family with a consistent label set.
func (m *sdkMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, f := range m.families {
		names := f.labelNames()
		var desc *prometheus.Desc
		switch f.kind {
		case sdkCounter:
			desc = prometheus.NewDesc(promName(name, "_total"), "Temporal SDK counter "+name+".", names, nil)
		case sdkGauge:
			desc = prometheus.NewDesc(promName(name, ""), "Temporal SDK gauge "+name+".", names, nil)
		case sdkTimer:
			desc = prometheus.NewDesc(promName(name, "_seconds"), "Temporal SDK timer "+name+", in seconds.", names, nil)
		}
		for _, s := range f.series {
			values := make([]string, len(names))
			for i, n := range names {
				values[i] = s.labels[n]
			}
			switch f.kind {
			case sdkCounter:
				ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, s.value, values...)
			case sdkGauge:
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.value, values...)
			case sdkTimer:
				cumulative := map[float64]uint64{}
				var n uint64
				for i, ub := range sdkBuckets {
					n += s.buckets[i]
					cumulative[ub] = n
				}
				ch <- prometheus.MustNewConstHistogram(desc, s.count, s.sum, cumulative, values...)
			}
		}
	}
}

func (f *sdkFamily) labelNames() []string {
	set := map[string]bool{}
	for _, s := range f.series {
		for k := range s.labels {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// promName makes an SDK name a valid Prometheus name with the unit suffix
// Prometheus expects.
func promName(name, suffix string) string {
	b := []byte(name)
	for i, c := range b {
		ok := c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			b[i] = '_'
		}
	}
	out := string(b)
	if !strings.HasSuffix(out, suffix) {
		out += suffix
	}
	return out
}

// sdkHandler is the client.MetricsHandler view of sdkMetrics with a set of
// tags.
type sdkHandler struct {
	m    *sdkMetrics
	tags map[string]string
}

var _ client.MetricsHandler = sdkHandler{}

// WithTags returns a handler whose metrics carry tags on top of h's.
func (h sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	for k, v := range tags {
		merged[promName(k, "")] = v
	}
	return sdkHandler{m: h.m, tags: merged}
}

func (h sdkHandler) update(name string, kind sdkKind, apply func(*sdkSeries)) {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if s := h.m.series(name, kind, h.tags); s != nil {
		apply(s)
	}
}

// Counter returns the counter name with h's tags.
func (h sdkHandler) Counter(name string) client.MetricsCounter {
	return counterFunc(func(d int64) {
		h.update(name, sdkCounter, func(s *sdkSeries) { s.value += float64(d) })
	})
}

// Gauge returns the gauge name with h's tags.
func (h sdkHandler) Gauge(name string) client.MetricsGauge {
	return gaugeFunc(func(v float64) {
		h.update(name, sdkGauge, func(s *sdkSeries) { s.value = v })
	})
}

// Timer returns the timer name with h's tags, exported as a histogram.
func (h sdkHandler) Timer(name string) client.MetricsTimer {
	return timerFunc(func(d time.Duration) {
		sec := d.Seconds()
		h.update(name, sdkTimer, func(s *sdkSeries) {
			s.count++
			s.sum += sec
			for i, ub := range sdkBuckets {
				if sec <= ub {
					s.buckets[i]++
					break
				}
			}
		})
	})
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
