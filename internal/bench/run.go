package bench

import (
	"context"
	"fmt"
)

// Run measures latency, throughput and expiry through the API, then the
// baseline on the same Temporal server when tgt has a client.
func Run(ctx context.Context, cfg Config, tgt Target) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out := &Result{Requests: cfg.Requests, Concurrency: cfg.Concurrency, Grant: cfg.Grant, ExpireTogether: cfg.ExpireTogether, Load: Load{Before: loadAverage()}}
	a := newAPI(tgt.APIURL, cfg.Concurrency)
	tok, err := getTokens(ctx, a, cfg)
	if err != nil {
		return nil, err
	}
	cfg.progress("latency: %d requests, one at a time", cfg.Latency)
	if out.ApproveToActive, err = latency(ctx, a, cfg, tok); err != nil {
		return nil, err
	}
	cfg.progress("throughput: %d lifecycles, %d at a time, grant %s", cfg.Requests, cfg.Concurrency, cfg.Grant)
	store, err := startStoreWindow(ctx, tgt.Store)
	if err != nil {
		return nil, err
	}
	lc, err := throughput(ctx, a, tgt, cfg, tok)
	if err != nil {
		return nil, err
	}
	out.SubmitPerSec, out.LifecyclesPerSec, out.ExpiryLag, out.ExpirySpread = lc.submitPerSec, lc.lifecyclesPerSec, lc.expiryLag, lc.expirySpread
	out.Throttled, out.Unavailable = a.throttled.Load(), a.unavailable.Load()
	written, err := store.end(ctx)
	if err != nil {
		return nil, err
	}
	if tgt.Temporal != nil {
		cfg.progress("work: reading the histories of the throughput phase")
		var notes []string
		if out.Work, notes, err = jitflowWork(ctx, tgt.Temporal, lc.grants); err != nil {
			return nil, fmt.Errorf("work: %w", err)
		}
		out.Work.Store = written
		out.Notes = append(out.Notes, notes...)
		cfg.progress("baseline: the bare workflow, same counts")
		if out.Baseline, err = baseline(ctx, tgt.Temporal, tgt.Store, cfg); err != nil {
			return nil, err
		}
	} else {
		out.Notes = append(out.Notes,
			"baseline skipped: no Temporal server to run it on (give --temporal-address)",
			"work not counted: no Temporal server to read the histories from (give --temporal-address)")
	}
	if tgt.Store == nil {
		out.Notes = append(out.Notes, "persistence writes not measured: the Temporal server runs elsewhere (give --temporal-metrics-url)")
	} else if out.Work != nil {
		out.Notes = append(out.Notes, "persistence writes are every write request the Temporal server made to its stores during the phase, whatever it was for")
	}
	if tgt.InProcess {
		rss, err := PeakRSSMB()
		if err != nil {
			return nil, err
		}
		out.RSSMB = &rss
	} else {
		out.Notes = append(out.Notes, "RSS skipped: the system runs in another process")
	}
	if n := len(cfg.Requesters); n < cfg.Requests {
		out.Notes = append(out.Notes, fmt.Sprintf("%d requests shared %d requester(s): jitflow keeps a role through overlapping grants until the last ends, so the expiry lag of the earlier grants includes that wait", cfg.Requests, n))
	}
	if out.Throttled > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("the API answered 429 %d times: its rate limit shaped these numbers (raise --rate-limit/--rate-burst on the target)", out.Throttled))
	}
	out.Load.After = loadAverage()
	return out, nil
}
