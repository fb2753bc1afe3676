//go:build !production

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/jitflow/jitflow/internal/bench"
	"github.com/jitflow/jitflow/internal/devstack"
	"github.com/jitflow/jitflow/internal/devtemporal"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/server"
)

// benchRateLimit lifts the API's per-caller limit in the bench's own
// stack: the approver alone makes every approval.
var benchRateLimit = server.RateLimit{PerSecond: 1e6, Burst: 1e6}

// target starts the bench's own stack, or connects to the one at --api.
// stop releases what it made.
func (bf *benchFlags) target(ctx context.Context, log *slog.Logger) (bench.Target, func(), error) {
	if bf.api != "" {
		return bf.remote(ctx, log)
	}
	return bf.ownStack(ctx, log)
}

func (bf *benchFlags) ownStack(ctx context.Context, log *slog.Logger) (bench.Target, func(), error) {
	requesters := bf.cfg.Requests
	if bf.cfg.Pending > 0 {
		requesters = min(bf.cfg.Pending, bf.cfg.Concurrency)
	}
	pol, names, err := bench.Policy(requesters)
	if err != nil {
		return bench.Target{}, nil, err
	}
	bf.cfg.Role, bf.cfg.Requesters = bench.PolicyRole, names
	bf.cfg.Approver, bf.cfg.Operator = bench.PolicyApprover, bench.PolicyOperator
	dir, cleanup := bf.dataDir, func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "jitflow-bench-"); err != nil {
			return bench.Target{}, nil, fmt.Errorf("temporary data dir: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
	}
	limitMemory()
	stores := devtemporal.NewRequestCounter()
	external := bf.externalWorkers()
	st, err := devstack.Start(ctx, devstack.Options{
		DataDir: dir, HTTPAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", NoUI: true,
		TemporalAddress: bf.temporal, NoWorker: external,
		Policy: pol, Namespace: bf.namespace, Retention: 24 * time.Hour, Logger: log,
		RateLimit: benchRateLimit,
		Mailer:    &bench.MailCounter{},
		// The emulator stands in for Entra: keeping its state in memory
		// keeps its file writes out of jitflow's numbers.
		ConfigureGraph: func(o *graphemu.Options) { o.StatePath, o.MinActiveTime = "", 0 },
		// Counts the embedded Temporal server's store writes.
		TemporalMetrics: stores.Handler(),
	})
	if err != nil {
		cleanup()
		if bf.temporal != "" {
			return bench.Target{}, nil, fmt.Errorf("--temporal-address %s: %w", bf.temporal, err)
		}
		return bench.Target{}, nil, err
	}
	stops := []func(){cleanup, st.Stop}
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if err := awaitHealthy(ctx, st.APIURL); err != nil {
		stop()
		return bench.Target{}, nil, err
	}
	if external {
		ws, err := bf.workerSetup(st, dir)
		if err != nil {
			stop()
			return bench.Target{}, nil, err
		}
		if bf.cfg.Progress != nil {
			fmt.Fprintf(bf.cfg.Progress, "jitflow bench: starting %d worker processes against %s\n", bf.workers, st.TemporalAddr)
		}
		workers, err := startWorkers(ctx, bf.workers, ws, bf.logLevel(), os.Stderr)
		if err != nil {
			stop()
			return bench.Target{}, nil, err
		}
		stops = append(stops, workers.stop)
	}
	c, err := bf.dialTemporal(ctx, st.TemporalAddr, log)
	if err != nil {
		stop()
		return bench.Target{}, nil, err
	}
	stops = append(stops, c.Close)
	tgt := bench.Target{
		APIURL:    st.APIURL,
		Removals:  func(context.Context) ([]graphemu.Removal, error) { return st.Graph.Removals(), nil },
		Instances: func(context.Context) ([]graphemu.Instance, error) { return st.Graph.Instances(), nil },
		Temporal:  c,
		// With workers in other processes, this process's peak RSS is
		// not the system's.
		InProcess: !external,
	}
	if bf.temporal == "" {
		// The in-process count reads the embedded server only; another
		// Temporal service is read with --temporal-metrics-url.
		tgt.DataDir, tgt.Store = dir, bench.CountedStore(stores.Counts)
	}
	return tgt, stop, nil
}

// workerSetup is what the worker processes need to serve the stack st,
// whose data dir is dir.
func (bf *benchFlags) workerSetup(st *devstack.Stack, dir string) (workerSetup, error) {
	// The stack made its key list in its data dir; its API server signs
	// with it, and the workers must check with the same list.
	keys := filepath.Join(dir, "approval-keys")
	if _, err := os.Stat(keys); err != nil {
		return workerSetup{}, fmt.Errorf("the key list the workers need: %w", err)
	}
	return workerSetup{temporal: st.TemporalAddr, namespace: bf.namespace, keysFile: keys, apiURL: st.APIURL, graphURL: st.GraphURL}, nil
}

func (bf *benchFlags) remote(ctx context.Context, log *slog.Logger) (bench.Target, func(), error) {
	tgt := bench.Target{APIURL: bf.api, Removals: bench.RemovalsFromURL(bf.graphURL), Instances: bench.InstancesFromURL(bf.graphURL), DataDir: bf.dataDir}
	if err := awaitHealthy(ctx, bf.api); err != nil {
		return tgt, nil, err
	}
	if bf.temporal == "" {
		return tgt, func() {}, nil
	}
	c, err := bf.dialTemporal(ctx, bf.temporal, log)
	if err != nil {
		return tgt, nil, fmt.Errorf("--temporal-address %s: %w", bf.temporal, err)
	}
	tgt.Temporal = c
	return tgt, c.Close, nil
}

// dialTemporal connects the baseline's own client, without jitflow's
// metrics and interceptors: the baseline is bare Temporal.
func (bf *benchFlags) dialTemporal(ctx context.Context, addr string, log *slog.Logger) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: bf.namespace,
		Logger: sdklog.NewStructuredLogger(log.With("component", "bench-baseline"))})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", addr, err)
	}
	return c, nil
}

// awaitHealthy waits until GET /healthz answers 200.
func awaitHealthy(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 5 * time.Second}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return fmt.Errorf("--api %s: %w", base, err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s/healthz is not ready (%s): %w", base, last, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
