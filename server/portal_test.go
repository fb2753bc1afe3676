package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// portalSignIn walks the portal's sign-in as user from GET path in hc:
// the redirect to sign in, the issuer's user picker, the way back. It
// returns the answer of the callback.
func (e *pageEnv) portalSignIn(hc *http.Client, path, user string, edit func(url.Values)) response {
	e.t.Helper()
	first := e.page(hc, http.MethodGet, path, nil)
	wantStatus(e.t, first, http.StatusSeeOther)
	start := e.page(hc, http.MethodGet, first.header.Get("Location"), nil)
	wantStatus(e.t, start, http.StatusFound)
	authURL, err := url.Parse(start.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		e.t.Fatalf("portal sign-in %s does not use PKCE", authURL)
	}
	if edit != nil {
		edit(q)
	}
	q.Set("user", user)
	authURL.RawQuery = ""
	back := e.page(hc, http.MethodPost, authURL.String(), q)
	wantStatus(e.t, back, http.StatusFound)
	return e.page(hc, http.MethodGet, back.header.Get("Location"), nil)
}

// portalUser is a browser signed in to the portal as user.
func (e *pageEnv) portalUser(user string) *http.Client {
	e.t.Helper()
	hc := browser(e.t)
	end := e.portalSignIn(hc, "/", user, nil)
	wantStatus(e.t, end, http.StatusSeeOther)
	return hc
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of hc's portal session, read from a page.
func (e *pageEnv) csrf(hc *http.Client) string {
	e.t.Helper()
	m := csrfInput.FindSubmatch(e.page(hc, http.MethodGet, "/", nil).body)
	if m == nil {
		e.t.Fatal("the portal page carries no CSRF token")
	}
	return string(m[1])
}

func wantPortalPage(t testing.TB, r response, status int, fragments ...string) {
	t.Helper()
	wantStatus(t, r, status)
	if csp := r.header.Get("Content-Security-Policy"); csp != portalCSP {
		t.Errorf("Content-Security-Policy = %q, want %q", csp, portalCSP)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	wantContains(t, "page", string(r.body), fragments...)
}

// portalCalls counts the calls that would change something in Temporal.
func (e *pageEnv) portalCalls() int {
	_, by := e.temporal.callCount()
	return by["ExecuteWorkflow"] + by["UpdateWorkflow"]
}

func TestPortalSignedOut(t *testing.T) {
	e := newPageEnv(t, nil)
	for path, back := range map[string]string{"/": "/", "/approve": "/approve", "/request?role=reader": "/request?role=reader"} {
		r := e.page(nil, http.MethodGet, path, nil)
		wantStatus(t, r, http.StatusSeeOther)
		if got, want := r.header.Get("Location"), "/signin?return="+url.QueryEscape(back); got != want {
			t.Errorf("GET %s sends to %q, want %q", path, got, want)
		}
	}
	form := url.Values{"role": {"reader"}, "justification": {"x"}, "csrf": {"guess"}}
	wantPortalPage(t, e.page(nil, http.MethodPost, "/request", form), http.StatusForbidden, "Your portal session has ended")
	if n := e.portalCalls(); n != 0 {
		t.Errorf("%d starts or updates without a session", n)
	}
	// Only paths of this server are places to come back to.
	for _, v := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "/ /evil.example", "/signin?return=/", "approve"} {
		if got := portalReturn(v); got != "/" {
			t.Errorf("portalReturn(%q) = %q, want /", v, got)
		}
	}
}

func TestPortalSessionCookie(t *testing.T) {
	e := newPageEnv(t, nil)
	hc := browser(t)
	end := e.portalSignIn(hc, "/approve", "alice", nil)
	wantStatus(t, end, http.StatusSeeOther)
	if got := end.header.Get("Location"); got != "/approve" {
		t.Errorf("after sign-in the browser goes to %q, want /approve", got)
	}
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: end.header}).Cookies() {
		if c.Name == portalCookie {
			ck = c
		}
	}
	if ck == nil {
		t.Fatal("sign-in set no portal cookie")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != int(PortalSessionLifetime/time.Second) {
		t.Errorf("portal cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Max-Age=%d", ck, int(PortalSessionLifetime/time.Second))
	}
	if strings.Contains(ck.Value, "alice") {
		t.Error("the portal cookie shows who signed in: it is not sealed")
	}
	var sess portalSession
	if !e.server.openCookie(purposePortal, ck.Value, &sess) || sess.ObjectID != aliceID || sess.UPN != "alice@example.com" || sess.CSRF == "" {
		t.Errorf("sealed session %+v, want alice with a CSRF token", sess)
	}
	wantPortalPage(t, e.page(hc, http.MethodGet, "/", nil), http.StatusOK, "Signed in as alice@example.com", `aria-current="page"`, `<nav aria-label="Portal">`, `<main id="main"`)

	// An expired session is no session.
	e.server.now = func() time.Time { return time.Now().Add(PortalSessionLifetime + time.Minute) }
	wantStatus(t, e.page(hc, http.MethodGet, "/", nil), http.StatusSeeOther)
	e.server.now = time.Now

	out := e.page(hc, http.MethodPost, "/signout", url.Values{"csrf": {e.csrf(hc)}})
	wantPortalPage(t, out, http.StatusOK, "You are signed out", `<a id="signin" class="button" href="/signin">Sign in</a>`)
	if strings.Contains(string(out.body), "Signed in as") {
		t.Error("the signed-out page still names the user")
	}
	wantStatus(t, e.page(hc, http.MethodGet, "/", nil), http.StatusSeeOther)
}

