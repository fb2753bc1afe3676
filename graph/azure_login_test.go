package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeEntra answers as Entra's sign-in endpoints (instance discovery,
// OpenID configuration, token) and the managed identity endpoint, for
// whatever host the credential calls, and records the token requests.
type fakeEntra struct {
	mu     sync.Mutex
	tokens []tokenCall
}

type tokenCall struct {
	host string
	form url.Values // the token POST's form, or the managed identity query
}

func (f *fakeEntra) Do(req *http.Request) (*http.Response, error) {
	host, path := req.URL.Host, req.URL.Path
	tenant := strings.Split(strings.Trim(path, "/"), "/")[0]
	base := "https://" + host + "/" + tenant
	switch {
	case strings.HasSuffix(path, "/common/discovery/instance"):
		return jsonAnswer(req, map[string]any{"tenant_discovery_endpoint": "https://" + host + "/common/v2.0/.well-known/openid-configuration",
			"metadata": []map[string]any{{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}}})
	case strings.HasSuffix(path, "/v2.0/.well-known/openid-configuration"):
		return jsonAnswer(req, map[string]any{"token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0"})
	case strings.HasSuffix(path, "/oauth2/v2.0/token"):
		body, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(body))
		f.record(tokenCall{host: host, form: form})
		return jsonAnswer(req, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": "entra-token"})
	case strings.HasSuffix(path, "/metadata/identity/oauth2/token"):
		f.record(tokenCall{host: host, form: req.URL.Query()})
		return jsonAnswer(req, map[string]any{"token_type": "Bearer", "access_token": "mi-token", "expires_in": "3600",
			"expires_on": time.Now().Add(time.Hour).Unix(), "resource": req.URL.Query().Get("resource")})
	}
	return &http.Response{StatusCode: http.StatusNotFound, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: req}, nil
}

func (f *fakeEntra) record(c tokenCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, c)
}

func (f *fakeEntra) calls() []tokenCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tokenCall(nil), f.tokens...)
}

func jsonAnswer(req *http.Request, v any) (*http.Response, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(data)),
		Header: http.Header{"Content-Type": {"application/json"}}, Request: req}, nil
}

var _ policy.Transporter = (*fakeEntra)(nil)

// writeCertificate writes a self-signed certificate and its RSA key as PEM.
func writeCertificate(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jitflow test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Each credential kind gets its token from the cloud's authority, for the
// cloud's Graph.
func TestCredentialKindsSignInAtTheCloudsAuthority(t *testing.T) {
	const tenant, client = "7c1e0000-0000-4000-8000-000000000001", "3f2a0000-0000-4000-8000-000000000002"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("federated-assertion"), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := writeCertificate(t)
	tests := []struct {
		cloud     string
		cc        CredentialConfig
		host      string
		wantField string // a form field the token request must carry
		wantValue string // its value, "" for any
	}{
		{"public", CredentialConfig{Kind: CredentialClientSecret, ClientSecret: "s3cr3t"}, "login.microsoftonline.com", "client_secret", "s3cr3t"},
		{"usgov", CredentialConfig{Kind: CredentialClientSecret, ClientSecret: "s3cr3t"}, "login.microsoftonline.us", "client_secret", "s3cr3t"},
		{"china", CredentialConfig{Kind: CredentialClientCertificate, CertificatePath: cert}, "login.chinacloudapi.cn", "client_assertion", ""},
		{"public", CredentialConfig{Kind: CredentialWorkloadIdentity, FederatedTokenFile: tokenFile}, "login.microsoftonline.com", "client_assertion", "federated-assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.cc.Kind+" in "+tt.cloud, func(t *testing.T) {
			entra := &fakeEntra{}
			cloud := must(LookupCloud(tt.cloud))
			cc := tt.cc
			cc.TenantID, cc.ClientID, cc.Cloud, cc.Transport = tenant, client, cloud, entra
			cred, err := NewCredential(cc)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{cloud.Scope()}})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			calls := entra.calls()
			if tok.Token != "entra-token" || len(calls) != 1 {
				t.Fatalf("token %q after %d token requests", tok.Token, len(calls))
			}
			got := calls[0]
			if got.host != tt.host || got.form.Get("client_id") != client || !strings.Contains(got.form.Get("scope"), cloud.Scope()) {
				t.Errorf("token request to %s with client %q scope %q; want %s, %s, %s", got.host, got.form.Get("client_id"), got.form.Get("scope"), tt.host, client, cloud.Scope())
			}
			if v := got.form.Get(tt.wantField); v == "" || (tt.wantValue != "" && v != tt.wantValue) {
				t.Errorf("token request field %s = %q, want %q", tt.wantField, v, tt.wantValue)
			}
		})
	}
}

func TestManagedIdentityAsksForTheCloudsGraph(t *testing.T) {
	for _, v := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	entra := &fakeEntra{}
	cloud := must(LookupCloud("usgov"))
	cred, err := NewCredential(CredentialConfig{Kind: CredentialManagedIdentity, ManagedIdentityClientID: "mi-client", Cloud: cloud, Transport: entra})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{cloud.Scope()}})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	calls := entra.calls()
	if tok.Token != "mi-token" || len(calls) != 1 {
		t.Fatalf("token %q after %d requests", tok.Token, len(calls))
	}
	if q := calls[0].form; q.Get("resource") != cloud.GraphURL || q.Get("client_id") != "mi-client" {
		t.Errorf("managed identity asked %v; want resource %s for client mi-client", q, cloud.GraphURL)
	}
}
