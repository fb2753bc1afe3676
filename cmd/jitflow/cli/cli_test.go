package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitflow/jitflow/client"
)

// fakeAPI answers like the jitflow API for a few canned requests.
type fakeAPI struct {
	t *testing.T

	mu       sync.Mutex
	gets     map[string][]string // id -> answers of successive GETs (the last repeats)
	lastCall string
	lastBody string
	lastAuth string
}

func devToken(oid string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"oid":"`+oid+`","preferred_username":"`+oid+`@example.com"}`)) + ".c2ln"
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	f.lastCall, f.lastBody, f.lastAuth = r.Method+" "+r.URL.RequestURI(), string(body), r.Header.Get("Authorization")
	problem := func(status int, detail string) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"type":"about:blank","title":%q,"status":%d,"detail":%q}`, http.StatusText(status), status, detail)
	}
	switch {
	case r.URL.Path == "/dev/token":
		fmt.Fprintf(w, `{"token":%q}`, devToken(r.URL.Query().Get("user")))
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/requests":
		var in map[string]string
		json.Unmarshal(body, &in)
		if in["duration"] == "9h" {
			problem(422, `duration 9h is over the maximum of 8h for role "reader"`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, f.next("req-1"))
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/requests":
		io.WriteString(w, `{"requests":[`+pendingForBob+`,`+activeOfAlice+`],"next_page_token":"p2"}`)
	case strings.HasSuffix(r.URL.Path, "/audit"):
		io.WriteString(w, `{"events":[{"time":"2026-11-26T09:00:00Z","type":"requested","actor":"alice@example.com","detail":"reader for 2m"},{"time":"2026-11-26T09:00:05Z","type":"approved","actor":"bob@example.com","detail":""}]}`)
	case r.URL.Path == "/api/v1/requests/req-1/approve" && f.lastAuth == "Bearer "+devToken("alice"):
		problem(403, "you may not approve your own request")
	case r.URL.Path == "/api/v1/requests/req-1/cancel":
		problem(409, "request req-1 is active; only a pending request can be canceled")
	case r.URL.Path == "/api/v1/requests/req-slow":
		w.Header().Set("Retry-After", "7")
		problem(429, "too many requests; try again in 7s")
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/requests/req-1"):
		io.WriteString(w, f.next("req-1"))
	case strings.HasPrefix(r.URL.Path, "/api/v1/requests/req-1/"):
		io.WriteString(w, f.next("req-1"))
	default:
		problem(404, fmt.Sprintf("no request %q", strings.TrimPrefix(r.URL.Path, "/api/v1/requests/")))
	}
}

// next pops the next canned answer for id; the last one repeats.
func (f *fakeAPI) next(id string) string {
	answers := f.gets[id]
	if len(answers) > 1 {
		f.gets[id] = answers[1:]
	}
	return answers[0]
}

const (
	pendingForBob = `{"id":"req-1","status":"pending_approval","requester":"alice@example.com","requester_id":"alice","role":"reader","duration":"2m0s","duration_seconds":120,"justification":"INC-42","created_at":"2026-11-26T09:00:00Z","stage":1,"stages":1,"tier":1,"approvers":[{"approver":"bob@example.com","approver_id":"bob"}],"decisions":[]}`
	activeOfAlice = `{"id":"req-2","status":"active","requester":"alice@example.com","requester_id":"alice","role":"admin","duration":"30m0s","duration_seconds":1800,"created_at":"2026-11-26T08:00:00Z","expires_at":"2026-11-26T08:31:00Z","approvers":[],"decisions":[{"approver":"bob@example.com","approver_id":"bob","decision":"approve","comment":"ok","time":"2026-11-26T08:01:00Z","stage":1}]}`
	activating    = `{"id":"req-1","status":"activating","requester":"alice@example.com","role":"reader","duration_seconds":120,"stage":0,"stages":1}`
	active        = `{"id":"req-1","status":"active","requester":"alice@example.com","role":"reader","duration_seconds":120,"expires_at":"2026-11-26T09:03:00Z"}`
	denied        = `{"id":"req-1","status":"denied","requester":"alice@example.com","role":"reader","duration_seconds":120,"reason":"denied by bob@example.com"}`
)

func startFake(t *testing.T, answers ...string) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, gets: map[string][]string{"req-1": answers}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("JITFLOW_API", srv.URL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")
	return f
}

type result struct {
	stdout, stderr string
	code           int
	err            error
}

