//go:build !production

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/internal/bench"
)

// benchFlags are the flags of `jitflow bench`.
type benchFlags struct {
	cfg        bench.Config
	json       bool
	dataDir    string
	api        string
	graphURL   string
	temporal   string
	metricsURL string
	namespace  string
	workers    int
	cpuProfile string
	memProfile string
	logs       logFlags
}

// remoteOnly are the flags that describe a running stack: they mean
// nothing to the bench's own one.
var remoteOnly = []string{"role", "requester", "approver", "operator", "graph-url"}

func benchCommand() *cobra.Command {
	var bf benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the system: approve-to-active latency, throughput, expiry lag, a bare-workflow baseline, memory",
		Long: `bench measures jitflow through its HTTP API with dev tokens.

By default it starts its own stack in this process (embedded Temporal, worker,
API and Graph emulator, no Web UI) in a temporary data dir, with a bench
policy: one role, one approval stage, one requester per grant. Its mail is
counted and dropped, as production hands it to SendGrid, and its Graph
emulator keeps its state in memory: both stand in for outside services. With --api it
measures a running dev stack instead (jitflow dev: role reader, requester
alice, approver bob; --grant must be within the role's durations); the
baseline then needs --temporal-address and the peak RSS is not measured.
A grant ends on its own only when its requester holds no other grant of
the role meanwhile; with fewer --requester than --requests the grants
overlap and the output says so.

Phases:
  latency     --latency requests one at a time: from the approve call until
              the request is active, as the approval's answer says when
              activation was quick, or else GET (polled back to back)
  throughput  --requests lifecycles, --concurrency at a time: submit all,
              approve each and wait for active (for the role in the Graph
              emulator, then for GET to agree: polling every GET would load
              Temporal with a query per poll); each grant (--grant) ends
              expired with its role removed. submit_per_sec counts the POSTs;
              lifecycles_per_sec is requests over first submit to last removal.
              Grants end as they were activated, spread over the approvals;
              with --expire-together each lifecycle runs submit, approve and
              active in turn asking for the time left until --grant
              after the first submit, so all grants end at once (--grant must
              then cover every activation); submit_per_sec is then the pace
              of that pipeline. The baseline does the same.
  expiry      for each grant, from expires_at until jitflow's removal request
              reaches the Graph emulator (GET /_emulator/removals; Entra's own
              expiry of the assignment does not count)
  baseline    a bare workflow of the same shape on its own task queue of the
              same Temporal server: approve-to-active is the update call, which
              returns once the first activity has completed; expiry lag is
              from the timer's end to the second activity
  work        per lifecycle of the throughput phase, for jitflow (its request
              workflow and its share of the assignment workflows its grants
              held, every run, from the first request's start) and for the
              baseline's lifecycles: completed workflow tasks, scheduled
              activities, local activities (their markers), history events,
              visibility writes (each run's start and close, search attribute
              upserts, TemporalChangeVersion's included, memo changes), read
              from the histories; and persistence writes, the write requests
              the Temporal server made to its stores during the phase (all
              stores, and the visibility store's part), counted in process on
              the bench's own server or read from --temporal-metrics-url.
              With --api the histories are read on --temporal-address.
              Assignment workflows linger 10 minutes after their last release:
              the estimated cost of their close is added, and a note says so
  rss         the process's peak RSS (VmHWM): with its own stack, everything

--json prints, as the last line, {"requests","concurrency",
"approve_to_active_ms":{"p50","p99"},"submit_per_sec","lifecycles_per_sec",
"expiry_lag_ms":{"p50","p99","max"},"baseline":{"approve_to_active_ms",
"lifecycles_per_sec","expiry_lag_ms":{"p50","p99","max"}},"overhead_ratio",
"rss_mb","work":{"jitflow":W,"baseline":W}} where W is {"workflow_tasks",
"activities","local_activities","history_events","visibility_writes",
"persistence_writes","visibility_persistence_writes"}, per lifecycle; the
baseline's approve_to_active_ms is its p50, overhead_ratio is the baseline's
lifecycles per second over jitflow's, and what was not measured is null.

--pending N runs instead of those phases: it creates N requests that stay
pending (the approval tier waits a day), then reports the peak RSS, the size
of Temporal's database (temporal.db, -wal, -shm), list latency of
GET /api/v1/requests?status=pending_approval as the approver and as the
operator (--list-calls each), and the submit rate; its --json line is
{"pending","concurrency","submit_per_sec","rss_mb","db_mb",
"list_ms":{"approver":{"p50","p99"},"operator":{"p50","p99"}}}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return bf.run(cmd) },
	}
	f := cmd.Flags()
	f.IntVar(&bf.cfg.Requests, "requests", 300, "lifecycles in the throughput phase")
	f.IntVar(&bf.cfg.Concurrency, "concurrency", 20, "calls in flight at once")
	f.DurationVar(&bf.cfg.Grant, "grant", 5*time.Second, "grant length of the throughput phase (at least 1s)")
	f.BoolVar(&bf.cfg.ExpireTogether, "expire-together", false, "run each lifecycle's submit, approve and active in turn, each asking for the time left until --grant after the first submit, so that every grant ends at once")
	f.IntVar(&bf.cfg.Latency, "latency", 50, "requests approved one at a time in the latency phase")
	f.IntVar(&bf.cfg.Pending, "pending", 0, "instead of the other phases, hold this many pending requests and measure memory, database and list latency")
	f.IntVar(&bf.cfg.ListCalls, "list-calls", 20, "list calls timed per user with --pending")
	f.BoolVar(&bf.json, "json", false, "print the results as one JSON line after the table")
	f.StringVar(&bf.dataDir, "data-dir", "", "data dir of the bench's own stack, kept afterwards (default: a temporary dir, removed); with --api, the target's data dir, to measure its database")
	f.StringVar(&bf.api, "api", "", "measure the running stack at this URL (e.g. http://127.0.0.1:8080 of jitflow dev) instead of starting one")
	f.StringVar(&bf.graphURL, "graph-url", "", "with --api: the target's Graph emulator (e.g. http://127.0.0.1:8091)")
	f.StringVar(&bf.temporal, "temporal-address", "", "with --api: the target's Temporal frontend host:port, to run the baseline on it; without --api: an existing Temporal service (host:port, plain gRPC, --namespace created there) that the bench's own server, workers and baseline use instead of the embedded one")
	f.StringVar(&bf.metricsURL, "temporal-metrics-url", "", "with --temporal-address: the Temporal server's Prometheus endpoint (e.g. http://127.0.0.1:9090/metrics), read before and after each phase to count its store writes")
	f.IntVar(&bf.workers, "workers", 1, "run `N` jitflow worker processes of this binary for the bench's own stack (1 to 64); with the embedded Temporal, 1 keeps the worker in this process instead")
	f.StringVar(&bf.namespace, "namespace", "default", "Temporal namespace")
	f.StringVar(&bf.cfg.Role, "role", "reader", "with --api: the role to request")
	f.StringSliceVar(&bf.cfg.Requesters, "requester", []string{"alice"}, "with --api: dev users who request, in turn (comma-separated or repeated)")
	f.StringVar(&bf.cfg.Approver, "approver", "bob", "with --api: the dev user who approves")
	f.StringVar(&bf.cfg.Operator, "operator", "dave", "with --api: a dev operator, who lists every request (\"\" for none)")
	f.StringVar(&bf.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	f.StringVar(&bf.memProfile, "memprofile", "", "write a heap profile to this file while the load is at its height")
	bf.logs.register(f, "text", "error")
	return cmd
}

func (bf *benchFlags) run(cmd *cobra.Command) error {
	if err := bf.validate(cmd); err != nil {
		return err
	}
	log, err := bf.logs.logger()
	if err != nil {
		return err
	}
	if bf.cpuProfile != "" {
		stop, err := startCPUProfile(bf.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	bf.cfg.Progress = cmd.ErrOrStderr()
	if bf.memProfile != "" {
		bf.cfg.AtPeak = func() error { return writeHeapProfile(bf.memProfile) }
	}
	ctx := cmd.Context()
	tgt, stop, err := bf.target(ctx, log)
	if err != nil {
		return err
	}
	defer stop()
	if bf.metricsURL != "" {
		tgt.Store = bench.ScrapedStore(bf.metricsURL)
	}
	res, err := bf.measure(ctx, tgt)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("bench interrupted: %w", ctx.Err())
		}
		return err
	}
	return report(cmd.OutOrStdout(), bf.described(res), bf.json)
}

// validate checks the flags before anything starts.
func (bf *benchFlags) validate(cmd *cobra.Command) error {
	if err := bf.cfg.Validate(); err != nil {
		return err
	}
	if bf.metricsURL != "" {
		if bf.temporal == "" {
			return fmt.Errorf("--temporal-metrics-url %s: applies only with --temporal-address (the bench's own Temporal server is counted in process)", bf.metricsURL)
		}
		if err := httpURL("temporal-metrics-url", bf.metricsURL, "http://127.0.0.1:9090/metrics"); err != nil {
			return err
		}
	}
	if bf.api == "" {
		for _, name := range remoteOnly {
			if cmd.Flags().Changed(name) {
				return fmt.Errorf("--%s: applies only with --api (the bench's own stack has its own policy and emulator)", name)
			}
		}
		return bf.validateOwnStack()
	}
	if err := validateTemporalAddress(bf.temporal); err != nil {
		return err
	}
	if cmd.Flags().Changed("workers") {
		return fmt.Errorf("--workers %d: applies only to the bench's own stack, not with --api (the target runs its own workers)", bf.workers)
	}
	for _, u := range []struct{ flag, value string }{{"api", bf.api}, {"graph-url", bf.graphURL}} {
		if err := httpURL(u.flag, u.value, "http://127.0.0.1:8091 (with --api, --graph-url is required to measure removals)"); err != nil {
			return err
		}
	}
	return nil
}

// httpURL checks that the flag's value is an http(s) URL.
func httpURL(flag, value, example string) error {
	p, err := url.Parse(value)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("--%s %q: give an http(s) URL such as %s", flag, value, example)
	}
	return nil
}

// measure runs the pending phase or the lifecycle phases.
func (bf *benchFlags) measure(ctx context.Context, tgt bench.Target) (tabled, error) {
	if bf.cfg.Pending > 0 {
		return bench.RunPending(ctx, bf.cfg, tgt)
	}
	return bench.Run(ctx, bf.cfg, tgt)
}

// tabled is a result that prints as a table and a JSON line.
type tabled interface {
	WriteTable(io.Writer) error
	json.Marshaler
}

func report(w io.Writer, res tabled, asJSON bool) error {
	if err := res.WriteTable(w); err != nil {
		return err
	}
	if !asJSON {
		return nil
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile collects garbage first so the profile shows what is
// live, not what was waiting to be freed.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC()
	err = pprof.WriteHeapProfile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return nil
}
