// Package devstack runs the whole jitflow system in one process for
// `jitflow dev` and the end-to-end tests: an embedded Temporal server and
// Web UI (or an existing Temporal server), the worker, the API, the Graph
// emulator, the mail outbox and the dev token issuer. It only wires the
// production parts together.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/common/metrics"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/directory"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/internal/devtemporal"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/server"
	"github.com/jitflow/jitflow/telemetry"
	"github.com/jitflow/jitflow/temporalsetup"
	"github.com/jitflow/jitflow/worker"
)

// Audience is the dev API's token audience, like an Entra app id URI.
const Audience = "api://jitflow"

// Options configure the stack. Ports of 0 and addresses ending in ":0" pick
// free ports.
type Options struct {
	DataDir  string
	HTTPAddr string
	// TemporalAddress, when set, is the host:port of an existing Temporal
	// server to use instead of the embedded one (and its Web UI): the
	// namespace must exist there; missing search attributes are created.
	TemporalAddress string
	TemporalPort    int
	UIPort          int
	NoUI            bool
	GraphAddr       string
	Policy          *policies.Policy
	// Policies, when set, supplies the policy as it is reloaded
	// (policies.Live); Policy is then ignored.
	Policies interface{ Current() *policies.Policy }
	// DirectoryCacheFor is how long Entra lookups (groups, managers,
	// users) are kept; 0 means directory's default.
	DirectoryCacheFor time.Duration
	Namespace         string
	Retention         time.Duration
	Logger            *slog.Logger
	// SendGrid, when set, sends mail through SendGrid; the outbox keeps a
	// copy. Its sent keys live in the data dir unless Sent is set.
	SendGrid *activities.SendGridConfig
	// AuditSink, when set, runs the continuous audit export into this file
	// or URL every AuditEvery.
	AuditSink  string
	AuditEvery time.Duration
	// ConfigureGraph, when set, adjusts the Graph emulator's options
	// (Entra's rules, seeded assignments) before it starts.
	ConfigureGraph func(*graphemu.Options)
	// NoWorker leaves the worker out: the process serves Temporal, the
	// Graph emulator, the token issuer, the outbox and the API for
	// `jitflow worker` processes started elsewhere, and its readiness does
	// not wait for a worker.
	NoWorker bool
	// Mailer, when set, receives every email instead of the outbox (which
	// then stays empty) and SendGrid. A benchmark counts mail this way, so
	// a demo's outbox file is not part of what it measures.
	Mailer activities.Mailer
	// RateLimit bounds each caller's API calls; zero means DevRateLimit.
	// A benchmark raises it so the limiter does not shape its numbers.
	RateLimit server.RateLimit
	// TemporalMetrics, when set, receives the embedded Temporal server's
	// metrics (a benchmark counts its store writes); ignored with
	// TemporalAddress.
	TemporalMetrics metrics.Handler
}

// Stack is a running dev system.
type Stack struct {
	APIURL       string // http://host:port of the API, pages and dev endpoints
	GraphURL     string // http://host:port of the Graph emulator
	UIURL        string // http://host:port of the Temporal Web UI, "" without it
	TemporalAddr string // host:port of the Temporal frontend
	Namespace    string
	Client       client.Client
	Graph        *graphemu.Emulator
	Outbox       *outbox.Outbox
	// Users are the people dev tokens can be had for (GET /dev/token?user=):
	// the policy's users list and the dev tenant's people.
	Users []policies.User
	// Metrics is what GET /metrics serves: the worker's, the API's and the
	// Temporal SDK's series.
	Metrics *telemetry.Metrics

	temporal *devtemporal.Server
	worker   sdkworker.Worker
	api      *http.Server
	handler  atomic.Pointer[http.Handler] // starting, then the API
	graphSrv *http.Server
	pim      *graph.Client
	// directory answers the policy's Entra references from the emulator.
	directory *directory.Graph
	apiServer *server.Server
	// graphMinActive is the emulator's minimum active time (0: off).
	graphMinActive time.Duration
	stops          []func()
}

