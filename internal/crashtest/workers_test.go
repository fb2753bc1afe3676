package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/client"
)

// audience is the dev issuer's token audience.
const audience = "api://jitflow"

// workersPlan decides requests in three waves through two servers. The
// first wave's grants end, and the second wave's roles are being
// assigned, when a worker is killed; the third wave comes after.
func workersPlan() *plan {
	p := &plan{}
	for _, name := range []string{"ending-1", "ending-2", "ending-3", "ending-4"} {
		p.add(&scenario{name: name, role: "single", duration: firstGrant.String(), want: client.StatusExpired, activates: true},
			step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"})
	}
	p.add(&scenario{name: "break-glass", role: "glass", duration: firstGrant.String(), want: client.StatusExpired, activates: true},
		step{run: 1, act: actCreate})
	p.add(&scenario{name: "revoked", role: "single", duration: "3m", want: client.StatusRevoked, activates: true},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"}, step{run: 3, act: actRevoke, when: isActive})
	p.add(&scenario{name: "multi-approved", role: "multi", duration: "8s", want: client.StatusExpired, activates: true},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "carol"}, step{run: 1, act: actApprove, who: "frank"},
		step{run: 3, act: actApprove, who: "dave", when: atStage(2)})
	p.add(&scenario{name: "denied", role: "single", want: client.StatusDenied},
		step{run: 1, act: actCreate}, step{run: 3, act: actDeny, who: "bob"})
	p.add(&scenario{name: "canceled", role: "multi", want: client.StatusCanceled},
		step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"}, step{run: 3, act: actCancel})
	for _, name := range []string{"activating-1", "activating-2", "activating-3", "activating-4"} {
		p.add(&scenario{name: name, role: "single", duration: "8s", want: client.StatusExpired, activates: true},
			step{run: 2, act: actCreate}, step{run: 2, act: actApprove, who: "bob"})
	}
	p.add(&scenario{name: "approved-after", role: "single", duration: "8s", want: client.StatusExpired, activates: true},
		step{run: 3, act: actCreate}, step{run: 3, act: actApprove, who: "bob"})
	return p
}

// firstGrant is the length of the first wave's grants, which end as the
// worker is killed.
const firstGrant = 5 * time.Second

// slowGraph makes Graph answer the next assignments and removals with 429
// and Retry-After, so that they are in the middle of an attempt when a
// process dies. The emulator keeps faults in memory only: a restart
// forgets them.
var slowGraph = []string{
	`{"status":429,"count":6,"retry_after_seconds":2,"action":"adminAssign"}`,
	`{"status":429,"count":6,"retry_after_seconds":2,"action":"adminRemove"}`,
}

// TestWorkerKilled runs `jitflow dev --no-worker` as the shared Temporal
// service, Graph emulator and token issuer, with two `jitflow server` and
// two `jitflow worker` processes against it. Requests go through both
// servers; one worker is killed with SIGKILL while roles are being
// assigned, and the other must finish every request: each ends as its
// decisions call for, and the emulator holds nothing at the end.
func TestWorkerKilled(t *testing.T) {
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	policy := writePolicy(t, dir)
	devAddr, graphAddr, temporalPort := freeAddr(t), freeAddr(t), freePort(t)
	devURL, graphURL, temporalAddr := "http://"+devAddr, "http://"+graphAddr, "127.0.0.1:"+temporalPort
	ps := newProcs(t)
	dev := ps.start("dev", "dev", "--no-worker", "--data-dir", data, "--policy", policy,
		"--http-addr", devAddr, "--graph-addr", graphAddr, "--temporal-port", temporalPort, "--no-ui")
	waitHealthy(t, dev, devURL+"/healthz", time.Minute)
	keys := filepath.Join(data, "approval-keys")
	common := []string{"--temporal-address", temporalAddr, "--namespace", "default", "--graph-url", graphURL,
		"--approval-keys", keys, "--metrics-addr", "off"}

	serverAddrs := []string{freeAddr(t), freeAddr(t)}
	var workers []*process
	for i := range 2 {
		args := append([]string{"worker", "--outbox", filepath.Join(dir, fmt.Sprintf("outbox-%d.jsonl", i+1)),
			"--base-url", "http://" + serverAddrs[i]}, common...)
		workers = append(workers, ps.start("worker", args...))
	}
	var servers []*users
	for i, addr := range serverAddrs {
		args := append([]string{"server", "--http-addr", addr, "--policy", policy, "--oidc-issuer", devURL + "/dev",
			"--audience", audience}, common...)
		p := ps.start("server", args...)
		waitHealthy(t, p, "http://"+addr+"/healthz", time.Minute)
		servers = append(servers, newUsers(t, devURL, "http://"+addr))
		t.Logf("server %d at %s", i+1, addr)
	}
	for _, w := range workers {
		waitLogged(t, w, "worker started", time.Minute)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d := &driver{t: t, plan: workersPlan(), apis: servers}
	began := time.Now()
	d.drive(ctx, 1)
	// The second wave starts as the first one's grants end.
	first, err := waitFor(ctx, servers[0].as(d.plan.scenarios[0].requester), d.plan.scenarios[0].id, isActive)
	if err != nil {
		t.Fatal(err)
	}
	<-time.After(time.Until(first.ExpiresAt.Add(-time.Second)))
	for _, f := range slowGraph {
		postFault(ctx, t, graphURL, f)
	}
	d.drive(ctx, 2)
	// The kill comes while the first wave's removals and the second
	// wave's assignments wait out Graph's Retry-After.
	delay := time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
	<-time.After(time.Until(first.ExpiresAt.Add(delay)))
	workers[0].kill()
	killed := time.Now()
	t.Logf("killed %s %s after the first wave's grants ended (%s after the first call)", workers[0].name, delay, killed.Sub(began).Round(time.Millisecond))
	d.finish(ctx, 3)
	d.awaitEnd(ctx)
	t.Logf("every request ended %s after the kill", time.Since(killed).Round(time.Millisecond))
	logLags(ctx, t, d)
	checkOutcome(ctx, t, d, graphURL)
	if !workers[1].running() {
		t.Errorf("%s exited: %v", workers[1].name, workers[1].waitErr)
	}
}

// postFault queues a fault in the Graph emulator.
func postFault(ctx context.Context, t *testing.T, graphURL, fault string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, graphURL+"/_emulator/faults", strings.NewReader(fault))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_emulator/faults %s: %s", fault, resp.Status)
	}
}

// waitLogged waits until p's log shows text.
func waitLogged(t *testing.T, p *process, text string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		data, err := os.ReadFile(p.logPath)
		if err == nil && bytes.Contains(data, []byte(text)) {
			return
		}
		if !p.running() {
			t.Fatalf("%s exited before logging %q: %v", p.name, text, p.waitErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %s", p.name, text, within)
		}
		<-time.After(100 * time.Millisecond)
	}
}

// logLags reports, for each grant that ran its course, how late it was
// activated after its last decision and how late it ended after its
// expiry: the time work caught on the killed worker took to resume.
func logLags(ctx context.Context, t *testing.T, d *driver) {
	t.Helper()
	for _, sc := range d.plan.scenarios {
		r, err := d.apis[0].as(sc.requester).Get(ctx, sc.id)
		if err != nil || r.ActivatedAt == nil {
			continue
		}
		decided := r.CreatedAt
		for _, dec := range r.Decisions {
			decided = maxTime(decided, dec.Time)
		}
		line := "activated " + r.ActivatedAt.Sub(decided).Round(time.Millisecond).String() + " after the last decision"
		if r.Status == client.StatusExpired && r.ExpiresAt != nil && r.EndedAt != nil {
			line += ", ended " + r.EndedAt.Sub(*r.ExpiresAt).Round(time.Millisecond).String() + " after its expiry"
		}
		t.Logf("%-16s %s", sc.name, line)
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
