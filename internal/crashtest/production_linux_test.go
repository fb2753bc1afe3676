package crashtest

import (
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/jitflow/jitflow/client"
	"github.com/jitflow/jitflow/deploy"
)

// prodcheckEnv names the work dir scripts/production-check.sh prepared:
// bin/temporal-server and bin/temporal-sql-tool built from the module's
// go.temporal.io/server, certs/ with the CA and the server and client
// certificates, and the PostgreSQL binaries and Temporal's schema dir in
// the variables below. Without it TestProduction is skipped, so that
// `go test ./...` does not run it.
const (
	prodcheckEnv       = "JITFLOW_PRODCHECK_DIR"
	prodcheckPGBinEnv  = "JITFLOW_PRODCHECK_PG_BIN"
	prodcheckSchemaEnv = "JITFLOW_PRODCHECK_SCHEMA"
	prodcheckFigures   = "figures.txt"
	prodNamespace      = "jitflow"
	temporalDown       = 20 * time.Second
)

// TestProduction runs jitflow as it is deployed: PostgreSQL, the official
// Temporal server on it (mTLS on the frontend, the JWT authorizer),
// namespace and search attributes set up by `jitflow setup`, two API
// servers and two workers, Graph, SendGrid and the token issuer as
// separate HTTP services. It then runs requests through both servers
// while, one at a time, a worker is killed mid-activation, an API server
// is killed mid-approval, Temporal is stopped for 20 s mid-grant and
// PostgreSQL is restarted mid-grant; after each, it checks that no
// decision was lost, each request was activated once, every role was
// removed at its expiry, the audit trail is complete and every approver
// was emailed exactly once. The figures go to the log and to figures.txt
// in the work dir.
func TestProduction(t *testing.T) {
	work := os.Getenv(prodcheckEnv)
	if work == "" {
		t.Skipf("%s is not set: run scripts/production-check.sh", prodcheckEnv)
	}
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	ps := newProcs(t)
	st := startProduction(t, ps, work)

	var results []faultResult
	results = append(results, st.workerKilled(t, rng))
	results = append(results, st.serverKilled(t, rng))
	results = append(results, st.temporalStopped(t))
	results = append(results, st.postgresRestarted(t))

	var table strings.Builder
	fmt.Fprintf(&table, "%-34s %8s %9s %9s %9s %7s %8s %7s\n", "fault", "requests", "resumed", "lag p50", "lag max", "emails", "retried", "result")
	for _, r := range results {
		fmt.Fprintf(&table, "%-34s %8d %9s %9s %9s %7d %8d %7s\n", r.fault, r.requests, r.resumed.Round(time.Millisecond),
			percentile(r.lags, 50).Round(time.Millisecond), percentile(r.lags, 100).Round(time.Millisecond), r.emails, r.retried, r.verdict)
	}
	fmt.Fprintf(&table, "resumed: worker/server: from the kill until the work it held was done by the other (activations, answers);\n")
	fmt.Fprintf(&table, "         Temporal/PostgreSQL: from the restart until a new request was approved and active.\n")
	fmt.Fprintf(&table, "lag: from a grant's expires_at to the Graph emulator's removal (adminRemove) of the role.\n")
	fmt.Fprintf(&table, "setup: %s\n", st.setupTook.Round(time.Millisecond))
	t.Logf("figures:\n%s", table.String())
	if err := os.WriteFile(filepath.Join(work, prodcheckFigures), []byte(table.String()), 0o644); err != nil {
		t.Error(err)
	}
}

// faultResult is what one fault's phase measured.
type faultResult struct {
	fault    string
	requests int
	resumed  time.Duration
	lags     []time.Duration
	emails   int
	retried  int64
	verdict  string
}

// prodStack is everything the check started, and how to start each again.
type prodStack struct {
	ps       *procs
	work     string
	pg       *postgres
	temporal *process
	// temporalCmd makes the command that starts the Temporal server.
	temporalCmd func() *exec.Cmd
	graphURL    string
	mailURL     string
	issuerURL   string
	workers     []*process
	workerArgs  [][]string
	workerEnv   []string
	servers     []*process
	serverArgs  [][]string
	serverAddrs []string
	apis        []*users
	setupTook   time.Duration
}