// Start brings every part up; on error it stops what it started.
func Start(ctx context.Context, opts Options) (st *Stack, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Policies != nil {
		opts.Policy = opts.Policies.Current()
	}
	if opts.Policy == nil {
		opts.Policy = policies.Dev()
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", opts.DataDir, err)
	}
	st = &Stack{Namespace: opts.Namespace, Metrics: telemetry.New()}
	// The error returns below set st to nil: stop through a copy.
	started := st
	defer func() {
		if err != nil {
			started.Stop()
		}
	}()
	// Listen first: the issuer and the emails need the real addresses.
	apiLn, err := net.Listen("tcp", opts.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("--http-addr %s: %w", opts.HTTPAddr, err)
	}
	st.APIURL = "http://" + apiLn.Addr().String()
	// Serve at once: until the API is wired, every call (health checks
	// included) gets a 503 instead of hanging in the listen queue.
	st.setHandler(http.HandlerFunc(starting))
	st.api = &http.Server{Handler: st, ReadHeaderTimeout: 10 * time.Second}
	go st.api.Serve(apiLn)
	if err := st.startGraph(opts); err != nil {
		return nil, err
	}
	// The embedded server's own SDK workers create the process's shared
	// workflow cache: size it before they start.
	worker.SizeCache()
	if err := st.startTemporal(ctx, opts); err != nil {
		return nil, err
	}
	mail, err := openOutbox(opts.DataDir)
	if err != nil {
		return nil, err
	}
	st.Outbox = mail
	st.stops = append(st.stops, func() { mail.Close() })
	// The provider knows Entra's minimum active time only as a setting:
	// Graph's refusal does not say when removal is allowed.
	pim, err := graph.New(graph.Config{BaseURL: st.GraphURL, MinActiveTime: st.graphMinActive})
	if err != nil {
		return nil, err
	}
	st.pim = pim
	if st.directory, err = st.newDirectory(opts.Policy, opts.DirectoryCacheFor); err != nil {
		return nil, err
	}
	keys, links, err := approvalLinks(opts.DataDir, st.APIURL)
	if err != nil {
		return nil, err
	}
	var workerUp *atomic.Bool
	if !opts.NoWorker {
		if workerUp, err = st.startWorker(opts, mail, keys, links); err != nil {
			return nil, err
		}
	}
	if err := st.startAuditExport(ctx, opts); err != nil {
		return nil, err
	}
	if err := st.startAPI(opts, mail, keys, workerUp); err != nil {
		return nil, err
	}
	return st, nil
}

// startWorker runs the worker in this process; the flag it returns is
// true while the worker runs.
func (st *Stack) startWorker(opts Options, mail *outbox.Outbox, keys *approvals.KeySet, links *approvals.Links) (*atomic.Bool, error) {
	send, err := mailer(opts, mail)
	if err != nil {
		return nil, err
	}
	st.worker = worker.New(st.Client, &activities.Activities{PIM: st.pim, Mailer: send, Links: links, Directory: st.directory}, proof.FromKeySet(keys))
	if err := st.worker.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	up := new(atomic.Bool)
	up.Store(true)
	st.stops = append(st.stops, func() { up.Store(false); st.worker.Stop() })
	return up, nil
}

