package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/internal/graphemu"
)

const (
	testPrincipal    = "11111111-1111-1111-1111-111111111111"
	testGlobalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
)

// graphEnv is the real Graph SDK client pointed at an emulator.
type graphEnv struct {
	pim *Client
	emu *graphemu.Emulator
	url string
}

func newGraphEnv(t *testing.T, cfg Config, wrap func(http.Handler) http.Handler) graphEnv {
	t.Helper()
	emu, err := graphemu.New(graphemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	h := emu.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	pim, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return graphEnv{pim: pim, emu: emu, url: srv.URL}
}

func activateInput(d time.Duration) ActivateInput {
	return ActivateInput{
		RequestID:     "req-1",
		Assignment:    Assignment{PrincipalID: testPrincipal, RoleDefinitionID: testGlobalReader, DirectoryScopeID: "/"},
		Duration:      d,
		Justification: "incident 42",
		Ticket:        "CHG-7",
	}
}

func deactivateInput() DeactivateInput {
	return DeactivateInput{RequestID: "req-1", Assignment: activateInput(0).Assignment, Reason: "revoked by bob@example.com"}
}

// wantRejected checks for a non-retryable ErrRejected mentioning want.
func wantRejected(t *testing.T, err error, want ...string) {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("error %v (%T) is not an ApplicationError", err, err)
	}
	if !app.NonRetryable() || app.Type() != ErrRejected {
		t.Errorf("error %v: non-retryable %v, type %q", err, app.NonRetryable(), app.Type())
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestGraphRejections(t *testing.T) {
	env := newGraphEnv(t, Config{}, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		in   func(*ActivateInput)
		want []string
	}{
		{"unknown role", func(in *ActivateInput) { in.RoleDefinitionID = "00000000-0000-0000-0000-0000000000aa" },
			[]string{"404", "Request_ResourceNotFound", "00000000-0000-0000-0000-0000000000aa"}},
		{"role not a guid", func(in *ActivateInput) { in.RoleDefinitionID = "Global Reader" },
			[]string{"400", "Request_BadRequest", "roleDefinitionId"}},
		{"principal not a guid", func(in *ActivateInput) { in.PrincipalID = "alice@example.com" },
			[]string{"400", "principalId"}},
		{"over the policy maximum", func(in *ActivateInput) { in.Duration = 400 * 24 * time.Hour },
			[]string{"RoleAssignmentRequestPolicyValidationFailed", "ExpirationRule"}},
		{"no principal", func(in *ActivateInput) { in.PrincipalID = "" }, []string{"principal id is required"}},
		{"under a second", func(in *ActivateInput) { in.Duration = 999 * time.Millisecond }, []string{"at least 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := activateInput(time.Hour)
			tt.in(&in)
			_, err := env.pim.Assign(ctx, in)
			wantRejected(t, err, tt.want...)
		})
	}
}

func TestGraphServerErrorsBeyondRetriesAreRetryable(t *testing.T) {
	env := newGraphEnv(t, Config{}, nil)
	zero := 0
	if err := env.emu.InjectFault(graphemu.Fault{Status: http.StatusServiceUnavailable, Count: 10, RetryAfterSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	_, err := env.pim.Assign(context.Background(), activateInput(time.Hour))
	if err == nil {
		t.Fatal("Assign succeeded through ten 503s")
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		t.Errorf("error %v is non-retryable", err)
	}
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable || ge.Code != "ServiceUnavailable" {
		t.Fatalf("error %v (%T), want a Error with 503", err, err)
	}
	for _, want := range []string{"503", "ServiceUnavailable", "Retry-After 0", "request-id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if len(env.emu.Requests()) != 0 {
		t.Error("a request got through the faults")
	}
}

// A removal whose look beforehand Graph refuses stays retryable: a role
// must not stay assigned because a proxy answered 404 once.
func TestRemovalStaysRetryableWhenTheLookFails(t *testing.T) {
	env := newGraphEnv(t, Config{}, nil)
	if err := env.emu.InjectFault(graphemu.Fault{Status: http.StatusNotFound, Count: 1, Method: http.MethodGet}); err != nil {
		t.Fatal(err)
	}
	_, err := env.pim.Remove(context.Background(), deactivateInput())
	var app *temporal.ApplicationError
	if err == nil || errors.As(err, &app) || !strings.Contains(err.Error(), "404") {
		t.Errorf("Remove after a 404 on the look: %v; want a plain, retryable error naming the 404", err)
	}
}

func TestGraphTransportErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	pim, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pim.Remove(context.Background(), deactivateInput())
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 0 || !ge.Retryable() || !strings.Contains(err.Error(), "remove") {
		t.Errorf("error %v, want a retryable transport Error", err)
	}
}

// staticToken is a credential that always hands out the same token.
type staticToken struct {
	mu     sync.Mutex
	scopes []string
}

func (s *staticToken) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = opts.Scopes
	return azcore.AccessToken{Token: "test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestGraphSendsCredentialTokenToItsHost(t *testing.T) {
	cred := &staticToken{}
	var auth atomic.Value
	env := newGraphEnv(t, Config{Credential: cred}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth.Store(r.Header.Get("Authorization"))
			h.ServeHTTP(w, r)
		})
	})
	if _, err := env.pim.Instances(context.Background(), activateInput(0).Assignment); err != nil {
		t.Fatal(err)
	}
	if got := auth.Load(); got != "Bearer test-token" {
		t.Errorf("Authorization %q, want the credential's token", got)
	}
	cred.mu.Lock()
	defer cred.mu.Unlock()
	if len(cred.scopes) != 1 || cred.scopes[0] != env.url+"/.default" {
		t.Errorf("scopes %v, want the base URL's /.default", cred.scopes)
	}
}

