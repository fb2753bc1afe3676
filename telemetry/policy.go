package telemetry

import "github.com/jitflow/jitflow/policies"

// PolicyReloaded records one load or reload of the policy file; it is
// meant as policies.LiveOptions.OnReload. The load at start sets the
// generation and the applied timestamp without counting as a reload; an
// unchanged file changes nothing.
func (m *Metrics) PolicyReloaded(r policies.ReloadResult) {
	switch r.Outcome {
	case policies.ReloadApplied, policies.ReloadRefused:
	default:
		return
	}
	// Both outcomes are present from the start, so increase() and alerts on refusals see the first one.
	m.PolicyReloads.WithLabelValues(policies.ReloadApplied)
	m.PolicyReloads.WithLabelValues(policies.ReloadRefused)
	if !r.Initial {
		m.PolicyReloads.WithLabelValues(r.Outcome).Inc()
	}
	m.PolicyGeneration.Set(float64(r.Generation))
	m.PolicyLastReload.WithLabelValues(r.Outcome).Set(float64(r.At.UnixNano()) / 1e9)
}