// openOutbox opens the data dir's outbox, taking over the one that data
// dirs of earlier versions kept as outbox.json.
func openOutbox(dir string) (*outbox.Outbox, error) {
	path := filepath.Join(dir, "outbox.jsonl")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(filepath.Join(dir, "outbox.json"), path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	return outbox.Open(path)
}

func (st *Stack) startAuditExport(ctx context.Context, opts Options) error {
	if opts.AuditSink == "" {
		return nil
	}
	sink, err := audit.OpenSink(opts.AuditSink, "")
	if err != nil {
		return err
	}
	every := opts.AuditEvery
	if every == 0 {
		every = 5 * time.Minute
	}
	w, err := audit.StartExport(ctx, st.Client, sink, every, st.Metrics.ExportedEvents)
	if err != nil {
		return err
	}
	st.stops = append(st.stops, w.Stop)
	return nil
}

func (st *Stack) startGraph(opts Options) error {
	gopts := graphemu.Options{
		StatePath:     filepath.Join(opts.DataDir, "graph.json"),
		Logger:        opts.Logger.With("component", "graph-emulator"),
		Eligibilities: policyEligibilities(opts.Policy),
	}
	if opts.ConfigureGraph != nil {
		opts.ConfigureGraph(&gopts)
	}
	st.graphMinActive = gopts.MinActiveTime
	emu, err := graphemu.New(gopts)
	if err != nil {
		return fmt.Errorf("graph emulator: %w", err)
	}
	st.Graph = emu
	st.stops = append(st.stops, func() { emu.Close() })
	ln, err := net.Listen("tcp", opts.GraphAddr)
	if err != nil {
		return fmt.Errorf("--graph-addr %s: %w", opts.GraphAddr, err)
	}
	st.GraphURL = "http://" + ln.Addr().String()
	st.graphSrv = &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go st.graphSrv.Serve(ln)
	st.stops = append(st.stops, func() { st.graphSrv.Close() })
	return nil
}

// policyEligibilities makes everyone who may request a role that requires
// a PIM eligibility eligible for it in the emulator, as an administrator
// would in Entra.
func policyEligibilities(p *policies.Policy) []graphemu.Target {
	var out []graphemu.Target
	for i := range p.Roles {
		r := &p.Roles[i]
		if !r.RequireEligibility {
			continue
		}
		for _, id := range p.RequesterIDs(r) {
			out = append(out, graphemu.Target{PrincipalID: id, RoleDefinitionID: r.RoleDefinitionID, DirectoryScopeID: r.DirectoryScopeID,
				GroupID: r.GroupID, AccessID: r.GroupAccess})
		}
	}
	return out
}

func (st *Stack) startTemporal(ctx context.Context, opts Options) error {
	if opts.TemporalAddress != "" {
		return st.useTemporal(ctx, opts)
	}
	srv, err := devtemporal.Start(devtemporal.Options{
		DatabaseFile:     filepath.Join(opts.DataDir, "temporal.db"),
		Port:             opts.TemporalPort,
		UIPort:           opts.UIPort,
		NoUI:             opts.NoUI,
		Namespace:        opts.Namespace,
		Retention:        opts.Retention,
		SearchAttributes: temporalsetup.SearchAttributes,
		Logger:           opts.Logger,
		MetricsHandler:   opts.TemporalMetrics,
	})
	if err != nil {
		return err
	}
	st.temporal = srv
	st.stops = append(st.stops, srv.Stop)
	st.TemporalAddr = srv.FrontendAddress
	if srv.UIAddress != "" {
		st.UIURL = "http://" + srv.UIAddress
	}
	if err := st.dial(ctx, opts, "the embedded temporal server"); err != nil {
		return err
	}
	if opts.Retention <= 0 {
		return nil
	}
	// The namespace exists (devtemporal created it); this applies a
	// retention that changed since an earlier run.
	_, err = temporalsetup.EnsureNamespace(ctx, st.Client, opts.Namespace, opts.Retention)
	return err
}

// useTemporal connects to an existing Temporal server. Its namespace is
// the user's: jitflow adds the search attributes it needs and leaves the
// retention alone (jitflow setup sets it).
func (st *Stack) useTemporal(ctx context.Context, opts Options) error {
	st.TemporalAddr = opts.TemporalAddress
	if err := st.dial(ctx, opts, "temporal at "+opts.TemporalAddress); err != nil {
		return err
	}
	if _, err := temporalsetup.EnsureSearchAttributes(ctx, st.Client, opts.Namespace); err != nil {
		return fmt.Errorf("temporal at %s: %w", opts.TemporalAddress, err)
	}
	return nil
}

// dial connects the stack's client to st.TemporalAddr; what names the
// server in the error.
func (st *Stack) dial(ctx context.Context, opts Options, what string) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  st.TemporalAddr,
		Namespace: opts.Namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(telemetry.WithRequestID(opts.Logger.Handler())).With("component", "temporal-sdk")),
		// Workers made from this client use the interceptor too.
		MetricsHandler: st.Metrics.SDKHandler(),
		Interceptors:   []interceptor.ClientInterceptor{st.Metrics.Interceptor()},
	})
	if err != nil {
		return fmt.Errorf("connect to %s: %w", what, err)
	}
	st.Client = c
	st.stops = append(st.stops, c.Close)
	return nil
}

