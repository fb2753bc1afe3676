package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func newTestClient(t *testing.T, h http.HandlerFunc, creds Credentials) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeProblem(w http.ResponseWriter, status int, detail, field string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail, "field": field,
	})
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := New(Config{BaseURL: u}); err == nil || !strings.Contains(err.Error(), "API URL") {
			t.Errorf("New(%q) = %v, want an error naming the API URL", u, err)
		}
	}
}

func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		status      int
		detail      string
		field       string
		retryAfter  time.Duration
		unavailable bool
	}{
		{
			name:    "problem document",
			handler: func(w http.ResponseWriter, r *http.Request) { writeProblem(w, 404, `no request "req-x"`, "") },
			status:  404, detail: `no request "req-x"`,
		},
		{
			name: "field at fault",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeProblem(w, 400, `field "duration": bad`, "duration")
			},
			status: 400, detail: `field "duration": bad`, field: "duration",
		},
		{
			name: "rate limited",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				writeProblem(w, 429, "slow down", "")
			},
			status: 429, detail: "slow down", retryAfter: 3 * time.Second,
		},
		{
			name: "proxy page",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(502)
				io.WriteString(w, "<html>bad gateway</html>\n<body>...</body>")
			},
			status: 502, detail: "<html>bad gateway</html>", unavailable: true,
		},
		{
			name:    "starting",
			handler: func(w http.ResponseWriter, r *http.Request) { writeProblem(w, 503, "jitflow is starting", "") },
			status:  503, detail: "jitflow is starting", unavailable: true,
		},
		{
			name:    "empty body",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) },
			status:  403, detail: "Forbidden",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, tt.handler, StaticToken("t"))
			_, err := c.Get(context.Background(), "req-1")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Status != tt.status || e.Detail != tt.detail || e.Field != tt.field || e.RetryAfter != tt.retryAfter {
				t.Errorf("got %+v", e)
			}
			if errors.Is(err, ErrUnavailable) != tt.unavailable {
				t.Errorf("errors.Is(ErrUnavailable) = %v, want %v", !tt.unavailable, tt.unavailable)
			}
		})
	}
}

func TestNoConnectionIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "req-1")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestCreate(t *testing.T) {
	const answer = `{"id":"req-1","status":"pending_approval","role":"reader","duration_seconds":7200,"unknown_to_the_client":true}`
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/api/v1/requests":
			t.Errorf("%s %s", r.Method, r.URL.Path)
		case r.Header.Get("Authorization") != "Bearer tok":
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		case r.Header.Get("Idempotency-Key") != "k1":
			t.Errorf("Idempotency-Key = %q", r.Header.Get("Idempotency-Key"))
		case r.Header.Get("Content-Type") != "application/json":
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		case body["role"] != "reader" || body["duration"] != "2h" || body["justification"] != "why" || len(body) != 3:
			t.Errorf("body = %v (an empty ticket is left out)", body)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, answer)
	}, StaticToken("tok"))
	r, err := c.Create(context.Background(), CreateInput{Role: "reader", Duration: "2h", Justification: "why", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "req-1" || r.Status != StatusPending || r.GrantDuration() != 2*time.Hour {
		t.Errorf("request = %+v", r)
	}
	if string(r.Raw) != answer {
		t.Errorf("Raw = %s, want the answer as it came", r.Raw)
	}
}

func TestActionsPathsAndBodies(t *testing.T) {
	tests := []struct {
		name string
		call func(*Client) (Request, error)
		path string
		body string
	}{
		{"approve", func(c *Client) (Request, error) { return c.Approve(context.Background(), "req-1", "ok") }, "/api/v1/requests/req-1/approve", `{"comment":"ok"}`},
		{"deny", func(c *Client) (Request, error) { return c.Deny(context.Background(), "req-1", "") }, "/api/v1/requests/req-1/deny", `{}`},
		{"cancel", func(c *Client) (Request, error) { return c.Cancel(context.Background(), "req-1") }, "/api/v1/requests/req-1/cancel", `{}`},
		{"revoke", func(c *Client) (Request, error) { return c.Revoke(context.Background(), "req-1", "done") }, "/api/v1/requests/req-1/revoke", `{"reason":"done"}`},
		{"escaped id", func(c *Client) (Request, error) { return c.Get(context.Background(), "../dev/token") }, "/api/v1/requests/..%2Fdev%2Ftoken", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.URL.EscapedPath() != tt.path || string(body) != tt.body {
					t.Errorf("%s %s %s, want %s %s", r.Method, r.URL.EscapedPath(), body, tt.path, tt.body)
				}
				io.WriteString(w, `{"id":"req-1","status":"active"}`)
			}, StaticToken("tok"))
			if _, err := tt.call(c); err != nil {
				t.Fatal(err)
			}
		})
	}
	c := newTestClient(t, func(http.ResponseWriter, *http.Request) { t.Error("an empty id reached the API") }, nil)
	if _, err := c.Approve(context.Background(), " ", ""); err == nil || !strings.Contains(err.Error(), "request id") {
		t.Errorf("empty id: err = %v", err)
	}
}

