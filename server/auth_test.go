package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/jitflow/jitflow/policies"
)

// entraClaims builds a claim set like the dev issuer's, for tokens the
// tests then spoil one way or another.
type entraClaims struct {
	jwt.Claims
	ObjectID          string   `json:"oid,omitempty"`
	TenantID          string   `json:"tid,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Groups            []string `json:"groups,omitempty"`
	Roles             []string `json:"roles,omitempty"`
}

func (e *env) claims(oid string, age time.Duration) entraClaims {
	now := time.Now().Add(-age)
	return entraClaims{
		Claims: jwt.Claims{
			Issuer: e.issuer.Issuer(), Subject: oid, Audience: jwt.Audience{testAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		ObjectID: oid, TenantID: e.policy.TenantID, PreferredUsername: "alice@example.com",
	}
}

func (e *env) sign(c any) string {
	e.t.Helper()
	tok, err := e.issuer.Sign(c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) kid() string {
	e.t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(e.issuer.JWKS(), &set); err != nil {
		e.t.Fatal(err)
	}
	return set.Keys[0].KeyID
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// forgedTokens are tokens whose signature the issuer never made.
func (e *env) forgedTokens() map[string]string {
	e.t.Helper()
	c := e.claims(aliceID, 0)
	out := map[string]string{}

	out["alg none"] = b64(map[string]string{"alg": "none", "typ": "JWT", "kid": e.kid()}) + "." + b64(c) + "."

	// The classic confusion attack: the public key used as an HMAC secret.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(e.issuer.JWKS(), &set); err != nil {
		e.t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(set.Keys[0].Key)
	if err != nil {
		e.t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	out["HS256 with the public key"] = signWith(e.t, jose.HS256, jose.JSONWebKey{Key: pubPEM, KeyID: e.kid()}, c)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		e.t.Fatal(err)
	}
	out["unknown kid"] = signWith(e.t, jose.RS256, jose.JSONWebKey{Key: other, KeyID: "someone-else"}, c)
	out["foreign key, known kid"] = signWith(e.t, jose.RS256, jose.JSONWebKey{Key: other, KeyID: e.kid()}, c)
	return out
}

func signWith(t testing.TB, alg jose.SignatureAlgorithm, key jose.JSONWebKey, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAuthRefusesBadTokens(t *testing.T) {
	e := newEnv(t)
	spoil := func(f func(c *entraClaims)) string {
		c := e.claims(aliceID, 0)
		f(&c)
		return e.sign(c)
	}
	tests := map[string]struct {
		header string // the whole Authorization header; "" sends none
		reason string
	}{
		"missing":         {"", "no bearer token"},
		"wrong scheme":    {"Basic YWxpY2U6c2VjcmV0", "Bearer"},
		"empty bearer":    {"Bearer ", "Bearer"},
		"garbage":         {"Bearer not.a.token", "not a JWT"},
		"expired":         {"Bearer " + e.sign(e.claims(aliceID, 2*time.Hour)), "expired"},
		"not yet valid":   {"Bearer " + e.sign(e.claims(aliceID, -10*time.Minute)), "not valid yet"},
		"wrong audience":  {"Bearer " + spoil(func(c *entraClaims) { c.Audience = jwt.Audience{"api://other"} }), "audience"},
		"wrong issuer":    {"Bearer " + spoil(func(c *entraClaims) { c.Issuer = "https://login.example.net/other" }), "issuer"},
		"wrong tenant":    {"Bearer " + spoil(func(c *entraClaims) { c.TenantID = "99999999-9999-4999-8999-999999999999" }), "tenant"},
		"no oid":          {"Bearer " + spoil(func(c *entraClaims) { c.ObjectID = "" }), "oid"},
		"no expiry":       {"Bearer " + spoil(func(c *entraClaims) { c.Expiry = nil }), "exp"},
		"signature moved": {"Bearer " + tamper(e.token("alice")), "signature"},
	}
	for name, tok := range e.forgedTokens() {
		tests[name] = struct{ header, reason string }{"Bearer " + tok, ""}
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.api.URL+"/api/v1/requests", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := e.do(req)
			wantStatus(t, r, http.StatusUnauthorized)
			p := r.problem(t)
			wantContains(t, "detail", p.Detail, tt.reason)
			wantContains(t, "WWW-Authenticate", r.header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`, "error_description=")
		})
	}
}

// tamper swaps the payload for one naming another user, keeping the
// original signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), aliceID, daveID, 1)))
	return strings.Join(parts, ".")
}

func TestAuthAcceptsDevToken(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodGet, "/api/v1/requests", "alice", "")
	wantStatus(t, r, http.StatusOK)
	// Within the leeway a slightly stale token still passes.
	c := e.claims(aliceID, time.Hour+30*time.Second)
	req, _ := http.NewRequest(http.MethodGet, e.api.URL+"/api/v1/requests", nil)
	req.Header.Set("Authorization", "Bearer "+e.sign(c))
	wantStatus(t, e.do(req), http.StatusOK)
}

