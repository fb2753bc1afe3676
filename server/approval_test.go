package server

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

const testClientID = "jitflow-approvals"

// pageEnv is the API with approval pages and sign-in against the dev
// issuer, over a fake Temporal.
type pageEnv struct {
	*env
	keys *approvals.KeySet
}

// newPageEnv serves the pages; change may adjust the policy first.
func newPageEnv(t *testing.T, change func(*policies.Policy)) *pageEnv {
	t.Helper()
	e := &env{t: t, policy: policies.Dev(), temporal: newFakeTemporal(), jwksHits: &counter{}, logs: &syncBuffer{}}
	if change != nil {
		change(e.policy)
	}
	e.startIssuer()
	verifier, err := NewTokenVerifier(VerifierConfig{
		Issuer: e.issuer.Issuer(), Audience: testAudience, JWKSURL: e.issuer.JWKSURL(), TenantID: e.policy.TenantID,
	})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := approvals.NewKeySet(approvals.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	// The API's URL is known once it listens; the handler comes after.
	var handler http.Handler
	e.api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.api.Close)
	e.issuer.AllowClient(testClientID, e.api.URL+SignInCallbackPath)
	e.server, err = New(Config{
		Temporal: e.temporal, Policy: e.policy, Verifier: verifier, BaseURL: e.api.URL,
		ApprovalKeys: keys,
		Proofs:       testProofs,
		SignIn:       &SignInConfig{Issuer: e.issuer.Issuer(), ClientID: testClientID},
		Logger:       slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	handler = e.server.Handler()
	return &pageEnv{env: e, keys: keys}
}

// link mints a link path for approver at stage, valid for ttl.
func (e *pageEnv) link(reqID, approverID string, stage int, ttl time.Duration) string {
	e.t.Helper()
	tok, _, err := e.keys.Mint(approvals.Claims{RequestID: reqID, Stage: stage, ApproverID: approverID, Expires: time.Now().Add(ttl)})
	if err != nil {
		e.t.Fatal(err)
	}
	return approvals.PathPrefix + tok
}

// browser is an HTTP client with cookies that does not follow redirects.
func browser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *pageEnv) page(hc *http.Client, method, path string, form url.Values, headers ...string) response {
	e.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.api.URL + path
	}
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	if hc == nil {
		hc = browser(e.t)
	}
	resp, err := hc.Do(req)
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

// decideScript makes the fake workflow record decisions the way the real
// one does for a one-stage request: the first approval activates it.
func (e *pageEnv) decideScript() {
	e.temporal.update = func(opts client.UpdateWorkflowOptions) (workflows.Request, error) {
		in := opts.Args[0].(workflows.DecideInput)
		e.temporal.mu.Lock()
		defer e.temporal.mu.Unlock()
		w := e.temporal.wfs[opts.WorkflowID]
		for _, d := range w.view.Decisions {
			if d.ApproverID == in.ApproverID {
				return workflows.Request{}, temporal.NewApplicationError("already decided", workflows.ErrConflict)
			}
		}
		w.view.Decisions = append(w.view.Decisions, workflows.Decision{Approver: "bob@example.com", ApproverID: in.ApproverID,
			Decision: in.Decision, Comment: in.Comment, Stage: in.Stage, Time: time.Now()})
		w.view.Status = apitypes.StatusActivating
		if in.Decision == apitypes.DecisionDeny {
			w.view.Status = apitypes.StatusDenied
		}
		return w.view, nil
	}
}

func approveForm(comment string) url.Values {
	return url.Values{"decision": {"approve"}, "comment": {comment}}
}

func wantPage(t testing.TB, r response, status int, fragments ...string) {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	for h, want := range map[string]string{
		"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": pageCSP,
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	wantContains(t, "page", string(r.body), fragments...)
}

func TestApprovalPageShowsAndOnlyPostDecides(t *testing.T) {
	e := newPageEnv(t, nil)
	e.decideScript()
	id := e.create("alice", `{"role":"reader","duration":"2h","justification":"investigate incident 42","ticket":"INC-7"}`)
	link := e.link(id, bobID, 1, time.Hour)

	get := e.page(nil, http.MethodGet, link, nil)
	wantPage(t, get, http.StatusOK, id, "alice@example.com", "reader", "2h", "investigate incident 42", "INC-7",
		"1 of 1 (team-lead)", `name="decision" value="approve"`, `value="deny"`, "bob@example.com")
	if strings.Contains(string(get.body), "<script") {
		t.Error("the page carries a script")
	}
	head := e.page(nil, http.MethodHead, link, nil)
	wantStatus(t, head, http.StatusOK)
	if len(head.body) != 0 {
		t.Errorf("HEAD answered a body of %d bytes", len(head.body))
	}
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("GET and HEAD sent %d updates; they must decide nothing", n)
	}

	done := e.page(nil, http.MethodPost, link, approveForm("ok for the incident"))
	wantPage(t, done, http.StatusOK, "You approved request "+id, "activating")
	got := e.temporal.lastUpdate()
	in := unproven(t, id, got.Args[0]).(workflows.DecideInput)
	claims, err := e.keys.Verify(strings.TrimPrefix(link, approvals.PathPrefix), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.UpdateName != workflows.UpdateDecide || got.WorkflowID != id ||
		in != (workflows.DecideInput{ApproverID: bobID, Decision: "approve", Comment: "ok for the incident", Stage: 1, LinkID: claims.ID}) {
		t.Errorf("update = %s %s %+v", got.UpdateName, got.WorkflowID, in)
	}

	replay := e.page(nil, http.MethodPost, link, approveForm(""))
	wantPage(t, replay, http.StatusConflict, "Already decided", "bob@example.com already approved this request")
	if n := len(e.temporal.updates); n != 1 {
		t.Errorf("the replayed link sent another update (%d in all)", n)
	}
	again := e.page(nil, http.MethodGet, link, nil)
	wantPage(t, again, http.StatusConflict, "already approved")
}

func TestApprovalLinkRefusals(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	good := e.link(id, bobID, 1, time.Hour)
	tok := strings.TrimPrefix(good, approvals.PathPrefix)
	kid, rest, _ := strings.Cut(tok, ".")
	body, sig, _ := strings.Cut(rest, ".")
	flipped := byte('A')
	if body[10] == 'A' {
		flipped = 'B'
	}
	forged := body[:10] + string(flipped) + body[11:]
	closed := e.create("erin", readerBody)
	e.temporal.close(closed, apitypes.StatusDenied)
	// An admin request whose first stage bob approved: carol's link for
	// that stage comes too late.
	moved := e.create("alice", `{"role":"admin","duration":"1h","justification":"two stages","ticket":"CHG-1"}`)
	e.temporal.mu.Lock()
	w := e.temporal.wfs[moved]
	w.view.Stage, w.view.Approvers = 2, []workflows.Approver{{Approver: "dave@example.com", ApproverID: daveID}}
	w.view.Decisions = []workflows.Decision{{Approver: "bob@example.com", ApproverID: bobID, Decision: "approve", Stage: 1}}
	e.temporal.mu.Unlock()
	tests := []struct {
		name, path string
		status     int
		says       string
	}{
		{"altered payload", approvals.PathPrefix + kid + "." + forged + "." + sig, http.StatusBadRequest, "altered"},
		{"cut short", good[:len(good)-12], http.StatusBadRequest, "not valid"},
		{"garbage", approvals.PathPrefix + "hello", http.StatusBadRequest, "incomplete or malformed"},
		{"expired", e.link(id, bobID, 1, -time.Minute), http.StatusGone, "expired"},
		{"unknown request", e.link("req-00000000-dead", bobID, 1, time.Hour), http.StatusNotFound, "no longer exists"},
		{"request already closed", e.link(closed, bobID, 1, time.Hour), http.StatusConflict, "it is now denied"},
		{"stage not begun", e.link(id, bobID, 2, time.Hour), http.StatusConflict, "still at stage 1"},
		{"stage passed", e.link(moved, carolID, 1, time.Hour), http.StatusConflict, "now waits for stage 2"},
		{"not an approver of the role", e.link(id, daveID, 1, time.Hour), http.StatusForbidden, "no longer an approver"},
		{"tier not reached", e.link(id, carolID, 1, time.Hour), http.StatusForbidden, "not among the people"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				r := e.page(nil, method, tt.path, approveForm(""))
				wantPage(t, r, tt.status, tt.says)
			}
		})
	}
	if n := len(e.temporal.updates); n != 0 {
		t.Errorf("refused links sent %d updates", n)
	}
}