func (st *Stack) startAPI(opts Options, mail *outbox.Outbox, keys *approvals.KeySet, workerUp *atomic.Bool) error {
	tokens := tokenPolicy(opts.Policy)
	st.Users = tokens.Users
	issuer, err := devauth.New(filepath.Join(opts.DataDir, "dev-signing-key.pem"), st.APIURL+"/dev", Audience, tokens)
	if err != nil {
		return fmt.Errorf("dev token issuer: %w", err)
	}
	verifier, err := server.NewTokenVerifier(server.VerifierConfig{
		Issuer:   st.APIURL + "/dev",
		Audience: Audience,
		JWKSURL:  st.APIURL + "/dev/jwks.json",
		TenantID: opts.Policy.TenantID,
	})
	if err != nil {
		return err
	}
	api, err := server.New(server.Config{
		Temporal: st.Client,
		Policy:   opts.Policy,
		Policies: opts.Policies,
		Verifier: verifier,
		BaseURL:  st.APIURL,
		// Approval pages, with sign-in against the dev issuer.
		ApprovalKeys: keys,
		Proofs:       proof.FromKeySet(keys),
		SignIn:       signIn(issuer, st.APIURL),
		Ready:        readiness(st.Client, workerUp),
		Logger:       opts.Logger,
		Metrics:      st.Metrics,
		Directory:    st.directory,
		RateLimit:    rateLimit(opts.RateLimit),
		// The dev API asks the emulator, as production asks Entra.
		Eligibility: st.pim,
		// Operators' link from a request's portal page to its workflow.
		TemporalUIURL: server.NamespaceUI(st.UIURL, opts.Namespace),
	})
	if err != nil {
		return err
	}
	st.apiServer = api
	if err := st.Metrics.Register(telemetry.NewVisibilityCollector(st.Client, opts.Policy.RoleNames(), 5*time.Second)); err != nil {
		return err
	}
	e := api.Echo()
	e.GET("/metrics", echo.WrapHandler(st.Metrics.Handler()))
	issuer.Register(e)
	e.GET("/dev/outbox", echo.WrapHandler(mail))
	st.setHandler(api.Handler())
	return nil
}

func rateLimit(l server.RateLimit) server.RateLimit {
	if l == (server.RateLimit{}) {
		return DevRateLimit
	}
	return l
}

// ServeHTTP hands the call to the API once it is wired.
func (st *Stack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*st.handler.Load()).ServeHTTP(w, r)
}

func (st *Stack) setHandler(h http.Handler) { st.handler.Store(&h) }

// starting answers while the stack comes up.
func starting(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", server.ProblemContentType)
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	json.NewEncoder(w).Encode(server.Problem{
		Type: "about:blank", Title: http.StatusText(http.StatusServiceUnavailable), Status: http.StatusServiceUnavailable,
		Detail: "jitflow is starting; try again in a moment", Instance: r.URL.Path,
	})
}

// readiness is up when Temporal answers and the worker runs; workerUp is
// nil when the stack runs no worker (workers run elsewhere).
func readiness(c client.Client, workerUp *atomic.Bool) func(context.Context) error {
	return func(ctx context.Context) error {
		if workerUp != nil && !workerUp.Load() {
			return errors.New("worker is not running")
		}
		if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			return fmt.Errorf("temporal: %w", err)
		}
		return nil
	}
}

// Stop stops taking calls first, then everything else in reverse order of
// start. It is safe to call twice.
func (st *Stack) Stop() {
	if st.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st.api.Shutdown(ctx)
		cancel()
	}
	for i := len(st.stops) - 1; i >= 0; i-- {
		st.stops[i]()
	}
	st.stops = nil
}

// FreeAddr returns 127.0.0.1:PORT with a free port, for tests.
func FreeAddr() (string, error) {
	p, err := devtemporal.FreePort("127.0.0.1")
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), nil
}

// CheckPolicy reports whether the dev API can serve p (see
// server.Server.CheckPolicy); a reload is refused when it cannot.
func (st *Stack) CheckPolicy(p *policies.Policy) error {
	if st.apiServer == nil {
		return errors.New("the dev API is not running")
	}
	return st.apiServer.CheckPolicy(p)
}