// countingTransport counts the POST requests that reach the network.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		c.n.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestGraphKeepsRetriesWithOwnHTTPClient(t *testing.T) {
	ct := &countingTransport{}
	env := newGraphEnv(t, Config{HTTPClient: &http.Client{Transport: ct, Timeout: 30 * time.Second}}, nil)
	zero := 0
	if err := env.emu.InjectFault(graphemu.Fault{Status: http.StatusGatewayTimeout, Count: 1, RetryAfterSeconds: &zero, Method: http.MethodPost}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.pim.Assign(context.Background(), activateInput(time.Hour)); err != nil {
		t.Fatalf("Assign: %v", err)
	}
	if n := ct.n.Load(); n != 2 {
		t.Errorf("%d POSTs went out, want 2 (a 504, then the retry)", n)
	}
}

func TestNewGraphChecksConfig(t *testing.T) {
	cred := &staticToken{}
	tests := []struct {
		name string
		cfg  Config
		want string // "" = accepted
	}{
		{"real graph", Config{BaseURL: "https://graph.microsoft.com", Credential: cred}, ""},
		{"national cloud", Config{BaseURL: "https://graph.microsoft.us/", Credential: cred}, ""},
		{"emulator on 127.0.0.1", Config{BaseURL: "http://127.0.0.1:8091"}, ""},
		{"emulator on localhost", Config{BaseURL: "http://localhost:8091"}, ""},
		{"emulator on ::1", Config{BaseURL: "http://[::1]:8091"}, ""},
		{"no credential for real graph", Config{BaseURL: "https://graph.microsoft.com"}, "Credential is required"},
		{"no credential on a LAN host", Config{BaseURL: "http://10.0.0.5:8091"}, "plain http"},
		{"plain http to a remote host", Config{BaseURL: "http://graph.example.com", Credential: cred}, "plain http"},
		{"version included", Config{BaseURL: "https://graph.microsoft.com/v1.0", Credential: cred}, "leave out the API version"},
		{"no scheme", Config{BaseURL: "graph.microsoft.com", Credential: cred}, "scheme must be https"},
		{"empty", Config{}, "scheme must be https"},
		{"query", Config{BaseURL: "https://graph.microsoft.com?x=1", Credential: cred}, "query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A 404 without RoleAssignmentDoesNotExist (a wrong path, a proxy) must not
// count as "already gone" while Graph still lists the assignment.
func TestRemoveAfterBare404ChecksTheInstances(t *testing.T) {
	env := newGraphEnv(t, Config{}, nil)
	ctx := context.Background()
	if _, err := env.pim.Assign(ctx, activateInput(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.InjectFault(graphemu.Fault{Status: http.StatusNotFound, Count: 1, Method: http.MethodPost}); err != nil {
		t.Fatal(err)
	}
	_, err := env.pim.Remove(ctx, deactivateInput())
	var appErr *temporal.ApplicationError
	if err == nil || errors.As(err, &appErr) || !strings.Contains(err.Error(), "still lists the assignment") {
		t.Fatalf("Remove after a bare 404: %v; want a retryable error saying the assignment is still listed", err)
	}
	res, err := env.pim.Remove(ctx, deactivateInput())
	if err != nil || res.AlreadyGone {
		t.Fatalf("retried Remove: %+v, %v; want the assignment removed", res, err)
	}
	if err := env.emu.InjectFault(graphemu.Fault{Status: http.StatusNotFound, Count: 1, Method: http.MethodPost}); err != nil {
		t.Fatal(err)
	}
	res, err = env.pim.Remove(ctx, deactivateInput())
	if err != nil || !res.AlreadyGone {
		t.Fatalf("Remove after a bare 404 with nothing listed: %+v, %v; want AlreadyGone", res, err)
	}
}