func TestApprovalPostRefusals(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	link := e.link(id, bobID, 1, time.Hour)
	bad := e.page(nil, http.MethodPost, link, url.Values{"decision": {"yes"}})
	wantPage(t, bad, http.StatusBadRequest, `decision must be &#34;approve&#34; or &#34;deny&#34;`)
	cross := e.page(nil, http.MethodPost, link, approveForm(""), "Sec-Fetch-Site: cross-site")
	wantPage(t, cross, http.StatusForbidden, "only from the approval page")
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("refused forms sent %d updates", n)
	}
	// The workflow's own refusals keep their meaning on the page.
	for _, tt := range []struct {
		errType string
		status  int
	}{{workflows.ErrForbidden, http.StatusForbidden}, {workflows.ErrConflict, http.StatusConflict}, {workflows.ErrInvalid, http.StatusBadRequest}} {
		e.temporal.update = func(client.UpdateWorkflowOptions) (workflows.Request, error) {
			return workflows.Request{}, temporal.NewApplicationError("the workflow says no", tt.errType)
		}
		wantPage(t, e.page(nil, http.MethodPost, link, approveForm("")), tt.status, "the workflow says no")
	}
	e.temporal.update = func(client.UpdateWorkflowOptions) (workflows.Request, error) {
		return workflows.Request{}, errors.New("boom")
	}
	wantPage(t, e.page(nil, http.MethodPost, link, approveForm("")), http.StatusInternalServerError, "Nothing was decided")
}

func TestApprovalTokensStayOutOfLogs(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	link := e.link(id, bobID, 1, time.Hour)
	e.page(nil, http.MethodGet, link, nil)
	e.page(nil, http.MethodGet, link+"/signin", nil)
	e.temporal.update = func(client.UpdateWorkflowOptions) (workflows.Request, error) {
		return workflows.Request{}, errors.New("boom")
	}
	e.page(nil, http.MethodPost, link, approveForm(""))
	logs := e.logs.String()
	tok := strings.TrimPrefix(link, approvals.PathPrefix)
	if strings.Contains(logs, tok[len(tok)-20:]) || strings.Contains(logs, tok[:30]) {
		t.Errorf("logs carry the token:\n%s", logs)
	}
	wantContains(t, "logs", logs, `"/approvals/REDACTED"`, `"/approvals/REDACTED/signin"`)
}

func TestPageStyleMatchesPolicyHash(t *testing.T) {
	e := newPageEnv(t, nil)
	r := e.page(nil, http.MethodGet, approvals.PathPrefix+"x", nil)
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindSubmatch(r.body)
	if m == nil {
		t.Fatal("no <style> in the page")
	}
	sum := sha256.Sum256(m[1])
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(pageCSP, want) {
		t.Errorf("CSP %q does not allow the page's own style (%s)", pageCSP, want)
	}
	for _, d := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(pageCSP, d) {
			t.Errorf("CSP %q lacks %s", pageCSP, d)
		}
	}
}
