package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/telemetry"
)

// livePolicy is the policy file a server keeps in force: reloaded when the
// file changes and on SIGHUP. A file with errors, or one the server cannot
// serve, is refused (every problem logged), the old policy stays, and the
// metrics say so.
type livePolicy struct {
	*policies.Live
	log     *slog.Logger
	metrics atomic.Pointer[telemetry.Metrics]
	// check refuses a policy the running server cannot serve (set once the
	// server exists).
	check atomic.Pointer[func(*policies.Policy) error]
}

func loadLivePolicy(path string, log *slog.Logger) (*livePolicy, error) {
	lp := &livePolicy{log: log}
	live, err := policies.NewLive(path, policies.LiveOptions{
		Log: log,
		OnReload: func(r policies.ReloadResult) {
			if m := lp.metrics.Load(); m != nil {
				m.PolicyReloaded(r)
			}
		},
		Check: func(p *policies.Policy) error {
			if f := lp.check.Load(); f != nil {
				return (*f)(p)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	lp.Live = live
	return lp, nil
}

// serve keeps the policy current until ctx ends: it watches the file and
// reloads on SIGHUP. m counts the reloads; check refuses a policy the
// server cannot serve.
func (lp *livePolicy) serve(ctx context.Context, m *telemetry.Metrics, check func(*policies.Policy) error) {
	lp.check.Store(&check)
	if m != nil {
		lp.metrics.Store(m)
		m.PolicyReloaded(policies.ReloadResult{Path: lp.Path(), Outcome: policies.ReloadApplied, Generation: lp.Generation(), Initial: true, At: time.Now()})
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				lp.log.Info("SIGHUP: reloading the policy", "path", lp.Path())
				lp.Reload()
			}
		}
	}()
	go lp.Watch(ctx)
}
