package crashtest

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jitflow/jitflow/client"
)

// crashes is how many times TestCrashRestart kills `jitflow dev`.
const crashes = 3

// Each kill comes this long after the process is healthy again, drawn at
// random: early enough to cut calls and activations off, late enough for
// some work to get done in between.
const (
	minKillDelay = 300 * time.Millisecond
	maxKillDelay = 5 * time.Second
)

// seedEnv replays a run's kill points.
const seedEnv = "JITFLOW_CRASH_SEED"

// restartPlan has a request at every stage, its decisions spread over the
// four runs of the process (three cut short by a kill).
func restartPlan() *plan {
	p := &plan{}
	p.add(&scenario{name: "approved", role: "single", duration: "12s", want: client.StatusExpired, activates: true, events: []string{"activated", "expired"}},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"})
	p.add(&scenario{name: "revoked", role: "single", duration: "3m", want: client.StatusRevoked, activates: true},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"}, step{run: 2, act: actRevoke, when: isActive})
	p.add(&scenario{name: "denied", role: "single", want: client.StatusDenied},
		step{run: 1, act: actCreate}, step{run: 2, act: actDeny, who: "bob"})
	p.add(&scenario{name: "canceled", role: "single", want: client.StatusCanceled},
		step{run: 1, act: actCreate}, step{run: 2, act: actCancel})
	p.add(&scenario{name: "approved-late", role: "single", duration: "8s", want: client.StatusExpired, activates: true},
		step{run: 1, act: actCreate}, step{run: 3, act: actApprove, who: "bob"})
	p.add(&scenario{name: "escalated", role: "escalating", duration: "10s", want: client.StatusExpired, activates: true, events: []string{"escalated"}},
		step{run: 1, act: actCreate}, step{run: 2, act: actApprove, who: "carol", when: escalated})
	p.add(&scenario{name: "timed-out", role: "hasty", want: client.StatusTimedOut, events: []string{"escalated", "timed_out"}},
		step{run: 1, act: actCreate})
	p.add(&scenario{name: "multi-approved", role: "multi", duration: "10s", want: client.StatusExpired, activates: true},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"}, step{run: 2, act: actApprove, who: "carol"},
		step{run: 3, act: actApprove, who: "dave", when: atStage(2)})
	p.add(&scenario{name: "multi-denied", role: "multi", want: client.StatusDenied},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "frank"}, step{run: 2, act: actApprove, who: "bob"},
		step{run: 3, act: actDeny, who: "dave", when: atStage(2)})
	p.add(&scenario{name: "multi-canceled", role: "multi", want: client.StatusCanceled},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "carol"}, step{run: 2, act: actCancel})
	p.add(&scenario{name: "break-glass", role: "glass", duration: "10s", want: client.StatusExpired, activates: true},
		step{run: 1, act: actCreate})
	p.add(&scenario{name: "approved-mid", role: "single", duration: "10s", want: client.StatusExpired, activates: true},
		step{run: 2, act: actCreate}, step{run: 2, act: actApprove, who: "bob"})
	p.add(&scenario{name: "multi-mid", role: "multi", duration: "6s", want: client.StatusExpired, activates: true},
		step{run: 2, act: actCreate}, step{run: 2, act: actApprove, who: "frank"}, step{run: 2, act: actApprove, who: "carol"},
		step{run: 3, act: actApprove, who: "dave", when: atStage(2)})
	p.add(&scenario{name: "break-glass-late", role: "glass", duration: "8s", want: client.StatusExpired, activates: true},
		step{run: 3, act: actCreate})
	p.add(&scenario{name: "revoked-late", role: "single", duration: "3m", want: client.StatusRevoked, activates: true},
		step{run: 3, act: actCreate}, step{run: 3, act: actApprove, who: "bob"}, step{run: 4, act: actRevoke, when: isActive})
	p.add(&scenario{name: "last", role: "single", duration: "5s", want: client.StatusExpired, activates: true},
		step{run: 4, act: actCreate}, step{run: 4, act: actApprove, who: "bob"})
	return p
}

// TestCrashRestart runs `jitflow dev` on one data dir, kills it with
// SIGKILL three times at random points while requests are decided,
// activated and expire, and restarts it each time. Every request must end
// as its decisions call for, every decision the API accepted must be
// kept, no role may be assigned twice for one request, and the Graph
// emulator must hold nothing once every grant has ended.
func TestCrashRestart(t *testing.T) {
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	httpAddr, graphAddr := freeAddr(t), freeAddr(t)
	args := []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--policy", writePolicy(t, dir),
		"--http-addr", httpAddr, "--graph-addr", graphAddr, "--temporal-port", freePort(t), "--no-ui"}
	apiURL, graphURL := "http://"+httpAddr, "http://"+graphAddr
	ps := newProcs(t)
	d := &driver{t: t, plan: restartPlan(), apis: []*users{newUsers(t, apiURL, apiURL)}}
	began := time.Now()
	for run := 1; run <= crashes; run++ {
		p := ps.start("dev", args...)
		waitHealthy(t, p, apiURL+"/healthz", time.Minute)
		// Graph's slow answers keep assignments and removals in flight
		// longer, so that kills land in the middle of more of them.
		for _, f := range slowGraph {
			postFault(context.Background(), t, graphURL, f)
		}
		delay := minKillDelay + time.Duration(rng.Int64N(int64(maxKillDelay-minKillDelay)))
		ctx, cancel := context.WithCancel(context.Background())
		driven := make(chan struct{})
		go func() {
			defer close(driven)
			d.drive(ctx, run)
		}()
		<-time.After(delay)
		p.kill()
		cancel()
		<-driven
		t.Logf("run %d: killed %s after healthy, at %s; %d calls still to make", run, delay, time.Since(began).Round(time.Millisecond), len(d.pending()))
	}
	p := ps.start("dev", args...)
	waitHealthy(t, p, apiURL+"/healthz", time.Minute)
	t.Logf("run %d: up at %s", crashes+1, time.Since(began).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d.finish(ctx, crashes+1)
	d.awaitEnd(ctx)
	t.Logf("every request ended at %s", time.Since(began).Round(time.Millisecond))
	checkOutcome(ctx, t, d, graphURL)
}

// crashSeed is the seed of the kill points: JITFLOW_CRASH_SEED, or a new
// one, logged so that a failure can be replayed.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv(seedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: give a decimal number", seedEnv, s)
		}
		t.Logf("kill points from %s=%d", seedEnv, seed)
		return seed
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points seeded with %d; replay them with %s=%d", seed, seedEnv, seed)
	return seed
}