func TestListQueryAndPages(t *testing.T) {
	after := time.Date(2026, 11, 1, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	var queries []string
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("page_token") {
		case "":
			io.WriteString(w, `{"requests":[{"id":"req-1"},{"id":"req-2"}],"next_page_token":"p2"}`)
		case "p2":
			io.WriteString(w, `{"requests":[{"id":"req-3"}]}`)
		default:
			t.Errorf("page token %q", r.URL.Query().Get("page_token"))
		}
	}, StaticToken("tok"))
	var ids []string
	for r, err := range c.All(context.Background(), ListOptions{Status: StatusActive, Role: "reader", CreatedAfter: after, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "req-1,req-2,req-3" {
		t.Errorf("ids = %v", ids)
	}
	want := []string{
		"created_after=2026-11-01T07%3A00%3A00Z&limit=2&role=reader&status=active",
		"created_after=2026-11-01T07%3A00%3A00Z&limit=2&page_token=p2&role=reader&status=active",
	}
	if strings.Join(queries, "\n") != strings.Join(want, "\n") {
		t.Errorf("queries =\n%s\nwant\n%s", strings.Join(queries, "\n"), strings.Join(want, "\n"))
	}
	page, err := c.List(context.Background(), ListOptions{})
	if err != nil || page.NextPageToken != "p2" || len(page.Requests) != 2 || !strings.Contains(string(page.Raw), `"next_page_token":"p2"`) {
		t.Errorf("List = %+v, %v", page, err)
	}
	if queries[len(queries)-1] != "" {
		t.Errorf("no filters sent %q, want an empty query", queries[len(queries)-1])
	}
}

func TestAllStopsAtAnError(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, 400, `unknown query parameter "created_after"`, "created_after")
	}, StaticToken("tok"))
	n := 0
	for _, err := range c.All(context.Background(), ListOptions{}) {
		n++
		var e *Error
		if !errors.As(err, &e) || e.Field != "created_after" {
			t.Errorf("err = %v", err)
		}
	}
	if n != 1 {
		t.Errorf("yielded %d times, want once", n)
	}
}

// claimsCreds hands out a stronger token when asked for claims.
type claimsCreds struct {
	claims string
	err    error
}

func (c *claimsCreds) Token(context.Context) (string, error) { return "plain", nil }
func (c *claimsCreds) TokenWithClaims(_ context.Context, claims string) (string, error) {
	c.claims = claims
	return "mfa", c.err
}