func TestPortalCSRF(t *testing.T) {
	e := newPageEnv(t, nil)
	alice := e.portalUser("alice")
	token := e.csrf(alice)
	id := e.create("alice", readerBody)
	before := e.portalCalls()
	form := func(csrf string) url.Values {
		v := url.Values{"role": {"reader"}, "duration": {"1h"}, "justification": {"incident 42"}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	for name, r := range map[string]response{
		"no token":        e.page(alice, http.MethodPost, "/request", form("")),
		"wrong token":     e.page(alice, http.MethodPost, "/request", form(token+"x")),
		"other origin":    e.page(alice, http.MethodPost, "/request", form(token), "Origin: https://evil.example"),
		"cross-site":      e.page(alice, http.MethodPost, "/request", form(token), "Sec-Fetch-Site: cross-site"),
		"null, same-site": e.page(alice, http.MethodPost, "/request", form(token), "Origin: null", "Sec-Fetch-Site: same-site"),
		"cancel, no tok":  e.page(alice, http.MethodPost, "/requests/"+id+"/cancel", url.Values{}),
	} {
		t.Run(name, func(t *testing.T) { wantPortalPage(t, r, http.StatusForbidden, "Nothing was done") })
	}
	// Another session's token does not pass either.
	bob := e.portalUser("bob")
	wantStatus(t, e.page(alice, http.MethodPost, "/requests/"+id+"/cancel", url.Values{"csrf": {e.csrf(bob)}}), http.StatusForbidden)
	if n := e.portalCalls(); n != before {
		t.Fatalf("%d starts or updates reached Temporal without a valid CSRF token", n-before)
	}
	ok := e.page(alice, http.MethodPost, "/request", form(token), "Origin: "+e.api.URL)
	wantStatus(t, ok, http.StatusSeeOther)
	// The portal's own pages send no referrer, so Chromium names their
	// forms' origin "null" and the fetch same-origin: the token decides.
	own := e.page(alice, http.MethodPost, "/request", form(token), "Origin: null", "Sec-Fetch-Site: same-origin")
	wantStatus(t, own, http.StatusSeeOther)
}

func TestPortalRequestForm(t *testing.T) {
	e := newPageEnv(t, nil)
	alice := e.portalUser("alice")
	token := e.csrf(alice)
	page := e.page(alice, http.MethodGet, "/request?role=reader", nil)
	wantPortalPage(t, page, http.StatusOK, `<label for="role">`, `<option value="reader" selected>`, `<option value="admin"`,
		"Role reader: 10s to 8h, default 1h.", `<tr id="limits-admin"><th scope="row">admin</th><td>10s to 2h, default 30m</td><td>required</td><td>required</td><td>2 approval stages</td>`, `<label for="duration">`, `<label for="justification">`, `<label for="ticket">`)

	over := url.Values{"csrf": {token}, "role": {"reader"}, "duration": {"9h"}, "justification": {"incident <42>"}, "ticket": {"INC-1"}}
	r := e.page(alice, http.MethodPost, "/request", over)
	wantPortalPage(t, r, http.StatusUnprocessableEntity, `id="duration-error"`, `aria-invalid="true"`, "8h",
		`value="9h"`, "incident &lt;42&gt;</textarea>", `value="INC-1"`, `<option value="reader" selected>`, "correct the duration")
	if strings.Contains(string(r.body), `id="role-error"`) {
		t.Error("the duration's error is shown beside the role")
	}

	none := url.Values{"csrf": {token}, "role": {"reader"}, "duration": {"1h"}}
	wantPortalPage(t, e.page(alice, http.MethodPost, "/request", none), http.StatusUnprocessableEntity, `id="justification-error"`, "justification")
	wantPortalPage(t, e.page(alice, http.MethodPost, "/request", url.Values{"csrf": {token}}), http.StatusBadRequest, `id="role-error"`, `Field &#34;role&#34; is required`)
	if n := e.portalCalls(); n != 0 {
		t.Fatalf("refused forms started %d workflows", n)
	}

	good := url.Values{"csrf": {token}, "role": {"reader"}, "duration": {"2h"}, "justification": {"incident 42"}, "submission": {"form-1"}}
	done := e.page(alice, http.MethodPost, "/request", good)
	wantStatus(t, done, http.StatusSeeOther)
	loc := done.header.Get("Location")
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/requests/"), "?done=requested")
	if !idPattern.MatchString(id) {
		t.Fatalf("after the form the browser goes to %q", loc)
	}
	// A second click on the same form lands on the same request.
	again := e.page(alice, http.MethodPost, "/request", good)
	if again.header.Get("Location") != loc {
		t.Errorf("a repeated submission goes to %q, want %q", again.header.Get("Location"), loc)
	}
	if len(e.temporal.starts) != 1 {
		t.Fatalf("%d workflows started, want 1", len(e.temporal.starts))
	}
	in := e.temporal.wfs[id].input
	if in.Requester.ID != aliceID || in.Duration != 2*time.Hour || in.Proof == nil || in.Proof.Channel != proof.ChannelPortal ||
		!strings.Contains(in.Proof.Via, "portal session of alice@example.com") {
		t.Errorf("started %+v with proof %+v", in, in.Proof)
	}
	unproven(t, id, in)
	wantPortalPage(t, e.page(alice, http.MethodGet, loc, nil), http.StatusOK, "Your request was sent.", `id="status-`+id+`"`)
}

func TestPortalMyRequestsAndActions(t *testing.T) {
	e := newPageEnv(t, nil)
	pending := e.create("alice", readerBody)
	active := e.create("alice", readerBody)
	expires := time.Now().Add(42*time.Minute + 10*time.Second)
	e.temporal.mu.Lock()
	w := e.temporal.wfs[active]
	w.view.Status, w.view.ExpiresAt = api.StatusActive, &expires
	w.attrs[workflows.SearchStatus.GetName()] = string(api.StatusActive)
	e.temporal.mu.Unlock()
	e.create("erin", readerBody)

	alice := e.portalUser("alice")
	r := e.page(alice, http.MethodGet, "/", nil)
	wantPortalPage(t, r, http.StatusOK, `id="row-`+pending+`"`, `id="cancel-`+pending+`"`, `id="revoke-`+active+`"`, `id="extend-`+active+`"`,
		`<label for="extend-duration-`+active+`">`, `id="status-`+active+`"`, "42m (until", `data-live="`+pending+`"`, "<script>")
	body := string(r.body)
	if strings.Contains(body, `id="revoke-`+pending+`"`) || strings.Contains(body, `id="cancel-`+active+`"`) {
		t.Error("a pending request offers revoke, or an active one cancel")
	}
	if n := strings.Count(body, `<tr id="row-`); n != 2 {
		t.Errorf("alice sees %d requests, want her 2", n)
	}
	// The script on the page is the one the CSP allows.
	if !strings.Contains(body, "<script>"+portalJS+"</script>") {
		t.Error("the page's script is not the hashed one")
	}

	token := e.csrf(alice)
	wantStatus(t, e.page(alice, http.MethodPost, "/requests/"+pending+"/cancel", url.Values{"csrf": {token}}), http.StatusSeeOther)
	u := e.temporal.lastUpdate()
	if in, ok := u.Args[0].(workflows.CancelInput); !ok || u.UpdateName != workflows.UpdateCancel || in.ActorID != aliceID || in.Proof.Channel != proof.ChannelPortal {
		t.Errorf("cancel sent %s %+v", u.UpdateName, u.Args[0])
	}
	unproven(t, pending, u.Args[0])

	ext := url.Values{"csrf": {token}, "duration": {"30m"}, "justification": {"still digging"}}
	wantStatus(t, e.page(alice, http.MethodPost, "/requests/"+active+"/extend", ext), http.StatusSeeOther)
	u = e.temporal.lastUpdate()
	if in, ok := u.Args[0].(workflows.ExtendInput); !ok || in.Duration != 30*time.Minute || in.Actor.ID != aliceID {
		t.Errorf("extend sent %s %+v", u.UpdateName, u.Args[0])
	}
	bad := url.Values{"csrf": {token}, "duration": {"soon"}}
	wantPortalPage(t, e.page(alice, http.MethodPost, "/requests/"+active+"/extend", bad), http.StatusBadRequest, `field &#34;duration&#34;`)

	wantStatus(t, e.page(alice, http.MethodPost, "/requests/"+active+"/revoke", url.Values{"csrf": {token}, "reason": {"done early"}}), http.StatusSeeOther)
	u = e.temporal.lastUpdate()
	if in, ok := u.Args[0].(workflows.RevokeInput); !ok || in.Actor.ID != aliceID || in.Reason != "done early" {
		t.Errorf("revoke sent %s %+v", u.UpdateName, u.Args[0])
	}
	wantPortalPage(t, e.page(alice, http.MethodPost, "/requests/"+active+"/delete", url.Values{"csrf": {token}}), http.StatusNotFound, "no action")
}

func TestPortalApproveFromQueue(t *testing.T) {
	e := newPageEnv(t, nil)
	e.decideScript()
	id := e.create("alice", readerBody)
	escalates := time.Now().Add(20 * time.Minute)
	e.temporal.mu.Lock()
	e.temporal.wfs[id].view.EscalatesAt = &escalates
	e.temporal.mu.Unlock()

	carol := e.portalUser("carol")
	wantPortalPage(t, e.page(carol, http.MethodGet, "/approve", nil), http.StatusOK, `id="queue-empty"`)
	erin := e.portalUser("erin")
	wantPortalPage(t, e.page(erin, http.MethodGet, "/approve", nil), http.StatusOK, `id="queue-empty"`)
	before := e.portalCalls()
	wantPortalPage(t, e.page(erin, http.MethodPost, "/requests/"+id+"/decide", url.Values{"csrf": {e.csrf(erin)}, "decision": {"approve"}}),
		http.StatusForbidden, "Not allowed", "You may not see request")
	if e.portalCalls() != before {
		t.Error("a decision by someone who may not decide reached Temporal")
	}

	bob := e.portalUser("bob")
	q := e.page(bob, http.MethodGet, "/approve", nil)
	wantPortalPage(t, q, http.StatusOK, `id="queue-`+id+`"`, "alice@example.com asks for reader", "investigate incident 42",
		`id="queue-stage-`+id+`">1 of 1 (team-lead)`, `id="queue-escalates-`+id+`">in 20m (at `, `id="approve-`+id+`"`, `<label for="comment-`+id+`">`)

	form := url.Values{"csrf": {e.csrf(bob)}, "decision": {"approve"}, "comment": {"fine by me"}}
	r := e.page(bob, http.MethodPost, "/requests/"+id+"/decide", form)
	wantStatus(t, r, http.StatusSeeOther)
	if got := r.header.Get("Location"); got != "/requests/"+id+"?done=approved" {
		t.Errorf("after deciding the browser goes to %q", got)
	}
	u := e.temporal.lastUpdate()
	in, ok := u.Args[0].(workflows.DecideInput)
	if !ok || u.UpdateName != workflows.UpdateDecide || in.ApproverID != bobID || in.Decision != api.DecisionApprove || in.Comment != "fine by me" {
		t.Fatalf("decide sent %s %+v", u.UpdateName, u.Args[0])
	}
	if in.Proof == nil || in.Proof.Channel != proof.ChannelPortal || in.Proof.ActorID != bobID || !strings.Contains(in.Proof.Via, "bob@example.com") {
		t.Errorf("decision proof %+v, want the portal channel for bob", in.Proof)
	}
	unproven(t, id, in)
	wantPortalPage(t, e.page(bob, http.MethodGet, "/approve", nil), http.StatusOK, `id="queue-empty"`)
}

func TestPortalStepUpToApprove(t *testing.T) {
	e := newPageEnv(t, func(p *policies.Policy) {
		r, _ := p.Role("reader")
		r.StepUp.MFA = true
	})
	e.decideScript()
	created := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", devauth.TokenOptions{MFA: true}), readerBody)
	wantStatus(t, created, http.StatusCreated)
	id := created.request(t).ID

	bob := e.portalUser("bob")
	q := e.page(bob, http.MethodGet, "/approve", nil)
	wantPortalPage(t, q, http.StatusOK, `id="stepup-`+id+`"`, "needs multi-factor authentication")
	if strings.Contains(string(q.body), `id="approve-`+id+`"`) {
		t.Error("the queue offers to approve without the step-up")
	}
	wantPortalPage(t, e.page(bob, http.MethodPost, "/requests/"+id+"/decide", url.Values{"csrf": {e.csrf(bob)}, "decision": {"approve"}}),
		http.StatusUnauthorized, "Stronger sign-in needed", `href="/signin?return=%2Fapprove&amp;stepup=reader"`)
	if len(e.temporal.updates) != 0 {
		t.Fatal("a decision without the step-up reached Temporal")
	}

	start := e.page(bob, http.MethodGet, "/signin?return=%2Fapprove&stepup=reader", nil)
	wantStatus(t, start, http.StatusFound)
	authURL, _ := url.Parse(start.header.Get("Location"))
	aq := authURL.Query()
	if !strings.Contains(aq.Get("claims"), `"mfa"`) || aq.Get("login_hint") != "bob@example.com" {
		t.Fatalf("step-up sign-in asks %q with hint %q", aq.Get("claims"), aq.Get("login_hint"))
	}
	aq.Set("user", "bob")
	authURL.RawQuery = ""
	back := e.page(bob, http.MethodPost, authURL.String(), aq)
	wantStatus(t, e.page(bob, http.MethodGet, back.header.Get("Location"), nil), http.StatusSeeOther)
	wantPortalPage(t, e.page(bob, http.MethodGet, "/approve", nil), http.StatusOK, `id="approve-`+id+`"`)
	wantStatus(t, e.page(bob, http.MethodPost, "/requests/"+id+"/decide", url.Values{"csrf": {e.csrf(bob)}, "decision": {"approve"}}), http.StatusSeeOther)
}

func TestPortalRequestPage(t *testing.T) {
	e := newPageEnv(t, nil)
	e.server.temporalUI = "http://ui.example/namespaces/default"
	id := e.create("alice", readerBody)
	at := time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC)
	e.temporal.history = []*historypb.HistoryEvent{
		auditMarker(t, 2, workflows.AuditEvent{Time: at, Type: api.EventRequested, Actor: "alice@example.com", ActorID: aliceID, Detail: "reader for 1h: <b>now</b>"}),
	}
	alice := e.portalUser("alice")
	r := e.page(alice, http.MethodGet, "/requests/"+id, nil)
	wantPortalPage(t, r, http.StatusOK, `id="timeline"`, "2030-01-01 00:00:01 UTC", "&lt;b&gt;now&lt;/b&gt;", "investigate incident 42", `id="status-`+id+`"`)
	if strings.Contains(string(r.body), "temporal-link") {
		t.Error("the Temporal link is shown to a requester")
	}
	dave := e.portalUser("dave") // an operator
	wantPortalPage(t, e.page(dave, http.MethodGet, "/requests/"+id, nil), http.StatusOK, `href="http://ui.example/namespaces/default/workflows/`+id+`"`)
	erin := e.portalUser("erin")
	wantPortalPage(t, e.page(erin, http.MethodGet, "/requests/"+id, nil), http.StatusForbidden, "You may not see request")
	wantPortalPage(t, e.page(erin, http.MethodGet, "/requests/req-00000000-0000", nil), http.StatusNotFound)
}

func TestPortalLiveStatus(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	for user, want := range map[string]int{"alice": http.StatusOK, "bob": http.StatusOK, "erin": http.StatusForbidden} {
		r := e.page(e.portalUser(user), http.MethodGet, "/requests/"+id+"/status", nil)
		wantStatus(t, r, want)
		var v statusView
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("%s: %v: %s", user, err, r.body)
		}
		if want == http.StatusOK && (v.ID != id || v.Status != api.StatusPending || v.StatusText != "pending approval" || v.Final) {
			t.Errorf("%s gets %+v", user, v)
		}
		if want != http.StatusOK && v.Status != "" {
			t.Errorf("%s learns the status %q of another's request", user, v.Status)
		}
	}
	wantStatus(t, e.page(nil, http.MethodGet, "/requests/"+id+"/status", nil), http.StatusUnauthorized)
}

