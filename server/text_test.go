package server

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// TestFreeTextRefused: every free-text and single-line field of every body
// refuses control and bidi characters with a 400 naming the field, before
// anything reaches Temporal.
func TestFreeTextRefused(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	startsBefore, updatesBefore := len(e.temporal.starts), len(e.temporal.updates)
	req := "/api/v1/requests"
	tests := []struct {
		name, user, path, body string
		field, detail          string
	}{
		{"justification with an override", "alice", req,
			`{"role":"reader","duration":"5m","justification":"reader, 5m\u202e"}`, "justification", `field "justification" holds U+202E (a bidirectional embedding or override) at character 11`},
		{"justification with an escape sequence", "alice", req,
			`{"role":"reader","duration":"5m","justification":"ok\u001b[2J"}`, "justification", "U+001B (a control character) at character 3"},
		{"justification with a lone carriage return", "alice", req,
			`{"role":"reader","duration":"5m","justification":"a\rb"}`, "justification", "U+000D (a carriage return)"},
		{"ticket with a line break", "alice", req,
			`{"role":"reader","duration":"5m","justification":"x","ticket":"INC-1\nINC-2"}`, "ticket", `field "ticket" holds U+000A (a line break) at character 6; it accepts UTF-8 text with no control characters (not even a line break)`},
		{"ticket with an isolate", "alice", req,
			`{"role":"reader","duration":"5m","justification":"x","ticket":"\u2067INC-1"}`, "ticket", "U+2067 (a bidirectional isolate) at character 1"},
		{"role with a mark", "alice", req,
			`{"role":"reader\u200f","duration":"5m","justification":"x"}`, "role", "U+200F (a bidirectional mark)"},
		{"duration with a C1 control", "alice", req,
			`{"role":"reader","duration":"5m\u0085","justification":"x"}`, "duration", "U+0085 (a control character)"},
		{"approve comment", "bob", req + "/" + id + "/approve", `{"comment":"fine\u202d"}`, "comment", "U+202D"},
		{"deny comment", "bob", req + "/" + id + "/deny", `{"comment":"\u0000"}`, "comment", "U+0000"},
		{"revoke reason", "alice", req + "/" + id + "/revoke", `{"reason":"done\u2028"}`, "reason", "U+2028 (a line or paragraph separator)"},
		{"extend justification", "alice", req + "/" + id + "/extend", `{"duration":"10m","justification":"\u061cmore"}`, "justification", "U+061C (a bidirectional mark)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(http.MethodPost, tt.path, tt.user, tt.body)
			wantStatus(t, r, http.StatusBadRequest)
			p := r.problem(t)
			if p.Field != tt.field {
				t.Errorf("field = %q, want %q", p.Field, tt.field)
			}
			wantContains(t, "detail", p.Detail, tt.detail, "bidirectional formatting characters")
		})
	}
	if len(e.temporal.starts) != startsBefore || len(e.temporal.updates) != updatesBefore {
		t.Errorf("refused text reached Temporal: %d starts, %d updates", len(e.temporal.starts)-startsBefore, len(e.temporal.updates)-updatesBefore)
	}
}

// TestFreeTextLineBreaks: multi-line fields keep plain line breaks and get
// CRLF ones as plain ones.
func TestFreeTextLineBreaks(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", `{"role":"reader","duration":"5m","justification":"incident 42\r\nsee the runbook\nstep 3"}`)
	w, err := e.temporal.get(id)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.input.Justification; got != "incident 42\nsee the runbook\nstep 3" {
		t.Errorf("justification = %q", got)
	}
	wantStatus(t, e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", `{"comment":"ok\r\nfor 5m"}`), http.StatusOK)
	in := e.temporal.lastUpdate().Args[0].(workflows.DecideInput)
	if in.Comment != "ok\nfor 5m" {
		t.Errorf("comment = %q", in.Comment)
	}
}

func TestDuplicateKeysRefused(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	req := "/api/v1/requests"
	for _, tt := range []struct{ name, user, path, body, field string }{
		{"create", "alice", req, `{"role":"admin","duration":"2h","justification":"x","role":"reader"}`, "role"},
		{"create, duplicate in another case after the first", "alice", req, `{"role":"reader","justification":"a","justification":"b"}`, "justification"},
		{"approve", "bob", req + "/" + id + "/approve", `{"comment":"ok","comment":"no"}`, "comment"},
		{"deny", "bob", req + "/" + id + "/deny", `{"comment":"","comment":""}`, "comment"},
		{"revoke", "alice", req + "/" + id + "/revoke", `{"reason":"a","reason":"b"}`, "reason"},
		{"extend", "alice", req + "/" + id + "/extend", `{"duration":"5m","justification":"x","duration":"8h"}`, "duration"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(http.MethodPost, tt.path, tt.user, tt.body)
			wantStatus(t, r, http.StatusBadRequest)
			p := r.problem(t)
			if p.Field != tt.field {
				t.Errorf("field = %q, want %q", p.Field, tt.field)
			}
			wantContains(t, "detail", p.Detail, `field "`+tt.field+`" appears more than once`)
		})
	}
	if len(e.temporal.starts) != 1 || len(e.temporal.updates) != 0 {
		t.Errorf("bodies with duplicate keys reached Temporal")
	}
}

