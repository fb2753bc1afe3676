package devauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"
)

const (
	testClient   = "jitflow-approvals"
	testRedirect = "http://127.0.0.1:9/signin/callback"
)

// codeFlow is the dev issuer with one registered client, served.
func codeFlow(t *testing.T) (*Issuer, *httptest.Server) {
	t.Helper()
	iss, _ := newIssuer(t)
	iss.AllowClient(testClient, testRedirect)
	e := echo.New()
	iss.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return iss, srv
}

func authorizeParams(verifier string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {testClient}, "redirect_uri": {testRedirect},
		"scope": {"openid profile"}, "state": {"st"}, "nonce": {"n1"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pick signs in as user and returns the code sent back to the client.
func pick(t *testing.T, srv *httptest.Server, verifier, user string) string {
	t.Helper()
	return pickWith(t, srv, authorizeParams(verifier), user)
}

// pickWith signs in as user with the authorize parameters form.
func pickWith(t *testing.T, srv *httptest.Server, form url.Values, user string) string {
	t.Helper()
	form.Set("user", user)
	resp, err := noRedirects.PostForm(srv.URL+AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), testRedirect+"?") || back.Query().Get("state") != "st" {
		t.Fatalf("redirect to %q (%v)", resp.Header.Get("Location"), err)
	}
	return back.Query().Get("code")
}

func redeem(t *testing.T, srv *httptest.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+OAuthTokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("token answer %s: %v", b, err)
	}
	return resp.StatusCode, out
}

func tokenForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {testClient},
		"redirect_uri": {testRedirect}, "code_verifier": {verifier}}
}