func startProduction(t *testing.T, ps *procs, work string) *prodStack {
	t.Helper()
	st := &prodStack{ps: ps, work: work}
	pgBin, schema := os.Getenv(prodcheckPGBinEnv), os.Getenv(prodcheckSchemaEnv)
	if pgBin == "" || schema == "" {
		t.Fatalf("%s and %s must name PostgreSQL's bin dir and Temporal's schema/postgresql/v12 dir", prodcheckPGBinEnv, prodcheckSchemaEnv)
	}
	certs := filepath.Join(work, "certs")
	bin := filepath.Join(work, "bin")

	// The JWT authorizer's key: Temporal reads the public half from a
	// JWKS file; the check signs each client's token with the private one.
	jwks, sign := jwtIssuer(t, filepath.Join(work, "jwt"))
	adminToken := sign("jitflow-setup", "temporal-system:admin")
	serverToken := sign("jitflow-server", prodNamespace+":write")
	workerToken := sign("jitflow-worker", prodNamespace+":write")

	st.pg = newPostgres(t, ps, pgBin, filepath.Join(work, "pg"))
	st.pg.start(t)
	st.pg.createSchemas(t, filepath.Join(bin, "temporal-sql-tool"), schema)

	temporalAddr, cfg := writeTemporalConfig(t, work, st.pg.port, certs, jwks)
	st.temporalCmd = func() *exec.Cmd {
		// The default services leave out the internal frontend.
		return exec.Command(filepath.Join(bin, "temporal-server"), "--config-file", cfg, "start",
			"--service", "frontend", "--service", "internal-frontend", "--service", "history", "--service", "matching", "--service", "worker")
	}
	st.temporal = ps.startCmd("temporal", st.temporalCmd())

	tlsArgs := []string{"--temporal-address", temporalAddr, "--namespace", prodNamespace,
		"--temporal-tls-cert", filepath.Join(certs, "client.pem"), "--temporal-tls-key", filepath.Join(certs, "client.key"),
		"--temporal-tls-ca", filepath.Join(certs, "ca.pem"), "--temporal-tls-server-name", "localhost"}
	began := time.Now()
	for run := range 2 {
		out := st.setup(t, tlsArgs, adminToken)
		t.Logf("jitflow setup (run %d):\n%s", run+1, out)
		if run == 0 {
			st.setupTook = time.Since(began)
		} else if !strings.Contains(out, "namespace jitflow: unchanged") || !strings.Contains(out, "search attributes: unchanged") {
			t.Fatalf("jitflow setup changed something on its second run:\n%s", out)
		}
	}
	st.checkAuthorizer(t, tlsArgs)

	dir := t.TempDir()
	policy := writePolicy(t, dir)
	graphAddr, mailAddr, issuerAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	st.graphURL, st.mailURL, st.issuerURL = "http://"+graphAddr, "http://"+mailAddr, "http://"+issuerAddr
	mailKey := "SG.prodcheck-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	graph := ps.start("graph", "emulate", "graph", "--addr", graphAddr, "--data-dir", filepath.Join(dir, "graph"))
	mailCmd := exec.Command(jitflowBin, "emulate", "sendgrid", "--addr", mailAddr)
	mailCmd.Env = append(os.Environ(), "SENDGRID_API_KEY="+mailKey)
	mail := ps.startCmd("sendgrid", mailCmd)
	issuer := ps.start("issuer", "emulate", "issuer", "--addr", issuerAddr, "--data-dir", filepath.Join(dir, "issuer"), "--policy", policy, "--audience", audience)
	waitListening(t, graph, graphAddr)
	waitListening(t, mail, mailAddr)
	waitHealthy(t, issuer, st.issuerURL+"/dev/.well-known/openid-configuration", time.Minute)

	keys := filepath.Join(dir, "approval-keys")
	secret := make([]byte, 32)
	crand.Read(secret)
	if err := os.WriteFile(keys, []byte("k1:"+base64.StdEncoding.EncodeToString(secret)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := append([]string{"--graph-url", st.graphURL, "--approval-keys", keys, "--metrics-addr", "off"}, tlsArgs...)
	st.serverAddrs = []string{freeAddr(t), freeAddr(t)}
	st.workerEnv = append(os.Environ(), "TEMPORAL_API_KEY="+workerToken, "SENDGRID_API_KEY="+mailKey)
	for i := range 2 {
		args := append([]string{"worker", "--mailer", "sendgrid", "--sendgrid-url", st.mailURL, "--mail-from", "jitflow@example.com",
			"--mail-sent-keys", filepath.Join(dir, fmt.Sprintf("sent-keys-%d", i+1)),
			"--base-url", "http://" + st.serverAddrs[i]}, common...)
		matchesTopology(t, args)
		st.workerArgs = append(st.workerArgs, args)
		st.workers = append(st.workers, st.startWorker(i))
	}
	serverEnv := append(os.Environ(), "TEMPORAL_API_KEY="+serverToken)
	for _, addr := range st.serverAddrs {
		args := append([]string{"server", "--http-addr", addr, "--policy", policy, "--oidc-issuer", st.issuerURL + "/dev",
			"--audience", audience}, common...)
		matchesTopology(t, args)
		st.serverArgs = append(st.serverArgs, args)
		cmd := exec.Command(jitflowBin, args...)
		cmd.Env = serverEnv
		st.servers = append(st.servers, ps.startCmd("server", cmd))
		st.apis = append(st.apis, newUsers(t, st.issuerURL, "http://"+addr))
	}
	for i, w := range st.workers {
		waitLogged(t, w, "worker started", 2*time.Minute)
		waitHealthy(t, st.servers[i], "http://"+st.serverAddrs[i]+"/healthz", 2*time.Minute)
	}
	return st
}

// matchesTopology fails the check when a jitflow command it runs lacks a
// flag that every deployment target passes (deploy/topology.txt, which
// the compose file and the Helm chart are held to): the topology proved
// here is the one they ship.
func matchesTopology(t *testing.T, args []string) {
	t.Helper()
	commands, err := deploy.Topology()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if c.Name != args[0] {
			continue
		}
		for _, flag := range c.Flags {
			if !slices.ContainsFunc(args[1:], func(a string) bool { return a == flag || strings.HasPrefix(a, flag+"=") }) {
				t.Fatalf("jitflow %s runs without %s, which every deployment target passes (deploy/topology.txt): %q", c.Name, flag, args)
			}
		}
		return
	}
	t.Fatalf("jitflow %s is not a command of deploy/topology.txt", args[0])
}

// setup runs `jitflow setup` over mTLS with the admin token, trying again
// while the Temporal server is still starting its services.
func (st *prodStack) setup(t *testing.T, tlsArgs []string, token string) string {
	t.Helper()
	var out []byte
	var err error
	for try := 1; try <= 3; try++ {
		args := append([]string{"setup", "--retention", "8760h", "--wait", "3m"}, tlsArgs...)
		matchesTopology(t, args)
		cmd := exec.Command(jitflowBin, args...)
		cmd.Env = append(os.Environ(), "TEMPORAL_API_KEY="+token)
		out, err = cmd.CombinedOutput()
		if err == nil {
			return string(out)
		}
		t.Logf("jitflow setup, try %d: %v\n%s", try, err, out)
		if !st.temporal.running() {
			t.Fatalf("the Temporal server exited: %v", st.temporal.waitErr)
		}
		<-time.After(3 * time.Second)
	}
	t.Fatalf("jitflow setup failed: %v\n%s", err, out)
	return ""
}

// checkAuthorizer shows the frontend closed to a client without a token,
// and to one without a client certificate, before anything relies on it.
func (st *prodStack) checkAuthorizer(t *testing.T, tlsArgs []string) {
	t.Helper()
	noToken := exec.Command(jitflowBin, append([]string{"setup", "--wait", "20s"}, tlsArgs...)...)
	noToken.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TEMPORAL_API_KEY=") })
	if out, err := noToken.CombinedOutput(); err == nil || !strings.Contains(string(out), "PermissionDenied") && !strings.Contains(string(out), "Request unauthorized") {
		t.Fatalf("jitflow setup without a token: want a refusal by the authorizer, got %v:\n%s", err, out)
	}
	var noCert []string
	for i := 0; i < len(tlsArgs); i += 2 {
		if tlsArgs[i] != "--temporal-tls-cert" && tlsArgs[i] != "--temporal-tls-key" {
			noCert = append(noCert, tlsArgs[i], tlsArgs[i+1])
		}
	}
	if out, err := exec.Command(jitflowBin, append([]string{"setup", "--wait", "5s"}, noCert...)...).CombinedOutput(); err == nil {
		t.Fatalf("jitflow setup without a client certificate succeeded:\n%s", out)
	}
	t.Logf("the frontend refuses a client without a token and one without a certificate")
}

func (st *prodStack) startWorker(i int) *process {
	cmd := exec.Command(jitflowBin, st.workerArgs[i]...)
	cmd.Env = st.workerEnv
	return st.ps.startCmd(fmt.Sprintf("worker-%d", i+1), cmd)
}

func (st *prodStack) restartServer(t *testing.T, i int) {
	t.Helper()
	cmd := exec.Command(jitflowBin, st.serverArgs[i]...)
	cmd.Env = st.servers[1-i].cmd.Env
	st.servers[i] = st.ps.startCmd("server", cmd)
	waitHealthy(t, st.servers[i], "http://"+st.serverAddrs[i]+"/healthz", 2*time.Minute)
}

// workerKilled: grants are approved while Graph answers the assignments
// with 429 and Retry-After, so that activations are under way, and one
// worker is killed with SIGKILL; the other must activate every grant
// once. resumed is from the kill until the last grant is active.
func (st *prodStack) workerKilled(t *testing.T, rng *rand.Rand) faultResult {
	d := st.newPhase(t, func(p *plan) {
		for i := range 6 {
			p.add(&scenario{name: fmt.Sprintf("w-activating-%d", i+1), role: "single", duration: "10s", want: client.StatusExpired, activates: true, events: lifecycle},
				step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"})
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	postFault(ctx, t, st.graphURL, `{"status":429,"count":8,"retry_after_seconds":2,"action":"adminAssign"}`)
	d.drive(ctx, 1)
	<-time.After(time.Duration(rng.Int64N(int64(800 * time.Millisecond))))
	st.workers[0].kill()
	killed := time.Now()
	t.Logf("killed %s mid-activation", st.workers[0].name)
	var last time.Time
	for _, sc := range d.plan.scenarios {
		r, err := waitFor(ctx, d.apis[0].as(sc.requester), sc.id, func(r client.Request) bool { return r.ActivatedAt != nil || r.Status.Terminal() })
		if err != nil {
			d.describe(sc)
			t.Fatalf("%s: not activated after the kill: %v", sc.name, err)
		}
		if r.ActivatedAt != nil && r.ActivatedAt.After(last) {
			last = *r.ActivatedAt
		}
	}
	resumed := last.Sub(killed)
	st.workers[0] = st.startWorker(0)
	waitLogged(t, st.workers[0], "worker started", 2*time.Minute)
	return st.finishPhase(t, ctx, d, "worker SIGKILL mid-activation", resumed)
}

// serverKilled: approvals are sent through both API servers and one is
// killed with SIGKILL among them; the callers retry on the other. resumed
// is from the kill until the last approval was answered.
func (st *prodStack) serverKilled(t *testing.T, rng *rand.Rand) faultResult {
	d := st.newPhase(t, func(p *plan) {
		for i := range 6 {
			p.add(&scenario{name: fmt.Sprintf("s-multi-%d", i+1), role: "multi", duration: "8s", want: client.StatusExpired, activates: true, events: lifecycle},
				step{run: 1, act: actCreate}, step{run: 2, act: actApprove, who: "bob"}, step{run: 2, act: actApprove, who: "carol"},
				step{run: 2, act: actApprove, who: "dave", when: atStage(2)})
		}
		for i := range 2 {
			p.add(&scenario{name: fmt.Sprintf("s-single-%d", i+1), role: "single", duration: "8s", want: client.StatusExpired, activates: true, events: lifecycle},
				step{run: 1, act: actCreate}, step{run: 2, act: actApprove, who: "bob"})
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d.drive(ctx, 1)
	killed := make(chan time.Time, 1)
	go func() {
		<-time.After(100*time.Millisecond + time.Duration(rng.Int64N(int64(300*time.Millisecond))))
		st.servers[1].kill()
		killed <- time.Now()
	}()
	d.finish(ctx, 2)
	answered := time.Now()
	at := <-killed
	t.Logf("killed %s mid-approval; %d calls were retried on the other server", st.servers[1].name, d.retried.Load())
	st.restartServer(t, 1)
	return st.finishPhase(t, ctx, d, "API server SIGKILL mid-approval", answered.Sub(at))
}

// temporalStopped: the Temporal server stops (SIGTERM) while grants are
// active, stays down 20 s, across their expiry, and starts again.
func (st *prodStack) temporalStopped(t *testing.T) faultResult {
	d, ctx, cancel := st.activeGrants(t, "t")
	defer cancel()
	st.temporal.stop(syscall.SIGTERM, 30*time.Second)
	t.Logf("stopped the Temporal server; down for %s", temporalDown)
	<-time.After(temporalDown)
	restarted := time.Now()
	st.temporal = st.ps.startCmd("temporal", st.temporalCmd())
	resumed := st.probe(t, ctx, d, "t-probe", restarted)
	return st.finishPhase(t, ctx, d, "Temporal stopped 20s mid-grant", resumed)
}

// postgresRestarted: PostgreSQL restarts (fast shutdown, start) while
// grants are active.
func (st *prodStack) postgresRestarted(t *testing.T) faultResult {
	d, ctx, cancel := st.activeGrants(t, "p")
	defer cancel()
	st.pg.stop()
	st.pg.start(t)
	restarted := time.Now()
	t.Logf("restarted PostgreSQL")
	resumed := st.probe(t, ctx, d, "p-probe", restarted)
	return st.finishPhase(t, ctx, d, "PostgreSQL restarted mid-grant", resumed)
}

// activeGrants starts the grants a stop of Temporal or PostgreSQL cuts
// through, and returns once they are all active, 3 s into the first.
func (st *prodStack) activeGrants(t *testing.T, prefix string) (*driver, context.Context, context.CancelFunc) {
	d := st.newPhase(t, func(p *plan) {
		for i := range 4 {
			p.add(&scenario{name: fmt.Sprintf("%s-grant-%d", prefix, i+1), role: "single", duration: "15s", want: client.StatusExpired, activates: true, events: lifecycle},
				step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "bob"})
		}
		p.add(&scenario{name: prefix + "-multi", role: "multi", duration: "15s", want: client.StatusExpired, activates: true, events: lifecycle},
			step{run: 1, act: actCreate}, step{run: 1, act: actApprove, who: "carol"}, step{run: 1, act: actApprove, who: "frank"},
			step{run: 1, act: actApprove, who: "dave", when: atStage(2)})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	d.finish(ctx, 1)
	var first time.Time
	for _, sc := range d.plan.scenarios {
		r, err := waitFor(ctx, d.apis[0].as(sc.requester), sc.id, isActive)
		if err != nil {
			d.describe(sc)
			t.Fatalf("%s: not active: %v", sc.name, err)
		}
		if first.IsZero() || r.ActivatedAt.Before(first) {
			first = *r.ActivatedAt
		}
	}
	<-time.After(time.Until(first.Add(3 * time.Second)))
	return d, ctx, cancel
}

// probe is a new request, created and approved as soon as the API takes
// it after a restart: the time until it is active is when jitflow had
// resumed. It joins the phase's plan, so it is checked like the others.
func (st *prodStack) probe(t *testing.T, ctx context.Context, d *driver, name string, since time.Time) time.Duration {
	t.Helper()
	sc := &scenario{name: name, role: "single", duration: "5s", want: client.StatusExpired, activates: true, events: lifecycle}
	d.plan.add(sc)
	c := d.apis[0].as(sc.requester)
	retry := func(what string, call func() (client.Request, error)) client.Request {
		for {
			r, err := call()
			if err == nil {
				return r
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: %s: %v", name, what, err)
			}
			<-time.After(250 * time.Millisecond)
		}
	}
	r := retry("create", func() (client.Request, error) {
		return c.Create(ctx, client.CreateInput{Role: sc.role, Duration: sc.duration, Justification: "production check probe", IdempotencyKey: name})
	})
	sc.id = r.ID
	retry("approve", func() (client.Request, error) {
		r, err := d.apis[1].as("bob").Approve(ctx, sc.id, "production check probe")
		if status(err) == http.StatusConflict {
			// An earlier try took effect before its answer was lost.
			return c.Get(ctx, sc.id)
		}
		return r, err
	})
	r, err := waitFor(ctx, c, sc.id, isActive)
	if err != nil {
		d.describe(sc)
		t.Fatalf("%s: not active after the restart: %v", name, err)
	}
	return r.ActivatedAt.Sub(since)
}

// lifecycle are the audit events every grant that runs its course shows.
var lifecycle = []string{"requested", "approved", "activated", "expired"}

func (st *prodStack) newPhase(t *testing.T, build func(*plan)) *driver {
	p := &plan{}
	build(p)
	return &driver{t: t, plan: p, apis: st.apis}
}

// finishPhase waits for every request of the phase to end and checks it.
func (st *prodStack) finishPhase(t *testing.T, ctx context.Context, d *driver, fault string, resumed time.Duration) faultResult {
	t.Helper()
	failedBefore := t.Failed()
	d.awaitEnd(ctx)
	checkOutcome(ctx, t, d, st.graphURL)
	res := faultResult{fault: fault, requests: len(d.plan.scenarios), resumed: resumed, retried: d.retried.Load()}
	res.lags = st.removalLags(ctx, t, d)
	res.emails = st.checkEmails(ctx, t, d)
	for i, p := range append(slices.Clone(st.workers), st.servers...) {
		if !p.running() {
			t.Errorf("%s (#%d) exited: %v", p.name, i, p.waitErr)
		}
	}
	res.verdict = "ok"
	if t.Failed() && !failedBefore {
		res.verdict = "FAILED"
	}
	t.Logf("%s: %d requests, resumed %s, removal lag p50 %s max %s, %d emails", fault, res.requests, resumed.Round(time.Millisecond),
		percentile(res.lags, 50).Round(time.Millisecond), percentile(res.lags, 100).Round(time.Millisecond), res.emails)
	return res
}

// removalLags is, for each grant that expired, the time from its
// expires_at to the first removal Graph received for it.
func (st *prodStack) removalLags(ctx context.Context, t *testing.T, d *driver) []time.Duration {
	t.Helper()
	type removal struct {
		PrincipalID string    `json:"principalId"`
		ReceivedAt  time.Time `json:"receivedDateTime"`
	}
	removals, err := graphList[removal](ctx, st.graphURL, "/_emulator/removals")
	if err != nil {
		t.Fatal(err)
	}
	var lags []time.Duration
	for _, sc := range d.plan.scenarios {
		r, err := d.apis[0].as(sc.requester).Get(ctx, sc.id)
		if err != nil || r.Status != client.StatusExpired || r.ExpiresAt == nil || r.ActivatedAt == nil {
			continue
		}
		i := slices.IndexFunc(removals, func(rm removal) bool {
			return rm.PrincipalID == r.RequesterID && !rm.ReceivedAt.Before(*r.ActivatedAt)
		})
		if i < 0 {
			t.Errorf("%s (%s): Graph received no removal of the role after its activation", sc.name, sc.id)
			continue
		}
		lags = append(lags, removals[i].ReceivedAt.Sub(*r.ExpiresAt))
	}
	return lags
}

// checkEmails reads what the SendGrid endpoint took and holds it against
// the audit trails: every email a trail records as sent reached SendGrid
// exactly once (approvers' emails included: an approver who decided before
// the request got to ask is not asked), none is recorded as failed, and
// none went twice. It returns how many emails the phase's requests caused.
func (st *prodStack) checkEmails(ctx context.Context, t *testing.T, d *driver) int {
	t.Helper()
	type mail struct {
		Personalizations []struct {
			To []struct {
				Email string `json:"email"`
			} `json:"to"`
		} `json:"personalizations"`
		CustomArgs map[string]string `json:"custom_args"`
	}
	msgs, err := graphList[mail](ctx, st.mailURL, "/_emulator/messages")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]*scenario{}
	for _, sc := range d.plan.scenarios {
		ids[sc.id] = sc
	}
	sent := map[string]int{}
	n := 0
	for _, m := range msgs {
		id := m.CustomArgs["jitflow_request_id"]
		if ids[id] == nil {
			continue
		}
		n++
		for _, p := range m.Personalizations {
			for _, to := range p.To {
				sent[id+" "+m.CustomArgs["jitflow_kind"]+" "+strings.ToLower(to.Email)]++
			}
		}
	}
	for key, count := range sent {
		if count != 1 {
			f := strings.Fields(key)
			t.Errorf("%s (%s): the %s email to %s was sent %d times", ids[f[0]].name, f[0], f[1], f[2], count)
		}
	}
	for _, sc := range d.plan.scenarios {
		audit, err := d.apis[0].as(sc.requester).Audit(ctx, sc.id)
		if err != nil {
			t.Errorf("%s: audit: %v", sc.name, err)
			continue
		}
		asked := 0
		for _, e := range audit.Events {
			m := notifiedDetail.FindStringSubmatch(e.Detail)
			if e.Type != "notified" || m == nil {
				continue
			}
			if m[3] != "sent" {
				t.Errorf("%s (%s): %s", sc.name, sc.id, e.Detail)
				continue
			}
			for _, to := range strings.Split(m[2], ", ") {
				if got := sent[sc.id+" "+m[1]+" "+strings.ToLower(to)]; got != 1 {
					t.Errorf("%s (%s): the trail records %q, SendGrid took it %d times", sc.name, sc.id, e.Detail, got)
				}
				if m[1] == "approval_needed" {
					asked++
				}
			}
		}
		if asked == 0 {
			t.Logf("%s: every approver decided before being emailed", sc.name)
		}
	}
	return n
}

// notifiedDetail reads a notified event: the kind, the recipients and
// the outcome.
var notifiedDetail = regexp.MustCompile(`^(\S+) email to (.+) (sent|failed: .*)$`)

// percentile is the p-th percentile of ds (nearest rank), 0 when empty.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i, 1)-1]
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, p *process, addr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if !p.running() {
			t.Fatalf("%s exited: %v", p.name, p.waitErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: nothing listens on %s", p.name, addr)
		}
		<-time.After(100 * time.Millisecond)
	}
}

// jwtIssuer makes the key of Temporal's JWT authorizer: the JWKS file its
// default claim mapper reads, and a function that signs a token for a
// subject with Temporal permissions ("namespace:role").
func jwtIssuer(t *testing.T, dir string) (jwksPath string, sign func(sub string, permissions ...string) string) {
	t.Helper()
	key, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const kid = "prodcheck"
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	jwksPath = filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, set, 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	return jwksPath, func(sub string, permissions ...string) string {
		now := time.Now()
		tok, err := jwt.Signed(signer).Claims(map[string]any{
			"sub": sub, "permissions": permissions, "iat": now.Unix(), "exp": now.Add(2 * time.Hour).Unix(),
		}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// writeTemporalConfig writes the Temporal server's config: PostgreSQL
// (postgres12) for both stores, four history shards, every service on
// free loopback ports, the frontend behind mTLS and the default JWT
// authorizer, and an internal frontend for Temporal's own system worker.
// It returns the frontend's address and the file.
func writeTemporalConfig(t *testing.T, work, pgPort, certs, jwks string) (string, string) {
	t.Helper()
	p := func() string { return lowPort(t) }
	frontend := p()
	sql := func(db string, conns int) string {
		return fmt.Sprintf(`      sql:
        pluginName: postgres12
        databaseName: %s
        connectAddr: 127.0.0.1:%s
        connectProtocol: tcp
        user: temporal
        password: temporal
        maxConns: %d
        maxIdleConns: %[3]d
        maxConnLifetime: 1h
`, db, pgPort, conns)
	}
	service := func(name, grpc string) string {
		return fmt.Sprintf("  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnLocalHost: true\n", name, grpc, p())
	}
	var b strings.Builder
	fmt.Fprintf(&b, `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
%s    visibility:
%sglobal:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  tls:
    frontend:
      server:
        certFile: %[3]s/server.pem
        keyFile: %[3]s/server.key
        requireClientAuth: true
        clientCaFiles: [%[3]s/ca.pem]
      client:
        serverName: localhost
        rootCaFiles: [%[3]s/ca.pem]
  authorization:
    authorizer: default
    claimMapper: default
    jwtKeyProvider:
      keySourceURIs: ["file://%[4]s"]
      refreshInterval: 1m
services:
`, sql("temporal", 20), sql("temporal_visibility", 10), certs, jwks)
	b.WriteString(service("frontend", frontend))
	fmt.Fprintf(&b, "      httpPort: %s\n", p())
	b.WriteString(service("internal-frontend", p()))
	b.WriteString(service("history", p()))
	b.WriteString(service("matching", p()))
	b.WriteString(service("worker", p()))
	fmt.Fprintf(&b, `clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:%s
dcRedirectionPolicy:
  policy: noop
`, frontend)
	path := filepath.Join(work, "temporal.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + frontend, path
}

// lowPort is a free port below 32768: Temporal keeps each service's
// membership port in a PostgreSQL smallint, and the kernel hands out
// ephemeral ports above that.
func lowPort(t *testing.T) string {
	t.Helper()
	for range 1000 {
		port := strconv.Itoa(20000 + rand.IntN(12000))
		if l, err := net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port between 20000 and 32000")
	return ""
}

// postgres is one PostgreSQL cluster in a temp dir on a free port, run as
// the unprivileged postgres user when the check runs as root.
type postgres struct {
	ps         *procs
	bin        string
	data, sock string
	port       string
	cred       *syscall.Credential
	p          *process
}

func newPostgres(t *testing.T, ps *procs, bin, dir string) *postgres {
	t.Helper()
	pg := &postgres{ps: ps, bin: bin, data: filepath.Join(dir, "data"), sock: filepath.Join(dir, "sock"), port: freePort(t)}
	var uid, gid int = os.Getuid(), os.Getgid()
	if uid == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("PostgreSQL does not run as root, and there is no postgres user: %v", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	pwfile := filepath.Join(dir, "pwfile")
	for _, d := range []string{dir, pg.data, pg.sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(pwfile, []byte("temporal\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(pwfile, uid, gid)
	initdb := pg.command("initdb", "-D", pg.data, "-U", "temporal", "--pwfile", pwfile, "--auth-host", "scram-sha-256", "--auth-local", "peer", "-E", "UTF8", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	t.Cleanup(pg.stop)
	return pg
}

func (pg *postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(pg.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	cmd.Dir = pg.sock
	return cmd
}

func (pg *postgres) start(t *testing.T) {
	t.Helper()
	pg.p = pg.ps.startCmd("postgres", pg.command("postgres", "-D", pg.data, "-p", pg.port, "-k", pg.sock, "-c", "listen_addresses=127.0.0.1"))
	deadline := time.Now().Add(time.Minute)
	for pg.command("pg_isready", "-q", "-h", "127.0.0.1", "-p", pg.port).Run() != nil {
		if !pg.p.running() {
			t.Fatalf("%s exited: %v", pg.p.name, pg.p.waitErr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL did not accept connections within a minute")
		}
		<-time.After(100 * time.Millisecond)
	}
}

// stop is PostgreSQL's fast shutdown: open transactions are rolled back,
// connections closed, and the data written out.
func (pg *postgres) stop() {
	if pg.p != nil && pg.p.running() {
		pg.p.stop(syscall.SIGINT, 30*time.Second)
	}
}

// createSchemas sets up Temporal's two databases with its own tool, as
// the admin-tools image does in docker-compose.yml.
func (pg *postgres) createSchemas(t *testing.T, tool, schemaDir string) {
	t.Helper()
	for db, dir := range map[string]string{"temporal": "temporal", "temporal_visibility": "visibility"} {
		base := []string{"--plugin", "postgres12", "--ep", "127.0.0.1", "-p", pg.port, "-u", "temporal", "--pw", "temporal", "--db", db}
		for _, args := range [][]string{{"create-database"}, {"setup-schema", "-v", "0.0"}, {"update-schema", "-d", filepath.Join(schemaDir, dir, "versioned")}} {
			out, err := exec.Command(tool, append(slices.Clone(base), args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("temporal-sql-tool %s %s: %v\n%s", db, args[0], err, out)
			}
		}
	}
}
