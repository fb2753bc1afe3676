package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/policies"
)

func TestEntraIssuers(t *testing.T) {
	v2, v1 := EntraIssuers("tid-1")
	if v2 != "https://login.microsoftonline.com/tid-1/v2.0" || v1 != "https://sts.windows.net/tid-1/" {
		t.Errorf("issuers = %q, %q", v2, v1)
	}
}

// A v1.0 token (issuer sts.windows.net) passes only when that issuer is
// configured too; the tenant is checked either way.
func TestVerifierMoreIssuers(t *testing.T) {
	e := newEnv(t)
	_, v1 := EntraIssuers(e.policy.TenantID)
	c := e.claims(aliceID, 0)
	c.Issuer = v1
	tok := e.sign(c)
	ctx := context.Background()
	if _, err := e.server.verifier.Verify(ctx, tok); err == nil || !strings.Contains(err.Error(), "wrong issuer") {
		t.Fatalf("v1 token without the v1 issuer configured: err = %v", err)
	}
	v, err := NewTokenVerifier(VerifierConfig{Issuer: e.issuer.Issuer(), MoreIssuers: []string{v1}, Audience: testAudience,
		JWKSURL: e.issuer.JWKSURL(), TenantID: e.policy.TenantID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Errorf("v1 token refused: %v", err)
	}
	c.TenantID = "99999999-9999-4999-8999-999999999999"
	if _, err := v.Verify(ctx, e.sign(c)); err == nil || !strings.Contains(err.Error(), "wrong tenant") {
		t.Errorf("v1 token of another tenant: err = %v", err)
	}
}

// Keys rotate: a set older than jwksMaxAge is read again behind the
// callers' backs, and a key the issuer dropped stops working.
func TestVerifierKeyRotation(t *testing.T) {
	e := newEnv(t)
	newKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rotated := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &newKey.PublicKey, KeyID: "k2", Algorithm: "RS256", Use: "sig"}}}
	rotatedJSON, _ := json.Marshal(rotated)
	var rotate atomic.Bool
	hits := make(chan struct{}, 10)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rotate.Load() {
			w.Write(rotatedJSON)
		} else {
			w.Write(e.issuer.JWKS())
		}
		hits <- struct{}{}
	}))
	defer jwks.Close()
	v, err := NewTokenVerifier(VerifierConfig{Issuer: e.issuer.Issuer(), Audience: testAudience, JWKSURL: jwks.URL})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v.now = func() time.Time { return now }
	ctx := context.Background()
	old := e.token("alice")
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	<-hits
	rotate.Store(true)
	later := jwksMaxAge + time.Minute
	now = now.Add(later)
	old = e.sign(e.claims(aliceID, -later)) // the old key, a token valid then
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("a stale but known key must still serve while the set is read again: %v", err)
	}
	<-hits
	v.fetching.Lock() // held by the refresh until it has stored the new set
	v.fetching.Unlock()
	if _, err := v.Verify(ctx, old); err == nil || !strings.Contains(err.Error(), "unknown signing key") {
		t.Errorf("token signed with a rotated-out key: err = %v", err)
	}
	fresh := signWith(t, jose.RS256, jose.JSONWebKey{Key: newKey, KeyID: "k2"}, e.claims(aliceID, -later))
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Errorf("token signed with the new key: %v", err)
	}
}

// fakeDirectory answers only the overage lookup; the policy these tests
// use names nobody through Entra, so nothing else is asked.
type fakeDirectory struct {
	policies.Directory
	groups map[string][]string
	err    error
	calls  atomic.Int32
}

func (d *fakeDirectory) MemberGroups(_ context.Context, id string) ([]string, error) {
	d.calls.Add(1)
	return d.groups[id], d.err
}