func TestVerifierClaims(t *testing.T) {
	e := newEnv(t)
	c := e.claims(daveID, 0)
	c.PreferredUsername = ""
	c.Groups = []string{"g1"}
	c.Roles = []string{"operator"}
	raw := e.sign(struct {
		entraClaims
		UPN string `json:"upn"`
	}{c, "dave@example.com"})
	got, err := e.server.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.ObjectID != daveID || got.UPN != "dave@example.com" || got.Groups[0] != "g1" || got.Roles[0] != "operator" {
		t.Errorf("claims = %+v", got)
	}
}

func TestVerifierFetchesKeysSparingly(t *testing.T) {
	e := newEnv(t)
	v := e.server.verifier
	now := time.Now()
	v.now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := v.Verify(ctx, e.token("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, e.token("bob")); err != nil {
		t.Fatal(err)
	}
	if n := e.jwksHits.get(); n != 1 {
		t.Fatalf("key set fetched %d times for two tokens, want 1", n)
	}
	unknown := e.forgedTokens()["unknown kid"]
	for range 3 {
		if _, err := v.Verify(ctx, unknown); err == nil {
			t.Fatal("unknown kid accepted")
		}
	}
	if n := e.jwksHits.get(); n != 1 {
		t.Errorf("key set fetched %d times within 30 s, want 1", n)
	}
	now = now.Add(31 * time.Second)
	if _, err := v.Verify(ctx, unknown); err == nil {
		t.Fatal("unknown kid accepted")
	}
	if n := e.jwksHits.get(); n != 2 {
		t.Errorf("key set fetched %d times after 30 s, want 2", n)
	}
}

func TestVerifierKeysUnavailable(t *testing.T) {
	e := newEnv(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	v, err := NewTokenVerifier(VerifierConfig{Issuer: e.issuer.Issuer(), Audience: testAudience, JWKSURL: dead.URL + "/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), e.token("alice")); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	e.server.verifier = v
	r := e.call(http.MethodGet, "/api/v1/requests", "alice", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	r.problem(t)
}

func TestDiscoverVerifier(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v, err := DiscoverVerifier(ctx, e.issuer.Issuer(), testAudience, e.policy.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, e.token("carol")); err != nil {
		t.Errorf("dev token refused after discovery: %v", err)
	}
	if _, err := DiscoverVerifier(ctx, e.idp.URL+"/elsewhere", testAudience, ""); err == nil {
		t.Error("discovery of a missing metadata document succeeded")
	}
}

func TestNewTokenVerifierNeedsConfig(t *testing.T) {
	_, err := NewTokenVerifier(VerifierConfig{Audience: testAudience})
	if err == nil || !strings.Contains(err.Error(), "Issuer") || !strings.Contains(err.Error(), "JWKSURL") {
		t.Errorf("err = %v, want one naming Issuer and JWKSURL", err)
	}
}

// Entra v2.0 tokens carry the API's client id, v1.0 tokens its app id URI:
// a comma-separated audience accepts either, and nothing else.
func TestVerifierAcceptsListedAudiences(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		audience string
		ok       bool
	}{
		{"00000000-0000-4000-8000-0000000000aa, " + testAudience, true},
		{testAudience, true},
		{"00000000-0000-4000-8000-0000000000aa,api://other", false},
	} {
		v, err := NewTokenVerifier(VerifierConfig{Issuer: e.issuer.Issuer(), Audience: tt.audience, JWKSURL: e.issuer.JWKSURL()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), e.token("alice"))
		if (err == nil) != tt.ok {
			t.Errorf("audience %q: err = %v, want ok=%v", tt.audience, err, tt.ok)
		}
	}
}

// A slow key-set fetch (for a token with an unknown key) must not hold up
// tokens signed with keys already known.
func TestVerifierChecksKnownKeysDuringAFetch(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	var hits atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) > 1 {
			<-release
		}
		w.Write(e.issuer.JWKS())
	}))
	defer jwks.Close()
	defer close(release)
	v, err := NewTokenVerifier(VerifierConfig{Issuer: e.issuer.Issuer(), Audience: testAudience, JWKSURL: jwks.URL})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v.now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := v.Verify(ctx, e.token("alice")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute) // past the refetch interval
	go v.Verify(ctx, e.forgedTokens()["unknown kid"])
	for hits.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { _, err := v.Verify(ctx, e.token("bob")); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a token with a known key waited for the key-set fetch")
	}
}

// BenchmarkVerify measures checking a token whose key is cached.
func BenchmarkVerify(b *testing.B) {
	e := newEnvWith(b, policies.Dev(), nil)
	tok := e.token("alice")
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.server.verifier.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