// run runs the command line in process, as the binary would.
func run(t *testing.T, args ...string) result {
	t.Helper()
	root := NewRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return result{stdout: out.String(), stderr: errOut.String(), code: ExitCode(err), err: err}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name    string
		answers []string
		args    []string
		code    int
		stdout  []string // each must appear
		stderr  []string
		err     string // must appear in the error
		call    string // the last API call
		body    string
		auth    string // its Authorization header
		env     map[string]string
	}{
		{
			name: "request prints the new request", answers: []string{pendingForBob},
			args:   []string{"request", "reader", "-d", "2m", "-j", "INC-42", "--as", "alice"},
			stdout: []string{"ID             req-1", "pending_approval (stage 1 of 1, tier 1)", "Approvers      bob@example.com", "Duration       2m"},
			call:   "POST /api/v1/requests", body: `{"role":"reader","duration":"2m","justification":"INC-42"}`,
		},
		{
			name: "request -q prints only the id", answers: []string{pendingForBob},
			args:   []string{"request", "reader", "-j", "x", "--ticket", "T-1", "--as", "alice", "-q"},
			stdout: []string{"req-1\n"}, body: `{"role":"reader","justification":"x","ticket":"T-1"}`,
		},
		{
			name: "request --json prints the answer as it came", answers: []string{pendingForBob},
			args: []string{"request", "reader", "-j", "x", "--as", "alice", "--json"}, stdout: []string{pendingForBob + "\n"},
		},
		{
			name: "policy refusal", args: []string{"request", "reader", "-d", "9h", "-j", "x", "--as", "alice"},
			code: ExitPolicy, err: "over the maximum of 8h",
		},
		{
			name: "show names the rule that approved", answers: []string{`{"id":"req-1","status":"active","role":"reader","auto_approved_by":"oncall-short"}`},
			args: []string{"show", "req-1", "--as", "erin"}, stdout: []string{"Approved by    policy rule oncall-short"},
		},
		{
			name: "a fixed token is sent as it is", answers: []string{pendingForBob},
			args: []string{"show", "req-1", "--token", "abc"}, stdout: []string{"req-1"}, call: "GET /api/v1/requests/req-1",
		},
		{
			name: "show of an unknown request", args: []string{"show", "req-404", "--as", "alice"},
			code: ExitNotFound, err: `no request "req-404" (HTTP 404)`,
		},
		{
			name: "self-approval", answers: []string{pendingForBob}, args: []string{"approve", "req-1", "--as", "alice"},
			code: ExitNotAllowed, err: "you may not approve your own request",
		},
		{
			name: "approve sends the comment", answers: []string{activating},
			args:   []string{"approve", "req-1", "-c", "ok", "--as", "bob"},
			stdout: []string{"req-1  alice@example.com  reader for 2m: activating"},
			call:   "POST /api/v1/requests/req-1/approve", body: `{"comment":"ok"}`,
		},
		{
			name: "wrong state", args: []string{"cancel", "req-1", "--as", "alice"},
			code: ExitConflict, err: "only a pending request can be canceled",
		},
		{
			name: "rate limited", args: []string{"show", "req-slow", "--as", "alice"},
			code: ExitRateLimited, err: "try again in 7s (HTTP 429; retry after 7s)",
		},
		{
			name: "revoke with a reason", answers: []string{`{"id":"req-1","status":"revoked","role":"reader","reason":"done"}`},
			args: []string{"revoke", "req-1", "--reason", "done", "--as", "alice"}, stdout: []string{"revoked: done"},
			call: "POST /api/v1/requests/req-1/revoke", body: `{"reason":"done"}`,
		},
		{
			name: "extend waiting for approval", answers: []string{`{"id":"req-1","status":"active","role":"reader","requester":"alice@example.com","duration_seconds":3600,` +
				`"extension":{"number":1,"status":"pending_approval","duration":"30m","approvers":[{"approver":"bob@example.com"}]}}`},
			args:   []string{"extend", "req-1", "-d", "30m", "-j", "the fix needs longer", "--as", "alice"},
			stdout: []string{"extension #1 for 30m more waits for bob@example.com"},
			call:   "POST /api/v1/requests/req-1/extend", body: `{"duration":"30m","justification":"the fix needs longer"}`,
		},
		{
			name: "extend without a duration", args: []string{"extend", "req-1", "--as", "alice"},
			code: ExitUsage, err: "--duration is required",
		},
		{
			name: "list table", args: []string{"list", "--as", "bob", "--role", "reader", "--limit", "10"},
			stdout: []string{"ID     STATUS            ROLE    REQUESTER          DURATION  CREATED", "req-1  pending_approval  reader  alice@example.com  2m", "req-2  active", "30m"},
			call:   "GET /api/v1/requests?limit=10&role=reader",
		},
		{
			name: "list --mine asks for the caller's requests", args: []string{"list", "--as", "alice", "--mine", "-q"},
			stdout: []string{"req-1\nreq-2\n"}, call: "GET /api/v1/requests?requester=alice",
		},
		{
			name: "list --pending-my-approval keeps what the caller may decide", args: []string{"list", "--as", "bob", "--pending-my-approval", "-q"},
			stdout: []string{"req-1\n"}, call: "GET /api/v1/requests?status=pending_approval",
		},
		{
			name: "list --pending-my-approval --json keeps the answer's other members", args: []string{"list", "--as", "carol", "--pending-my-approval", "--json"},
			stdout: []string{`{"next_page_token":"p2","requests":[]}`},
		},
		{
			name: "list --created-after takes a duration ago", args: []string{"list", "--as", "bob", "--created-after", "24h", "--page-token", "p1"},
			call:   "GET /api/v1/requests?created_after=",
			stderr: []string{"There are more: jitflow list --created-after 20", "Z --page-token p2\n"},
		},
		{
			name: "audit table", args: []string{"audit", "req-1", "--as", "alice"},
			stdout: []string{"TIME", "EVENT", "requested  alice@example.com  reader for 2m", "approved   bob@example.com    -"},
		},
		{name: "missing id", args: []string{"approve", "--as", "bob"}, code: ExitUsage, err: "give the request id"},
		{name: "two ids", args: []string{"show", "a", "b", "--as", "bob"}, code: ExitUsage, err: "give one request id"},
		{name: "unknown flag", args: []string{"list", "--colour"}, code: ExitUsage, err: "unknown flag: --colour"},
		{name: "unknown command", args: []string{"aprove", "req-1"}, code: ExitUsage, err: `unknown command "aprove"`},
		{name: "bad status", args: []string{"list", "--status", "open", "--as", "bob"}, code: ExitUsage, err: `--status "open": use one of pending_approval`},
		{name: "bad time", args: []string{"list", "--created-after", "yesterday", "--as", "bob"}, code: ExitUsage, err: `--created-after "yesterday"`},
		{name: "mine and requester", args: []string{"list", "--mine", "--requester", "bob", "--as", "bob"}, code: ExitUsage, err: "--mine and --requester"},
		{name: "two identities", args: []string{"show", "req-1", "--as", "bob", "--token", "x"}, code: ExitUsage, err: "--as and --token"},
		{
			name: "--as wins over JITFLOW_TOKEN", answers: []string{pendingForBob}, env: map[string]string{"JITFLOW_TOKEN": "from-env"},
			args: []string{"show", "req-1", "--as", "bob"}, auth: "Bearer " + devToken("bob"),
		},
		{
			name: "JITFLOW_TOKEN", answers: []string{pendingForBob}, env: map[string]string{"JITFLOW_TOKEN": "from-env"},
			args: []string{"show", "req-1"}, auth: "Bearer from-env",
		},
		{name: "bad tenant", args: []string{"show", "req-1", "--scope", "api://jitflow/.default", "--tenant-id", "not a tenant!"}, code: ExitUsage, err: "--tenant-id"},
		{name: "no identity", args: []string{"show", "req-1"}, code: ExitUsage, err: "give --as NAME"},
		{name: "bad API URL", args: []string{"show", "req-1", "--as", "bob", "--api", "localhost:8080"}, code: ExitUsage, err: "--api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, append(tt.answers, pendingForBob)...)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			res := run(t, tt.args...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d (err %v, stdout %q)", res.code, tt.code, res.err, res.stdout)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
			if tt.err != "" && (res.err == nil || !strings.Contains(res.err.Error(), tt.err)) {
				t.Errorf("error %v, want it to say %q", res.err, tt.err)
			}
			if tt.call != "" && !strings.HasPrefix(f.lastCall, tt.call) {
				t.Errorf("last call %q, want %q", f.lastCall, tt.call)
			}
			if tt.auth != "" && f.lastAuth != tt.auth {
				t.Errorf("Authorization %q, want %q", f.lastAuth, tt.auth)
			}
			if tt.body != "" && f.lastBody != tt.body {
				t.Errorf("body %s, want %s", f.lastBody, tt.body)
			}
		})
	}
}

func TestWaitFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		answers []string
		code    int
		stdout  string
	}{
		{"request --wait until active", []string{"request", "reader", "-j", "x", "--wait", "--as", "alice"},
			[]string{pendingForBob, pendingForBob, activating, active}, ExitOK, "reader for 2m: active until"},
		{"request --wait ends denied", []string{"request", "reader", "-j", "x", "--wait", "--as", "alice", "-q"},
			[]string{pendingForBob, denied}, ExitError, "req-1\n"},
		{"approve --wait", []string{"approve", "req-1", "--wait", "--as", "bob"},
			[]string{activating, active}, ExitOK, ": active until"},
		{"request --wait --json prints the last answer", []string{"request", "reader", "-j", "x", "--wait", "--json", "--as", "alice"},
			[]string{pendingForBob, active}, ExitOK, active + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			startFake(t, tt.answers...)
			res := run(t, tt.args...)
			if res.code != tt.code || !strings.Contains(res.stdout, tt.stdout) {
				t.Errorf("exit %d (%v), stdout %q; want exit %d and %q", res.code, res.err, res.stdout, tt.code, tt.stdout)
			}
		})
	}
}

func TestHelpDoesNotShowTheToken(t *testing.T) {
	t.Setenv("JITFLOW_TOKEN", "secret-token")
	res := run(t, "show", "--help")
	if res.code != 0 || strings.Contains(res.stdout, "secret-token") || !strings.Contains(res.stdout, "env JITFLOW_TOKEN") {
		t.Errorf("exit %d, help:\n%s", res.code, res.stdout)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitError},
		{usagef("bad"), ExitUsage},
		{&client.Error{Status: 400}, ExitUsage},
		{&client.Error{Status: 404}, ExitNotFound},
		{&client.Error{Status: 401}, ExitNotAllowed},
		{fmt.Errorf("wrapped: %w", &client.Error{Status: 403}), ExitNotAllowed},
		{&client.Error{Status: 409}, ExitConflict},
		{&client.Error{Status: 422}, ExitPolicy},
		{&client.Error{Status: 429}, ExitRateLimited},
		{&client.Error{Status: 503}, ExitUnavailable},
		{&client.Error{Status: 502}, ExitUnavailable},
		{&client.Error{Status: 500}, ExitError},
		{fmt.Errorf("%w: dial", client.ErrUnavailable), ExitUnavailable},
		{fmt.Errorf("%w: dev token: %w", client.ErrSignIn, &client.Error{Status: 404}), ExitNotAllowed},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestUnreachableAPI(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	t.Setenv("JITFLOW_TOKEN", "")
	res := run(t, "show", "req-1", "--as", "alice", "--api", srv.URL)
	if res.code != ExitUnavailable || !strings.Contains(res.err.Error(), "is the jitflow API running at "+srv.URL) {
		t.Errorf("exit %d, err %v", res.code, res.err)
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"},
		{2*time.Minute + 400*time.Millisecond, "2m"},
		{90 * time.Minute, "1h30m"},
		{8*time.Hour + 20*time.Second, "8h"},
		{0, "0s"},
	}
	for _, tt := range tests {
		if got := human(tt.d); got != tt.want {
			t.Errorf("human(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestAtIsLocalAndRelative(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	p := printer{now: now}
	later, earlier := now.Add(90*time.Second), now.Add(-2*time.Hour)
	if got, want := p.at(&later), later.Local().Format(timeLayout)+" (in 1m30s)"; got != want {
		t.Errorf("at(later) = %q, want %q", got, want)
	}
	if got, want := p.at(&earlier), earlier.Local().Format(timeLayout)+" (2h ago)"; got != want {
		t.Errorf("at(earlier) = %q, want %q", got, want)
	}
	if got := p.at(nil); got != "-" {
		t.Errorf("at(nil) = %q", got)
	}
}

func TestCompletion(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		call   string
		stdout []string
	}{
		{"approve offers pending requests", []string{"__complete", "approve", "--as", "bob", ""},
			"GET /api/v1/requests?limit=50&status=pending_approval",
			[]string{"req-1\tpending_approval reader alice@example.com\n", "req-2\tactive admin alice@example.com\n", ":4\n"}},
		{"revoke offers active requests", []string{"__complete", "revoke", "--as", "alice", ""},
			"GET /api/v1/requests?limit=50&status=active", []string{"req-2\t", ":4\n"}},
		{"one id is enough", []string{"__complete", "show", "req-1", "--as", "alice", ""}, "", []string{":4\n"}},
		{"no sign-in, no offers", []string{"__complete", "show", ""}, "", []string{":5\n"}},
		{"statuses", []string{"__complete", "list", "--status", "ex"}, "", []string{"expired\n", ":4\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, pendingForBob)
			res := run(t, tt.args...)
			for _, want := range tt.stdout {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("completion lacks %q:\n%s", want, res.stdout)
				}
			}
			if f.lastCall != tt.call {
				t.Errorf("last call %q, want %q", f.lastCall, tt.call)
			}
		})
	}
}
