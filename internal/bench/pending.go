package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// pendingDuration is what pending requests ask for; they are never
// approved, so it only has to be allowed.
const pendingDuration = time.Hour

// listVisibleWait bounds the wait for the listing to show the pending
// requests: visibility follows the workflows' state a moment later.
const listVisibleWait = time.Minute

// RunPending creates cfg.Pending requests and leaves them pending, then
// measures the process's memory, the database and list latency.
func RunPending(ctx context.Context, cfg Config, tgt Target) (*PendingResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Pending < 1 {
		return nil, fmt.Errorf("--pending %d: must be at least 1", cfg.Pending)
	}
	out := &PendingResult{Pending: cfg.Pending, Concurrency: cfg.Concurrency, Load: Load{Before: loadAverage()}}
	a := newAPI(tgt.APIURL, cfg.Concurrency)
	tok, err := getTokens(ctx, a, cfg)
	if err != nil {
		return nil, err
	}
	cfg.progress("pending: submitting %d requests, %d at a time", cfg.Pending, cfg.Concurrency)
	start := time.Now()
	var last atomic.Pointer[workflows.Request]
	err = parallel(ctx, cfg.Concurrency, cfg.Pending, func(ctx context.Context, i int) error {
		req, err := a.create(ctx, tok.requesters[i%len(tok.requesters)], cfg.Role, pendingDuration)
		last.Store(&req)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pending: submit: %w", err)
	}
	out.SubmitPerSec = perSecond(cfg.Pending, time.Since(start))
	cfg.progress("pending: %d submitted (%.1f/s); waiting until the system has worked off the burst", cfg.Pending, out.SubmitPerSec)
	settled, err := settle(ctx, a, tok.approver, last.Load().ID)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	out.Notes = append(out.Notes, fmt.Sprintf("the last request submitted answered GET %s after the last submit; lists are timed from then", settled.Round(time.Second)))
	cfg.progress("pending: settled after %s; listing", settled.Round(time.Second))
	if out.ListApprover, err = listLatency(ctx, a, tok.approver, cfg); err != nil {
		return nil, fmt.Errorf("pending: list as %s: %w", cfg.Approver, err)
	}
	if tok.operator != "" {
		if out.ListOperator, err = listLatency(ctx, a, tok.operator, cfg); err != nil {
			return nil, fmt.Errorf("pending: list as %s: %w", cfg.Operator, err)
		}
	} else {
		out.Notes = append(out.Notes, "list as operator skipped: no --operator")
	}
	if cfg.AtPeak != nil {
		if err := cfg.AtPeak(); err != nil {
			return nil, err
		}
	}
	if err := pendingFootprint(tgt, out); err != nil {
		return nil, err
	}
	out.Throttled, out.Unavailable = a.throttled.Load(), a.unavailable.Load()
	out.Load.After = loadAverage()
	if !tgt.InProcess {
		out.Notes = append(out.Notes, fmt.Sprintf("the %d requests stay pending on the target until the role's approval tiers run out", cfg.Pending))
	}
	return out, nil
}

func pendingFootprint(tgt Target, out *PendingResult) error {
	if tgt.InProcess {
		rss, err := PeakRSSMB()
		if err != nil {
			return err
		}
		out.RSSMB = &rss
		rt := runtimeStats()
		out.Runtime = &rt
	} else {
		out.Notes = append(out.Notes, "RSS skipped: the system runs in another process")
	}
	if tgt.DataDir == "" {
		out.Notes = append(out.Notes, "database size skipped: give the target's --data-dir to measure it")
		return nil
	}
	db, err := DatabaseMB(tgt.DataDir)
	if err != nil {
		return err
	}
	out.DBMB = &db
	return nil
}

// settleWait bounds the wait for the last request to answer.
const settleWait = 5 * time.Minute

// settle waits until request id answers GET: submitting outpaces the
// workflows' first tasks, and until they are done, reading the newest
// requests waits on them. It says how long that took.
func settle(ctx context.Context, a *api, token, id string) (time.Duration, error) {
	start := time.Now()
	for {
		if _, err := a.get(ctx, token, id); err == nil {
			return time.Since(start), nil
		}
		if time.Since(start) > settleWait {
			return 0, fmt.Errorf("request %s did not answer GET within %s of the last submit", id, settleWait)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// listLatency waits until the listing shows pending requests, then times
// cfg.ListCalls listings one after another.
func listLatency(ctx context.Context, a *api, token string, cfg Config) (Dist, error) {
	want := min(cfg.Pending, 50) // the API's default page
	deadline := time.Now().Add(listVisibleWait)
	for {
		n, err := a.list(ctx, token, apitypes.StatusPending)
		if err != nil {
			return Dist{}, err
		}
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			return Dist{}, fmt.Errorf("the listing shows %d pending requests after %s, want at least %d", n, listVisibleWait, want)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return Dist{}, err
		}
	}
	lat := make([]time.Duration, 0, cfg.ListCalls)
	for range cfg.ListCalls {
		start := time.Now()
		if _, err := a.list(ctx, token, apitypes.StatusPending); err != nil {
			return Dist{}, err
		}
		lat = append(lat, time.Since(start))
	}
	return Summarize(lat), nil
}