// TestPortalCSPAllowsItsOwnStyleAndScript: the page's one stylesheet and
// one script are what the CSP's hashes allow, and nothing else may load.
func TestPortalCSPAllowsItsOwnStyleAndScript(t *testing.T) {
	e := newPageEnv(t, nil)
	e.create("alice", readerBody)
	body := e.page(e.portalUser("alice"), http.MethodGet, "/", nil).body
	for tag, re := range map[string]*regexp.Regexp{
		"style":  regexp.MustCompile(`(?s)<style>(.*?)</style>`),
		"script": regexp.MustCompile(`(?s)<script>(.*?)</script>`),
	} {
		all := re.FindAllSubmatch(body, -1)
		if len(all) != 1 {
			t.Fatalf("the page has %d <%s> elements, want 1", len(all), tag)
		}
		if want := cspHash(string(all[0][1])); !strings.Contains(portalCSP, tag+"-src "+want) {
			t.Errorf("CSP %q does not allow the page's own %s (%s)", portalCSP, tag, want)
		}
	}
	for _, d := range []string{"default-src 'none'", "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(portalCSP, d) {
			t.Errorf("CSP %q lacks %s", portalCSP, d)
		}
	}
	if strings.Contains(portalCSP, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", portalCSP)
	}
}

// TestPortalGetsChangeNothing: loading every page, with any query,
// neither starts nor updates a workflow.
func TestPortalGetsChangeNothing(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	before := e.portalCalls()
	alice, bob := e.portalUser("alice"), e.portalUser("bob")
	for _, hc := range []*http.Client{alice, bob} {
		for _, path := range []string{"/", "/request?role=reader&duration=1h&justification=x", "/approve", "/requests/" + id,
			"/requests/" + id + "/status", "/requests/" + id + "/cancel", "/requests/" + id + "/decide?decision=approve", "/signout"} {
			e.page(hc, http.MethodGet, path, nil)
		}
	}
	if n := e.portalCalls() - before; n != 0 {
		t.Fatalf("GETs started or updated %d workflows", n)
	}
}

