// Package telemetry holds jitflow's Prometheus metrics and the seams that
// feed them without touching the state machine or the activities: Temporal
// worker interceptors, an adapter for the Temporal SDK's own metrics, and a
// collector that counts requests through Temporal visibility.
package telemetry

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
)

// Namespace prefixes every jitflow series.
const Namespace = "jitflow"

// Buckets for human waits (seconds to a day) and for machine latency.
var (
	decisionBuckets = []float64{5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400}
	latencyBuckets  = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
)

// Metrics is one process's registry with jitflow's series. Every process
// (server, worker, dev) makes one and serves it on /metrics.
type Metrics struct {
	registry *prometheus.Registry
	sdk      *sdkMetrics

	// Worker side: what the workflows and activities did.
	Transitions     *prometheus.CounterVec
	Decisions       *prometheus.CounterVec
	Escalations     *prometheus.CounterVec
	RemovalAlerts   *prometheus.CounterVec
	TimeToDecision  *prometheus.HistogramVec
	ApproveToActive *prometheus.HistogramVec
	GraphErrors     *prometheus.CounterVec
	MailFailures    *prometheus.CounterVec
	ExportedEvents  prometheus.Counter

	// Server side: what callers were refused. Refused updates leave no
	// trace in workflow history, so this and the log are their record.
	Refusals *prometheus.CounterVec

	// Policy reloads (PolicyReloaded): what the server's policy file did.
	PolicyReloads    *prometheus.CounterVec
	PolicyGeneration prometheus.Gauge
	PolicyLastReload *prometheus.GaugeVec
}

// New registers jitflow's series, the Go runtime and process collectors,
// and the adapter for the Temporal SDK's metrics.
func New() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), sdk: newSDKMetrics()}
	m.Transitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "request_transitions_total",
		Help: "Requests that entered a status, by role and status.",
	}, []string{"role", "status"})
	m.Decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "decisions_total",
		Help: "Accepted approver decisions, by role and decision (approve, deny).",
	}, []string{"role", "decision"})
	m.Escalations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "escalations_total",
		Help: "Escalations to a next tier of approvers, by role.",
	}, []string{"role"})
	m.RemovalAlerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "removal_alerts_total",
		Help: "Alerts that removing a role from Entra keeps failing (the workflow keeps retrying), by role; any increase needs a person.",
	}, []string{"role"})
	m.TimeToDecision = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "time_to_decision_seconds",
		Help:    "Time from the ask (a request's creation, or an extension's request) to each accepted decision, by role and decision.",
		Buckets: decisionBuckets,
	}, []string{"role", "decision"})
	m.ApproveToActive = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "approve_to_active_seconds",
		Help:    "Time from the last approval (or a break-glass request's start) to the role being active, by role.",
		Buckets: latencyBuckets,
	}, []string{"role"})
	m.GraphErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "graph_errors_total",
		Help: "Failed Microsoft Graph calls (each activity attempt), by activity, HTTP status and Graph error code.",
	}, []string{"activity", "status", "code"})
	m.MailFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "mail_failures_total",
		Help: "Failed email deliveries (each activity attempt), by email kind and reason (retryable, MailRejected, BadEmail).",
	}, []string{"kind", "reason"})
	m.ExportedEvents = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "audit_exported_events_total",
		Help: "Audit events the continuous exporter delivered to its sink.",
	})
	m.Refusals = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "refusals_total",
		Help: "Calls refused (401 bad token, 403 forbidden, 409 conflict), by method, route template and HTTP status.",
	}, []string{"method", "route", "status"})
	m.PolicyReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "policy_reloads_total",
		Help: "Reloads of a changed policy file, by outcome: applied (now in force) or refused (the file has errors; the old policy stays).",
	}, []string{"outcome"})
	m.PolicyGeneration = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "policy_generation",
		Help: "Generation of the policy in force: 1 for the one loaded at start, one more for each applied reload.",
	})
	m.PolicyLastReload = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "policy_last_reload_timestamp_seconds",
		Help: "When a policy file was last applied (the load at start included) or refused, by outcome, in Unix seconds.",
	}, []string{"outcome"})
	m.registry.MustRegister(
		m.Transitions, m.Decisions, m.Escalations, m.RemovalAlerts, m.TimeToDecision, m.ApproveToActive,
		m.GraphErrors, m.MailFailures, m.ExportedEvents, m.Refusals,
		m.PolicyReloads, m.PolicyGeneration, m.PolicyLastReload,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sdk,
	)
	return m
}

// Register adds another collector (the visibility collector of a server).
func (m *Metrics) Register(c prometheus.Collector) error {
	return m.registry.Register(c)
}

// SDKHandler is the handler to set as client.Options.MetricsHandler, so the
// Temporal SDK's metrics appear on the same /metrics.
func (m *Metrics) SDKHandler() client.MetricsHandler {
	return sdkHandler{m: m.sdk}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gatherer exposes the registry to tests and to other exporters.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.registry }
