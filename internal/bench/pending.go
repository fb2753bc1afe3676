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
	unavailable := a.unavailable.Load()
	read, settled, err := settle(ctx, a, tok.approver, last.Load().ID)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	out.Notes = append(out.Notes,
		fmt.Sprintf("the last request submitted answered its first GET %s after the last submit, and showed its workflow's own view (not the view as submitted) after %s; lists are timed from then",
			read.Round(time.Millisecond), settled.Round(time.Second)),
		fmt.Sprintf("reads answered 503 while the burst was worked off: %d", a.unavailable.Load()-unavailable))
	cfg.progress("pending: settled after %s; listing", settled.Round(time.Second))
	var note string
	if out.ListApprover, note, err = listLatency(ctx, a, tok.approver, cfg); err != nil {
		return nil, fmt.Errorf("pending: list as %s: %w", cfg.Approver, err)
	}
	out.Notes = append(out.Notes, "list as "+cfg.Approver+": "+note)
	if tok.operator != "" {
		if out.ListOperator, note, err = listLatency(ctx, a, tok.operator, cfg); err != nil {
			return nil, fmt.Errorf("pending: list as %s: %w", cfg.Operator, err)
		}
		out.Notes = append(out.Notes, "list as "+cfg.Operator+": "+note)
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

// settle waits until request id answers GET with its workflow's own view:
// submitting outpaces the workflows' first tasks, and until they are done
// the newest requests read as submitted. It says when GET first answered
// and when the workflow's view came.
func settle(ctx context.Context, a *api, token, id string) (read, settled time.Duration, err error) {
	start := time.Now()
	for {
		req, err := a.get(ctx, token, id)
		if err == nil && read == 0 {
			read = time.Since(start)
		}
		if err == nil && req.View == "" {
			return read, time.Since(start), nil
		}
		if time.Since(start) > settleWait {
			if err != nil {
				return 0, 0, fmt.Errorf("request %s did not answer GET within %s of the last submit: %w", id, settleWait, err)
			}
			return 0, 0, fmt.Errorf("request %s was still read as submitted %s after the last submit", id, settleWait)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, 0, err
		}
	}
}

// listLatency waits until the listing shows pending requests, then times
// cfg.ListCalls listings one after another. Its note says how many of the
// rows listed came as submitted, their workflow not answering in time.
func listLatency(ctx context.Context, a *api, token string, cfg Config) (Dist, string, error) {
	want := min(cfg.Pending, 50) // the API's default page
	deadline := time.Now().Add(listVisibleWait)
	for {
		n, _, err := a.list(ctx, token, apitypes.StatusPending)
		if err != nil {
			return Dist{}, "", err
		}
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			return Dist{}, "", fmt.Errorf("the listing shows %d pending requests after %s, want at least %d", n, listVisibleWait, want)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return Dist{}, "", err
		}
	}
	lat := make([]time.Duration, 0, cfg.ListCalls)
	rows, submitted := 0, 0
	for range cfg.ListCalls {
		start := time.Now()
		n, sub, err := a.list(ctx, token, apitypes.StatusPending)
		if err != nil {
			return Dist{}, "", err
		}
		lat = append(lat, time.Since(start))
		rows, submitted = rows+n, submitted+sub
	}
	return Summarize(lat), fmt.Sprintf("%d of the %d rows listed came as submitted", submitted, rows), nil
}