func TestClaimsChallenge(t *testing.T) {
	const claims = `{"access_token":{"amr":{"essential":true,"values":["mfa"]}}}`
	challenge := `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="` +
		base64.StdEncoding.EncodeToString([]byte(claims)) + `"`
	handler := func(calls *atomic.Int32) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if r.Header.Get("Authorization") != "Bearer mfa" {
				w.Header().Set("WWW-Authenticate", challenge)
				writeProblem(w, 401, "role reader needs multifactor authentication", "")
				return
			}
			io.WriteString(w, `{"id":"req-1","status":"pending_approval"}`)
		}
	}
	t.Run("credentials that can satisfy it retry once", func(t *testing.T) {
		var calls atomic.Int32
		creds := &claimsCreds{}
		c := newTestClient(t, handler(&calls), creds)
		if _, err := c.Create(context.Background(), CreateInput{Role: "reader"}); err != nil {
			t.Fatal(err)
		}
		if creds.claims != claims || calls.Load() != 2 {
			t.Errorf("claims %q after %d calls", creds.claims, calls.Load())
		}
	})
	t.Run("a failed sign-in keeps the API's 401", func(t *testing.T) {
		var calls atomic.Int32
		creds := &claimsCreds{err: errors.New("run az login --claims-challenge")}
		c := newTestClient(t, handler(&calls), creds)
		_, err := c.Create(context.Background(), CreateInput{Role: "reader"})
		var e *Error
		if !errors.As(err, &e) || e.Status != 401 || !strings.Contains(err.Error(), "az login --claims-challenge") || calls.Load() != 1 {
			t.Errorf("err = %v after %d calls", err, calls.Load())
		}
	})
	t.Run("a fixed token gets the challenge", func(t *testing.T) {
		var calls atomic.Int32
		c := newTestClient(t, handler(&calls), StaticToken("plain"))
		_, err := c.Create(context.Background(), CreateInput{Role: "reader"})
		var e *Error
		if !errors.As(err, &e) || e.Status != 401 || e.Claims() != claims || calls.Load() != 1 {
			t.Errorf("err = %v after %d calls", err, calls.Load())
		}
	})
}

func TestAuthParam(t *testing.T) {
	tests := []struct{ header, name, want string }{
		{`Bearer realm="", claims="abc=="`, "claims", "abc=="},
		{`Bearer error="insufficient_claims",claims="x\"y"`, "claims", `x"y`},
		{`Bearer error=invalid_token, claims=tok`, "claims", "tok"},
		{`Bearer claims_x="no", realm="r"`, "claims", ""},
		{`Bearer realm="a, claims=inside"`, "claims", ""},
		{``, "claims", ""},
	}
	for _, tt := range tests {
		if got := authParam(tt.header, tt.name); got != tt.want {
			t.Errorf("authParam(%q, %q) = %q, want %q", tt.header, tt.name, got, tt.want)
		}
	}
}

func TestDevUserFetchesOnce(t *testing.T) {
	var calls atomic.Int32
	var c *Client
	c = newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/dev/token":
			calls.Add(1)
			if r.Header.Get("Authorization") != "" {
				t.Error("the dev token call carries credentials")
			}
			if r.URL.Query().Get("user") != "alice" {
				writeProblem(w, 404, "unknown user", "")
				return
			}
			io.WriteString(w, `{"token":"alice-token"}`)
		default:
			if r.Header.Get("Authorization") != "Bearer alice-token" {
				t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
			}
			io.WriteString(w, `{"id":"req-1"}`)
		}
	}, nil)
	c.creds = &DevUser{Client: c, Name: "alice"}
	for range 2 {
		if _, err := c.Get(context.Background(), "req-1"); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("fetched the dev token %d times, want once", calls.Load())
	}
	nobody := &DevUser{Client: c, Name: "mallory"}
	if _, err := nobody.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "mallory") {
		t.Errorf("unknown dev user: err = %v", err)
	}
}

func TestDevUserStepUp(t *testing.T) {
	claims := `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`
	challenge := `Bearer realm="", error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(claims)) + `"`
	var c *Client
	var apiCalls atomic.Int32
	c = newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dev/token" {
			q := r.URL.Query()
			io.WriteString(w, `{"token":"`+q.Get("user")+`-mfa=`+q.Get("mfa")+`-acrs=`+q.Get("acrs")+`"}`)
			return
		}
		apiCalls.Add(1)
		if r.Header.Get("Authorization") != "Bearer alice-mfa=true-acrs=c1" {
			w.Header().Set("WWW-Authenticate", challenge)
			writeProblem(w, 401, "requesting role admin needs authentication context c1", "")
			return
		}
		io.WriteString(w, `{"id":"req-1"}`)
	}, nil)
	var told []string
	dev := &DevUser{Client: c, Name: "alice", StepUp: func(c string) { told = append(told, c) }}
	c = c.WithCredentials(dev)
	for range 2 {
		if _, err := c.Get(context.Background(), "req-1"); err != nil {
			t.Fatal(err)
		}
	}
	// One refused call, then the stepped-up token serves both calls.
	if apiCalls.Load() != 3 || len(told) != 1 || told[0] != claims {
		t.Errorf("%d API calls, step-ups told %q", apiCalls.Load(), told)
	}
}