// TestDuplicateKeysAtAnyDepth checks the token walk itself: today's bodies
// are flat, but a nested duplicate is as ambiguous.
func TestDuplicateKeysAtAnyDepth(t *testing.T) {
	for body, field := range map[string]string{
		`{"a":1,"b":{"c":1},"a":2}`:                       "a",
		`{"a":{"b":1,"b":2}}`:                             "a.b",
		`{"a":[{"b":1},{"b":1,"c":[1,{"d":1,"d":2}]}]}`:   "a[].c[].d",
		`[{"x":1},{"y":{"z":1,"z":1}}]`:                   "[].y.z",
		`{"a":{"b":1},"c":{"b":1},"d":[{"e":1},{"e":1}]}`: "",
		`{"a":"a","b":["a","a"],"c":{"a":"b","b":"a"}}`:   "",
	} {
		err := duplicateKeys([]byte(body))
		if field == "" {
			if err != nil {
				t.Errorf("%s: %v, want none", body, err)
			}
			continue
		}
		ae, ok := err.(*apiError)
		if !ok || ae.field != field || ae.status != http.StatusBadRequest {
			t.Errorf("%s: %v, want a 400 naming %q", body, err, field)
		}
	}
}

func TestBodyNotUTF8(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodPost, "/api/v1/requests", "alice", "{\"role\":\"reader\",\"justification\":\"caf\xe9\"}")
	wantStatus(t, r, http.StatusBadRequest)
	wantContains(t, "detail", r.problem(t).Detail, "not UTF-8", "byte 37 (0xE9)")
}

func TestApprovalFormRefusesControlText(t *testing.T) {
	e := newPageEnv(t, nil)
	e.decideScript()
	id := e.create("alice", readerBody)
	link := e.link(id, bobID, 1, time.Hour)
	r := e.page(nil, http.MethodPost, link, approveForm("fine \u202eenod"))
	wantPage(t, r, http.StatusBadRequest, "Nothing was decided", `field &#34;comment&#34; holds U&#43;202E`)
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("a refused comment sent %d updates", n)
	}
	// A browser's CRLF line breaks are plain ones by the time they are kept.
	wantPage(t, e.page(nil, http.MethodPost, link, approveForm("fine\r\nfor today")), http.StatusOK, "Thank you")
	if c := e.temporal.lastUpdate().Args[0].(workflows.DecideInput).Comment; c != "fine\nfor today" {
		t.Errorf("comment = %q", c)
	}
}

// TestOldTextShownEscaped: text from before the rule, already in a
// request's history, shows its control and bidi characters as escapes on
// the approval page and the audit page.
func TestOldTextShownEscaped(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	e.temporal.mu.Lock()
	e.temporal.wfs[id].view.Justification = "reader, 5m\u202e h2 rof nimdA ytiruceS"
	e.temporal.mu.Unlock()
	r := e.page(nil, http.MethodGet, e.link(id, bobID, 1, time.Hour), nil)
	wantPage(t, r, http.StatusOK, `reader, 5m\u202e h2 rof`)
	if strings.Contains(string(r.body), "\u202e") {
		t.Error("the approval page shows a bidi override as is")
	}

	e.temporal.history = []*historypb.HistoryEvent{
		auditMarker(t, 2, workflows.AuditEvent{Time: time.Now(), Type: api.EventRequested, Actor: "alice@example.com", ActorID: aliceID, Detail: "reader for 5m: x\u2066y\x1b[0m"}),
	}
	r = e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "bob", "", "Accept: text/html")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, "audit page", string(r.body), `x\u2066y\x1b[0m`)
}