func TestCodeFlowIssuesIDToken(t *testing.T) {
	iss, srv := codeFlow(t)
	verifier := oauth2.GenerateVerifier()
	picker, err := http.Get(srv.URL + AuthorizePath + "?" + authorizeParams(verifier).Encode() + "&login_hint=alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(picker.Body)
	picker.Body.Close()
	if picker.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="user-alice" class="hint"`) {
		t.Fatalf("picker: %d %s", picker.StatusCode, page)
	}
	code := pick(t, srv, verifier, "alice")
	status, out := redeem(t, srv, tokenForm(code, verifier))
	if status != http.StatusOK {
		t.Fatalf("redeem: %d %v", status, out)
	}
	var c struct {
		tokenClaims
		Nonce string `json:"nonce"`
	}
	raw, _ := out["id_token"].(string)
	c.tokenClaims = parseClaims(t, iss.JWKS(), raw)
	if c.ObjectID != aliceID || len(c.Audience) != 1 || c.Audience[0] != testClient || c.Issuer != testIssuer {
		t.Errorf("id token claims = %+v", c.tokenClaims)
	}
	// The code is spent.
	if status, out := redeem(t, srv, tokenForm(code, verifier)); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("second redeem: %d %v", status, out)
	}
}

func TestCodeFlowRefusals(t *testing.T) {
	_, srv := codeFlow(t)
	verifier := oauth2.GenerateVerifier()
	tests := []struct {
		name   string
		change func(url.Values)
		status int
		error  string
	}{
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", oauth2.GenerateVerifier()) }, http.StatusBadRequest, "invalid_grant"},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }, http.StatusBadRequest, "invalid_grant"},
		{"other client", func(f url.Values) { f.Set("client_id", "mallory") }, http.StatusUnauthorized, "invalid_client"},
		{"other redirect", func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:9/elsewhere") }, http.StatusBadRequest, "invalid_grant"},
		{"made-up code", func(f url.Values) { f.Set("code", "nope") }, http.StatusBadRequest, "invalid_grant"},
		{"other grant", func(f url.Values) { f.Set("grant_type", "password") }, http.StatusBadRequest, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := tokenForm(pick(t, srv, verifier, "alice"), verifier)
			tt.change(form)
			if status, out := redeem(t, srv, form); status != tt.status || out["error"] != tt.error {
				t.Errorf("redeem: %d %v, want %d %s", status, out, tt.status, tt.error)
			}
		})
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	_, srv := codeFlow(t)
	tests := []struct {
		name, key, value, says string
	}{
		{"unknown client", "client_id", "mallory", "not registered"},
		{"unregistered redirect", "redirect_uri", "https://evil.example/cb", "not registered for client"},
		{"implicit flow", "response_type", "token", "response_type"},
		{"no openid scope", "scope", "profile", "openid"},
		{"plain PKCE", "code_challenge_method", "plain", "PKCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authorizeParams(oauth2.GenerateVerifier())
			q.Set(tt.key, tt.value)
			resp, err := noRedirects.Get(srv.URL + AuthorizePath + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tt.says) {
				t.Errorf("authorize: %d %s; want 400 mentioning %q", resp.StatusCode, b, tt.says)
			}
		})
	}
	form := authorizeParams(oauth2.GenerateVerifier())
	form.Set("user", "mallory")
	resp, err := noRedirects.PostForm(srv.URL+AuthorizePath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown user: status %d, want 400", resp.StatusCode)
	}
}

func TestCodeFlowHonoursClaimsRequest(t *testing.T) {
	iss, srv := codeFlow(t)
	tests := []struct {
		name, claims string
		wantAMR      []string
		wantACRS     []string
		pickerSays   string
	}{
		{"none", "", []string{"pwd"}, nil, ""},
		{"mfa", `{"id_token":{"amr":{"essential":true,"values":["mfa"]}}}`, []string{"pwd", "mfa"}, nil, "multi-factor authentication"},
		{"auth context", `{"id_token":{"acrs":{"essential":true,"value":"c1"}}}`, []string{"pwd"}, []string{"c1"}, "authentication context c1"},
		{"both, in the access token member", `{"access_token":{"acrs":{"essential":true,"values":["c2","c3"]},"amr":{"value":"mfa"}}}`,
			[]string{"pwd", "mfa"}, []string{"c2", "c3"}, "multi-factor authentication, authentication context c2, authentication context c3"},
		{"other claims only", `{"id_token":{"email":null,"amr":null},"userinfo":{"name":null}}`, []string{"pwd"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			params := authorizeParams(verifier)
			if tt.claims != "" {
				params.Set("claims", tt.claims)
			}
			resp, err := http.Get(srv.URL + AuthorizePath + "?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || strings.Contains(string(page), `id="stepup"`) != (tt.pickerSays != "") ||
				!strings.Contains(string(page), tt.pickerSays) {
				t.Fatalf("picker: %d %s; want it to mention %q", resp.StatusCode, page, tt.pickerSays)
			}
			status, out := redeem(t, srv, tokenForm(pickWith(t, srv, params, "alice"), verifier))
			if status != http.StatusOK {
				t.Fatalf("redeem: %d %v", status, out)
			}
			for _, kind := range []string{"id_token", "access_token"} {
				raw, _ := out[kind].(string)
				c := parseClaims(t, iss.JWKS(), raw)
				if !slices.Equal(c.AMR, tt.wantAMR) || !slices.Equal(c.ACRS, tt.wantACRS) {
					t.Errorf("%s: amr %v acrs %v, want amr %v acrs %v", kind, c.AMR, c.ACRS, tt.wantAMR, tt.wantACRS)
				}
			}
		})
	}
}

func TestAuthorizeRefusesBadClaimsRequest(t *testing.T) {
	_, srv := codeFlow(t)
	tests := []struct {
		name, claims, says string
	}{
		{"not JSON", `acrs=c1`, "JSON object"},
		{"member not an object", `{"id_token":{"acrs":"c1"}}`, "JSON object"},
		{"unknown context", `{"id_token":{"acrs":{"essential":true,"value":"c100"}}}`, `id_token.acrs asks for \"c100\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authorizeParams(oauth2.GenerateVerifier())
			q.Set("claims", tt.claims)
			resp, err := noRedirects.Get(srv.URL + AuthorizePath + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tt.says) {
				t.Errorf("authorize: %d %s; want 400 mentioning %q", resp.StatusCode, b, tt.says)
			}
		})
	}
}
