package devauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/policies"
)

const (
	testIssuer   = "http://127.0.0.1:8080/dev"
	testAudience = "api://jitflow"
	tenantID     = "00000000-0000-4000-8000-000000000001"
	aliceID      = "11111111-1111-4111-8111-111111111111"
	opID         = "22222222-2222-4222-8222-222222222222"
)

func testPolicy() *policies.Policy {
	return &policies.Policy{
		TenantID: tenantID,
		Users: []policies.User{
			{Name: "alice", ID: aliceID, UPN: "alice@example.com", Email: "alice@example.com", Groups: []string{"engineers"}},
			{Name: "olga", ID: opID, UPN: "olga@example.com", Email: "olga@example.com"},
		},
		Operators: policies.Subjects{Users: []string{"olga"}},
	}
}

func newIssuer(t *testing.T) (*Issuer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "dev-token.pem")
	iss, err := New(path, testIssuer, testAudience, testPolicy())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return iss, path
}

func TestNewKeepsKeyAcrossRestarts(t *testing.T) {
	iss, path := newIssuer(t)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	again, err := New(path, testIssuer, testAudience, testPolicy())
	if err != nil {
		t.Fatalf("New again: %v", err)
	}
	if !bytes.Equal(iss.JWKS(), again.JWKS()) {
		t.Error("restart produced a different key set")
	}
	// A token from before the restart verifies with the key set after it.
	tok, err := iss.Token("alice")
	if err != nil {
		t.Fatal(err)
	}
	parseClaims(t, again.JWKS(), tok)
}

func TestNewRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongType := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(wrongType, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, issuer, audience string
		pol                          *policies.Policy
	}{
		{"garbage key", garbage, testIssuer, testAudience, testPolicy()},
		{"wrong PEM type", wrongType, testIssuer, testAudience, testPolicy()},
		{"empty path", "", testIssuer, testAudience, testPolicy()},
		{"no issuer", filepath.Join(dir, "k.pem"), "", testAudience, testPolicy()},
		{"no audience", filepath.Join(dir, "k.pem"), testIssuer, "", testPolicy()},
		{"no policy", filepath.Join(dir, "k.pem"), testIssuer, testAudience, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.path, tt.issuer, tt.audience, tt.pol); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

type tokenClaims struct {
	jwt.Claims
	ObjectID          string            `json:"oid"`
	TenantID          string            `json:"tid"`
	PreferredUsername string            `json:"preferred_username"`
	Name              string            `json:"name"`
	Groups            []string          `json:"groups"`
	Roles             []string          `json:"roles"`
	AMR               []string          `json:"amr"`
	ACRS              []string          `json:"acrs"`
	ClaimNames        map[string]string `json:"_claim_names"`
}

func parseClaims(t *testing.T, jwks []byte, raw string) tokenClaims {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("key set: %v", err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	kid := tok.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("kid %q: found %d keys in the set", kid, len(keys))
	}
	var c tokenClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("verify token: %v", err)
	}
	return c
}

func TestTokenClaims(t *testing.T) {
	iss, _ := newIssuer(t)
	tests := []struct {
		user      string
		wantID    string
		wantUPN   string
		wantGroup []string
		wantRoles []string
	}{
		{"alice", aliceID, "alice@example.com", []string{"engineers"}, nil},
		{"olga", opID, "olga@example.com", nil, []string{OperatorRole}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			raw, err := iss.Token(tt.user)
			if err != nil {
				t.Fatal(err)
			}
			c := parseClaims(t, iss.JWKS(), raw)
			err = c.ValidateWithLeeway(jwt.Expected{Issuer: testIssuer, AnyAudience: []string{testAudience}}, 0)
			if err != nil {
				t.Errorf("standard claims: %v", err)
			}
			if c.ObjectID != tt.wantID || c.Subject != tt.wantID {
				t.Errorf("oid/sub = %q/%q, want %q", c.ObjectID, c.Subject, tt.wantID)
			}
			if c.TenantID != tenantID {
				t.Errorf("tid = %q, want %q", c.TenantID, tenantID)
			}
			if c.PreferredUsername != tt.wantUPN || c.Name != tt.user {
				t.Errorf("preferred_username/name = %q/%q", c.PreferredUsername, c.Name)
			}
			if !slices.Equal(c.Groups, tt.wantGroup) || !slices.Equal(c.Roles, tt.wantRoles) {
				t.Errorf("groups/roles = %v/%v, want %v/%v", c.Groups, c.Roles, tt.wantGroup, tt.wantRoles)
			}
			if life := c.Expiry.Time().Sub(c.IssuedAt.Time()); life != TokenLifetime {
				t.Errorf("lifetime = %v, want %v", life, TokenLifetime)
			}
		})
	}
}

func TestTokenUnknownUser(t *testing.T) {
	iss, _ := newIssuer(t)
	if _, err := iss.Token("mallory"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("err = %v, want ErrUnknownUser", err)
	}
}

func TestRoutes(t *testing.T) {
	iss, _ := newIssuer(t)
	e := echo.New()
	iss.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	tests := []struct {
		path        string
		wantStatus  int
		wantType    string
		checkResult func(t *testing.T, body []byte)
	}{
		{"/dev/token?user=alice", http.StatusOK, "application/json", func(t *testing.T, body []byte) {
			var out struct{ Token string }
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			if c := parseClaims(t, iss.JWKS(), out.Token); c.ObjectID != aliceID {
				t.Errorf("oid = %q", c.ObjectID)
			}
		}},
		{"/dev/token?user=mallory", http.StatusNotFound, "application/problem+json", wantDetail("mallory")},
		{"/dev/token", http.StatusBadRequest, "application/problem+json", wantDetail(`"user"`)},
		{"/dev/jwks.json", http.StatusOK, "application/json", func(t *testing.T, body []byte) {
			if !bytes.Equal(bytes.TrimSpace(body), iss.JWKS()) {
				t.Errorf("jwks = %s", body)
			}
		}},
		{"/dev/.well-known/openid-configuration", http.StatusOK, "application/json", func(t *testing.T, body []byte) {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m["issuer"] != testIssuer || m["jwks_uri"] != testIssuer+"/jwks.json" {
				t.Errorf("metadata = %v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, buf.String())
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.wantType && ct != tt.wantType+"; charset=UTF-8" {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantType)
			}
			tt.checkResult(t, buf.Bytes())
		})
	}
}

func wantDetail(fragment string) func(t *testing.T, body []byte) {
	return func(t *testing.T, body []byte) {
		t.Helper()
		var p struct {
			Status int
			Detail string
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains([]byte(p.Detail), []byte(fragment)) {
			t.Errorf("detail %q does not mention %s", p.Detail, fragment)
		}
	}
}

func TestTokenTimesFollowClock(t *testing.T) {
	iss, _ := newIssuer(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	iss.now = func() time.Time { return at }
	raw, err := iss.Token("alice")
	if err != nil {
		t.Fatal(err)
	}
	c := parseClaims(t, iss.JWKS(), raw)
	if !c.IssuedAt.Time().Equal(at) || !c.NotBefore.Time().Equal(at) || !c.Expiry.Time().Equal(at.Add(TokenLifetime)) {
		t.Errorf("iat/nbf/exp = %v/%v/%v", c.IssuedAt.Time(), c.NotBefore.Time(), c.Expiry.Time())
	}
}
