package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

const testAudience = "api://jitflow"

// Object ids of the dev policy's users.
const (
	aliceID = "11111111-1111-4111-8111-000000000001"
	bobID   = "11111111-1111-4111-8111-000000000002"
	carolID = "11111111-1111-4111-8111-000000000003"
	daveID  = "11111111-1111-4111-8111-000000000004"
	erinID  = "11111111-1111-4111-8111-000000000005"
)

// env is one API under test: the dev issuer on its own httptest server
// (serving the key set the verifier fetches), a fake Temporal, the API.
type env struct {
	t        testing.TB
	issuer   *devauth.Issuer
	idp      *httptest.Server
	jwksHits *counter
	temporal *fakeTemporal
	server   *Server
	api      *httptest.Server
	policy   *policies.Policy
	logs     *syncBuffer
	ready    error
	// eligibility is handed to the server; set it in an option of newEnv.
	eligibility Eligibility
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }

func (c *counter) get() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testKeys stand for a deployment's key list; testProofs are its proof keys.
var (
	testKeys, _ = approvals.NewKeySet(approvals.Key{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	testProofs  = proof.FromKeySet(testKeys)
)

// newEnv builds the API; options run before it is built (to change the
// policy, say).
func newEnv(t *testing.T, opts ...func(*env)) *env {
	t.Helper()
	return newEnvWith(t, policies.Dev(), nil, opts...)
}

// newEnvWith is newEnv with another policy, and a chance to change the
// API's config before it is built.
func newEnvWith(t testing.TB, pol *policies.Policy, configure func(*Config), opts ...func(*env)) *env {
	t.Helper()
	e := &env{t: t, policy: pol, temporal: newFakeTemporal(), jwksHits: &counter{}, logs: &syncBuffer{}}
	for _, o := range opts {
		o(e)
	}
	e.startIssuer()
	verifier, err := NewTokenVerifier(VerifierConfig{
		Issuer: e.issuer.Issuer(), Audience: testAudience, JWKSURL: e.issuer.JWKSURL(), TenantID: e.policy.TenantID,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Temporal: e.temporal,
		Policy:   e.policy,
		Verifier: verifier,
		Proofs:   testProofs,
		BaseURL:  "https://jitflow.example.com/",
		Ready:    func(context.Context) error { return e.ready },
		Logger:   slog.New(slog.NewJSONHandler(e.logs, nil)),
		// Tests call fast; TestRateLimit checks the limit itself.
		RateLimit:   RateLimit{PerSecond: 1000, Burst: 1000},
		Eligibility: e.eligibility,
	}
	if configure != nil {
		configure(&cfg)
	}
	e.server, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.api = httptest.NewServer(e.server.Handler())
	t.Cleanup(e.api.Close)
	return e
}

// startIssuer serves the dev issuer; its URL is only known once the
// listener is up, so the handler is installed afterwards.
func (e *env) startIssuer() {
	e.t.Helper()
	var handler http.Handler
	e.idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == devauth.JWKSPath {
			e.jwksHits.add()
		}
		handler.ServeHTTP(w, r)
	}))
	e.t.Cleanup(e.idp.Close)
	iss, err := devauth.New(filepath.Join(e.t.TempDir(), "dev-token.pem"), e.idp.URL+"/dev", testAudience, e.policy)
	if err != nil {
		e.t.Fatal(err)
	}
	ech := echo.New()
	iss.Register(ech)
	handler = ech
	e.issuer = iss
}

func (e *env) token(user string) string {
	e.t.Helper()
	tok, err := e.issuer.Token(user)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) tokenWith(user string, opts devauth.TokenOptions) string {
	e.t.Helper()
	tok, err := e.issuer.TokenWith(user, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// callToken is call with a given bearer token.
func (e *env) callToken(method, path, token, body string, headers ...string) response {
	e.t.Helper()
	return e.call(method, path, "", body, append(headers, "Authorization: Bearer "+token)...)
}

// response is one answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
		t.Fatalf("Content-Type = %q, want %q; body %s", ct, ProblemContentType, r.body)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, r.body)
	}
	if p.Status != r.status || p.Type != "about:blank" || p.Title != http.StatusText(r.status) || p.Detail == "" || p.Instance == "" {
		t.Errorf("problem %+v does not match status %d", p, r.status)
	}
	return p
}

func (r response) request(t testing.TB) workflows.Request {
	t.Helper()
	var req workflows.Request
	if err := json.Unmarshal(r.body, &req); err != nil {
		t.Fatalf("request body: %v: %s", err, r.body)
	}
	return req
}

// call sends method path as user (no token when user is ""), with body
// sent as is and extra headers given as "Name: value".
func (e *env) call(method, path, user, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.api.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.token(user))
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// create submits a request that must succeed and returns its id.
func (e *env) create(user, body string, headers ...string) string {
	e.t.Helper()
	r := e.call(http.MethodPost, "/api/v1/requests", user, body, headers...)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create: status %d: %s", r.status, r.body)
	}
	return r.request(e.t).ID
}

const readerBody = `{"role":"reader","duration":"1h","justification":"investigate incident 42"}`

func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}

func wantContains(t testing.TB, what, s string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			t.Errorf("%s %q does not mention %q", what, s, f)
		}
	}
}

// unproven checks that an update or start argument the server sent carries
// its proof for request id, as the workflow would, and returns the
// argument without it, for comparing with what a test expects.
func unproven(t testing.TB, id string, arg any) any {
	t.Helper()
	if err := workflows.Verify(testProofs, id, arg, time.Now()); err != nil {
		t.Errorf("argument %+v: %v", arg, err)
	}
	switch in := arg.(type) {
	case workflows.DecideInput:
		in.Proof = nil
		return in
	case workflows.CancelInput:
		in.Proof = nil
		return in
	case workflows.RevokeInput:
		in.Proof = nil
		return in
	case workflows.ExtendInput:
		in.Proof = nil
		return in
	case workflows.AccessRequestInput:
		in.Proof = nil
		return in
	}
	return arg
}
