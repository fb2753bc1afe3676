// Package crashtest holds jitflow's crash tests: they build the jitflow
// binary (or take the one JITFLOW_BINARY names), run `jitflow dev`,
// `jitflow server` and `jitflow worker` as separate processes, kill them
// with SIGKILL while requests are in flight, and check through the HTTP
// API and the Graph emulator that no decision was lost, no role was
// assigned twice and none was left behind. The package links nothing of
// Temporal's server: everything runs in the processes it starts.
package crashtest