func TestAnswerHeaders(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.history = []*historypb.HistoryEvent{
		auditMarker(t, 2, workflows.AuditEvent{Time: time.Now(), Type: api.EventRequested, Actor: "alice@example.com", ActorID: aliceID}),
	}
	for _, tt := range []struct {
		name string
		r    response
	}{
		{"request", e.call(http.MethodGet, "/api/v1/requests/"+id, "alice", "")},
		{"list", e.call(http.MethodGet, "/api/v1/requests", "alice", "")},
		{"create", e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody)},
		{"audit JSON", e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "alice", "")},
		{"audit page", e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "alice", "", "Accept: text/html")},
		{"400", e.call(http.MethodPost, "/api/v1/requests", "alice", "{")},
		{"401", e.call(http.MethodGet, "/api/v1/requests", "", "")},
		{"404", e.call(http.MethodGet, "/api/v1/requests/req-00000000", "alice", "")},
		{"router 404", e.call(http.MethodGet, "/nope", "", "")},
	} {
		for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
			if got := tt.r.header.Get(h); got != want {
				t.Errorf("%s (%d): %s = %q, want %q", tt.name, tt.r.status, h, got, want)
			}
		}
	}
	page := e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "alice", "", "Accept: text/html")
	wantContains(t, "audit page CSP", page.header.Get("Content-Security-Policy"), "frame-ancestors 'none'", "default-src 'none'")
	if got := page.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("audit page X-Frame-Options = %q", got)
	}
}

func TestUnauthenticatedCallsLimitedPerAddress(t *testing.T) {
	e := newEnvWith(t, policies.Dev(), func(c *Config) { c.AddressRateLimit = RateLimit{PerSecond: 0.5, Burst: 2} })
	now := time.Now()
	e.server.now = func() time.Time { return now }
	for i := range 2 {
		// A client cannot spread its calls over made-up addresses.
		r := e.call(http.MethodGet, "/api/v1/requests", "", "", "X-Forwarded-For: 203.0.113."+string(rune('1'+i)))
		wantStatus(t, r, http.StatusUnauthorized)
	}
	r := e.callToken(http.MethodGet, "/api/v1/requests", "not-a-token", "", "X-Forwarded-For: 203.0.113.9")
	wantStatus(t, r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	wantContains(t, "detail", r.problem(t).Detail, "per client address", "retry in 2 s")
	// Signed-in callers from the same address are counted by who they
	// are, and health checks not at all.
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests", "alice", ""), http.StatusOK)
	wantStatus(t, e.call(http.MethodGet, "/healthz", "", ""), http.StatusOK)
	now = now.Add(2 * time.Second)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests", "", ""), http.StatusUnauthorized)
}

func TestTrustedProxyNamesTheClient(t *testing.T) {
	e := newEnvWith(t, policies.Dev(), func(c *Config) {
		c.AddressRateLimit = RateLimit{PerSecond: 0.5, Burst: 1}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	now := time.Now()
	e.server.now = func() time.Time { return now }
	// Behind the proxy, each client has its own bucket...
	for _, client := range []string{"203.0.113.1", "203.0.113.2", "2001:db8::1"} {
		wantStatus(t, e.call(http.MethodGet, "/api/v1/requests", "", "", "X-Forwarded-For: "+client), http.StatusUnauthorized)
	}
	// ...and an address the client writes in front of its own is not
	// believed: the proxy appended the real one.
	r := e.call(http.MethodGet, "/api/v1/requests", "", "", "X-Forwarded-For: 198.51.100.7, 203.0.113.1")
	wantStatus(t, r, http.StatusTooManyRequests)
	// IPv6 clients are counted by their /64.
	r = e.call(http.MethodGet, "/api/v1/requests", "", "", "X-Forwarded-For: 2001:db8::2")
	wantStatus(t, r, http.StatusTooManyRequests)
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.7,2001:db8::/32 ,::ffff:10.1.2.3, 10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32", "10.1.2.3/32", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,proxy.internal"); err == nil || !strings.Contains(err.Error(), `"proxy.internal"`) {
		t.Errorf("err = %v", err)
	}
}

func TestApprovalPagesLimitedPerAddress(t *testing.T) {
	e := newPageEnv(t, nil)
	now := time.Now()
	e.server.now = func() time.Time { return now }
	e.server.addrLimits = newLimiters(RateLimit{PerSecond: 0.5, Burst: 2}, "client address", func() time.Time { return now })
	id := e.create("alice", readerBody)
	link := e.link(id, bobID, 1, time.Hour)
	wantPage(t, e.page(nil, http.MethodGet, link, nil), http.StatusOK)
	wantPage(t, e.page(nil, http.MethodHead, link, nil), http.StatusOK)
	before, _ := e.temporal.callCount()
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		var form url.Values
		if method == http.MethodPost {
			form = approveForm("")
		}
		r := e.page(nil, method, link, form, "X-Forwarded-For: 198.51.100.1")
		wantStatus(t, r, http.StatusTooManyRequests)
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Errorf("%s: Retry-After = %q, want 2", method, got)
		}
	}
	wantPage(t, e.page(nil, http.MethodGet, link+"x", nil), http.StatusTooManyRequests, "Too many requests", "per client address")
	if after, calls := e.temporal.callCount(); after != before {
		t.Errorf("refused page loads called Temporal: %v", calls)
	}
	now = now.Add(2 * time.Second)
	wantPage(t, e.page(nil, http.MethodGet, link, nil), http.StatusOK)
}