func TestGroupOverage(t *testing.T) {
	dir := &fakeDirectory{groups: map[string][]string{aliceID: {"5e1b0d1e-0000-4000-8000-000000000001", "oncall"}}}
	e := newEnvWith(t, policies.Dev(), func(c *Config) { c.Directory = dir })
	overage := e.tokenWith("alice", devauth.TokenOptions{Overage: true})
	glass := `{"role":"breakglass","justification":"outage"}`
	// Graph says alice is on call, which neither token nor policy knows.
	r := e.callToken(http.MethodPost, "/api/v1/requests", overage, glass)
	wantStatus(t, r, http.StatusCreated)
	if dir.calls.Load() != 1 {
		t.Errorf("directory asked %d times, want 1", dir.calls.Load())
	}
	// Without overage the token's groups stand and Graph is not asked.
	r = e.call(http.MethodPost, "/api/v1/requests", "alice", `{"role":"breakglass","justification":"outage","duration":"20m"}`)
	wantStatus(t, r, http.StatusForbidden)
	if dir.calls.Load() != 1 {
		t.Errorf("directory asked without an overage")
	}
	dir.err = errors.New("graph: 503")
	r = e.callToken(http.MethodGet, "/api/v1/requests", overage, "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "detail", r.problem(t).Detail, "too many groups")
}

// Without a directory an overage leaves the caller with the policy's groups.
func TestGroupOverageWithoutDirectory(t *testing.T) {
	e := newEnv(t)
	tok := e.tokenWith("alice", devauth.TokenOptions{Overage: true})
	wantStatus(t, e.callToken(http.MethodPost, "/api/v1/requests", tok, readerBody), http.StatusCreated)
	wantContains(t, "log", e.logs.String(), "group overage")
}

func TestAuditorReadsButDoesNotAct(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	auditor := e.tokenWith("erin", devauth.TokenOptions{Roles: []string{AuditorRole}})
	for _, path := range []string{"/api/v1/requests/" + id, "/api/v1/requests/" + id + "/audit"} {
		wantStatus(t, e.callToken(http.MethodGet, path, auditor, ""), http.StatusOK)
		wantStatus(t, e.call(http.MethodGet, path, "erin", ""), http.StatusForbidden)
	}
	r := e.callToken(http.MethodGet, "/api/v1/requests", auditor, "")
	wantStatus(t, r, http.StatusOK)
	var body listBody
	json.Unmarshal(r.body, &body)
	if len(body.Requests) != 1 || body.Requests[0].ID != id {
		t.Errorf("auditor's list = %s", r.body)
	}
	for _, action := range []string{"approve", "deny", "cancel", "revoke"} {
		r := e.callToken(http.MethodPost, "/api/v1/requests/"+id+"/"+action, auditor, "")
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, "detail", r.problem(t).Detail, "auditor role may read request")
	}
	if len(e.temporal.updates) != 0 {
		t.Errorf("an auditor's action reached the workflow")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnvWith(t, policies.Dev(), func(c *Config) { c.RateLimit = RateLimit{PerSecond: 0.5, Burst: 2} })
	now := time.Now()
	e.server.now = func() time.Time { return now }
	for range 2 {
		wantStatus(t, e.call(http.MethodGet, "/api/v1/requests", "alice", ""), http.StatusOK)
	}
	r := e.call(http.MethodGet, "/api/v1/requests", "alice", "")
	wantStatus(t, r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	wantContains(t, "detail", r.problem(t).Detail, "too many calls", "retry in 2 s")
	// Others are not held up, health checks are not limited, and time refills the bucket.
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests", "bob", ""), http.StatusOK)
	wantStatus(t, e.call(http.MethodGet, "/healthz", "", ""), http.StatusOK)
	now = now.Add(2 * time.Second)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests", "alice", ""), http.StatusOK)
}

func TestClaimsFromToken(t *testing.T) {
	e := newEnv(t)
	c := struct {
		entraClaims
		AMR        []string          `json:"amr"`
		ACRS       []string          `json:"acrs"`
		HasGroups  bool              `json:"hasgroups"`
		ClaimNames map[string]string `json:"_claim_names,omitempty"`
	}{entraClaims: e.claims(aliceID, 0), AMR: []string{"pwd", "mfa"}, ACRS: []string{"c1"}}
	got, err := e.server.verifier.Verify(context.Background(), e.sign(c))
	if err != nil {
		t.Fatal(err)
	}
	if !got.MFA() || !slices.Equal(got.ACRS, []string{"c1"}) || got.GroupsOverage {
		t.Errorf("claims = %+v", got)
	}
	c.HasGroups = true
	if got, _ := e.server.verifier.Verify(context.Background(), e.sign(c)); !got.GroupsOverage {
		t.Error("hasgroups is an overage")
	}
	c.HasGroups, c.ClaimNames = false, map[string]string{"groups": "src1"}
	if got, _ := e.server.verifier.Verify(context.Background(), e.sign(c)); !got.GroupsOverage {
		t.Error("_claim_names.groups is an overage")
	}
}

func TestPageTokenKeyLength(t *testing.T) {
	e := newEnv(t)
	_, err := New(Config{Temporal: e.temporal, Policy: e.policy, Verifier: e.server.verifier, Proofs: testProofs, PageTokenKey: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "PageTokenKey") {
		t.Errorf("err = %v, want one about PageTokenKey", err)
	}
}