func TestQueueEntry(t *testing.T) {
	bob := []workflows.Approver{{Approver: "bob@example.com", ApproverID: bobID}}
	ext := &api.ExtensionView{Number: 1, Status: api.StatusPending, DurationSecs: 1800, Justification: "more", Stage: 1, Approvers: bob}
	for _, tc := range []struct {
		name  string
		req   workflows.Request
		waits bool
		words string
	}{
		{"pending, bob asked", workflows.Request{Status: api.StatusPending, Stage: 1, Stages: 1, Approvers: bob}, true, ""},
		{"pending, bob decided", workflows.Request{Status: api.StatusPending, Stage: 1, Stages: 1, Approvers: bob,
			Decisions: []workflows.Decision{{ApproverID: bobID, Stage: 1}}}, false, ""},
		{"pending, others asked", workflows.Request{Status: api.StatusPending, Stage: 1, Stages: 1,
			Approvers: []workflows.Approver{{ApproverID: carolID}}}, false, ""},
		{"active, extension asks bob", workflows.Request{Status: api.StatusActive, Stages: 1, Extension: ext,
			Decisions: []workflows.Decision{{ApproverID: bobID, Stage: 1}}}, true, "extension 1: 30m more"},
		{"active, extension bob decided", workflows.Request{Status: api.StatusActive, Stages: 1, Extension: ext,
			Decisions: []workflows.Decision{{ApproverID: bobID, Stage: 1, Extension: 1}}}, false, ""},
		{"active, nothing asked", workflows.Request{Status: api.StatusActive, Stages: 1}, false, ""},
		{"denied", workflows.Request{Status: api.StatusDenied, Approvers: bob}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, waits := queueEntry(tc.req, bobID)
			if waits != tc.waits || (waits && (row.Extension != tc.words || row.Stage != "1 of 1")) {
				t.Errorf("queueEntry = %+v, %v; want waits %v, extension %q", row, waits, tc.waits, tc.words)
			}
		})
	}
}