// TestApprovalPageCostsOneTemporalCall: a page load, whatever it shows, is
// at most one call to Temporal.
func TestApprovalPageCostsOneTemporalCall(t *testing.T) {
	e := newPageEnv(t, nil)
	id := e.create("alice", readerBody)
	done := e.create("alice", readerBody, "Idempotency-Key: second")
	e.temporal.close(done, api.StatusExpired)
	for name, path := range map[string]string{
		"form":            e.link(id, bobID, 1, time.Hour),
		"decided request": e.link(done, bobID, 1, time.Hour),
		"unknown request": e.link("req-00000000", bobID, 1, time.Hour),
		"forged link":     e.link(id, bobID, 1, time.Hour) + "x",
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			before, _ := e.temporal.callCount()
			r := e.page(nil, method, path, nil)
			after, calls := e.temporal.callCount()
			if after-before > 1 {
				t.Errorf("%s %s (%d) made %d Temporal calls: %v", method, name, r.status, after-before, calls)
			}
		}
	}
}

func TestExtendNeedsTheRoleStepUp(t *testing.T) {
	e := newEnvWith(t, extraPolicy(t), nil)
	mfa := devauth.TokenOptions{MFA: true}
	r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", mfa), `{"role":"secreader","duration":"1h","justification":"audit"}`)
	wantStatus(t, r, http.StatusCreated)
	id := r.request(t).ID
	body := `{"duration":"30m","justification":"still auditing"}`
	r = e.call(http.MethodPost, "/api/v1/requests/"+id+"/extend", "alice", body)
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, "detail", r.problem(t).Detail, `extending role "secreader" needs multi-factor authentication`)
	challenge(t, r)
	if len(e.temporal.updates) != 0 {
		t.Fatal("an extension without MFA reached the workflow")
	}
	wantStatus(t, e.callToken(http.MethodPost, "/api/v1/requests/"+id+"/extend", e.tokenWith("alice", mfa), body), http.StatusOK)

	r = e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith("alice", devauth.TokenOptions{ACRS: []string{"c1"}}), `{"role":"ctxreader","duration":"1h"}`)
	wantStatus(t, r, http.StatusCreated)
	id = r.request(t).ID
	r = e.callToken(http.MethodPost, "/api/v1/requests/"+id+"/extend", e.tokenWith("alice", mfa), body)
	wantStatus(t, r, http.StatusUnauthorized)
	wantContains(t, "detail", r.problem(t).Detail, "needs authentication context c1")
}

func TestFractionalDurationsRefused(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"10.5s", "PT10.5S", "1h0.25s"} {
		r := e.call(http.MethodPost, "/api/v1/requests", "alice", `{"role":"reader","duration":"`+d+`","justification":"x"}`)
		wantStatus(t, r, http.StatusBadRequest)
		p := r.problem(t)
		if p.Field != "duration" {
			t.Errorf("%s: field = %q", d, p.Field)
		}
		wantContains(t, "detail", p.Detail, `field "duration"`, "not a whole number of seconds", "only whole seconds are accepted")
	}
	// A fraction of a larger unit that comes to whole seconds is exact.
	id := e.create("alice", `{"role":"reader","duration":"90.5m","justification":"x"}`)
	if w, _ := e.temporal.get(id); w.input.Duration != 90*time.Minute+30*time.Second {
		t.Errorf("90.5m became %v", w.input.Duration)
	}
	r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/extend", "alice", `{"duration":"PT0.5S","justification":"x"}`)
	wantStatus(t, r, http.StatusBadRequest)
	wantContains(t, "detail", r.problem(t).Detail, `field "duration"`, "whole seconds")
}
