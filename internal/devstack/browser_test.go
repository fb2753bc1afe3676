package devstack

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// chromiumPath finds Debian's Chromium. Outside CI a machine without it
// skips the browser tests; in CI (CI set, as .ci/run does) its absence is
// a failure, so the browser flows cannot silently stop being checked.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("JITFLOW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but Chromium is missing: .ci/run installs Debian's chromium package (or set JITFLOW_CHROMIUM)")
	}
	t.Skip("skipping the headless browser tests: Chromium is not installed (apt-get install chromium, or set JITFLOW_CHROMIUM); CI runs them")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and nothing
// that talks to the network on its own.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first action starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// tab opens a new tab of the browser, bounded in time.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// browserPolicy is the dev policy with four kinds of request: reader
// waits long for bob (browser flows), admin escalates after 2s (the next
// tier's link), "audited-reader" asks approvers to sign in, and
// "mfa-reader" asks requesters and approvers for multi-factor sign-in.
func browserPolicy(t *testing.T) *policies.Policy {
	t.Helper()
	pol := policies.Dev()
	reader, _ := pol.Role("reader")
	reader.Stages[0].Tiers[0].Timeout = 5 * time.Minute
	admin, _ := pol.Role("admin")
	admin.Stages[0].Tiers[0].Timeout = 2 * time.Second
	audited := *reader
	audited.Name, audited.ApproverSignIn = "audited-reader", true
	mfa := *reader
	mfa.Name, mfa.StepUp = "mfa-reader", policies.StepUp{MFA: true}
	pol.Roles = append(pol.Roles, audited, mfa)
	return pol
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/approvals/[A-Za-z0-9_.-]+`)

// linkFor waits for the email that asks to about request id and returns
// its approval link.
func linkFor(t *testing.T, st *Stack, to, id string) string {
	t.Helper()
	var link string
	waitFor(t, 20*time.Second, "an approval email with a link to "+to, func() bool {
		for _, e := range st.Outbox.Emails() {
			if slices.Contains(e.To, to) && strings.Contains(e.Text, id) {
				if m := linkPattern.FindString(e.Text); m != "" {
					link = m
					return true
				}
			}
		}
		return false
	})
	if !strings.HasPrefix(link, st.APIURL+approvals.PathPrefix) {
		t.Fatalf("link %q does not point at the approval pages of %s", link, st.APIURL)
	}
	return link
}

// plain fetches a link without a browser, as a scanner or curl would.
func plain(t *testing.T, method, link string, form url.Values) (int, string) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, link, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// privateTab opens a tab in a browser context of its own, as a private
// window: no cookies from other tabs, so no earlier sign-in.
func privateTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// TestApprovalLinksInBrowser drives headless Chromium through the approval
// pages of the whole dev system: scanners decide nothing, a click on
// Approve does, and a replayed, altered or expired link says why it
// cannot decide. It also follows the escalation email's link and the
// sign-in a role can ask for.
func TestApprovalLinksInBrowser(t *testing.T) {
	browser := newBrowser(t)
	dir := t.TempDir()
	pol := browserPolicy(t)
	st := startStack(t, dir, pol)
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	get := func(id string) workflows.Request {
		var req workflows.Request
		// dave is an operator: he sees everyone's requests.
		if status := api.do("GET", "/api/v1/requests/"+id, api.token("dave"), "", &req); status != http.StatusOK {
			t.Fatalf("read %s: status %d", id, status)
		}
		return req
	}
	create := func(user, body string) string {
		var req workflows.Request
		if status := api.do("POST", "/api/v1/requests", api.token(user), body, &req); status != http.StatusCreated {
			t.Fatalf("create: status %d", status)
		}
		return req.ID
	}

	id := create("alice", `{"role":"reader","duration":"1h","justification":"browser check of the approval page","ticket":"CHG-1"}`)
	link := linkFor(t, st, "bob@example.com", id)

	t.Run("scanners decide nothing", func(t *testing.T) {
		for _, method := range []string{http.MethodHead, http.MethodGet} {
			if status, _ := plain(t, method, link, nil); status != http.StatusOK {
				t.Errorf("%s: status %d, want 200", method, status)
			}
		}
		// A scanner that renders the page in a real browser, and waits,
		// without clicking.
		ctx := tab(t, browser)
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("browser load: %v, %+v", err, resp)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		req := get(id)
		if req.Status != apitypes.StatusPending || len(req.Decisions) != 0 {
			t.Fatalf("after HEAD, GET and a browser load: %s with %d decisions; want pending and none", req.Status, len(req.Decisions))
		}
	})

	t.Run("approve by click", func(t *testing.T) {
		ctx := tab(t, browser)
		if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		for sel, want := range map[string]string{
			"#request-id": id, "#requester": "alice@example.com", "#role": "reader", "#duration": "1h",
			"#justification": "browser check of the approval page", "#ticket": "CHG-1", "#stage": "1 of 1", "#approver": "bob@example.com",
		} {
			if got := text(t, ctx, sel); !strings.Contains(got, want) {
				t.Errorf("%s shows %q, want %q", sel, got, want)
			}
		}
		resp, err := chromedp.RunResponse(ctx,
			chromedp.SendKeys(chromedp.CSS("#comment"), "fine for the audit"),
			chromedp.Click(chromedp.CSS("#approve")))
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("click Approve: %v, %+v", err, resp)
		}
		if got := text(t, ctx, "#message"); !strings.Contains(got, "You approved request "+id) {
			t.Errorf("confirmation says %q", got)
		}
		waitFor(t, 20*time.Second, "active", func() bool { return get(id).Status == apitypes.StatusActive })
		req := get(id)
		if len(req.Decisions) != 1 || req.Decisions[0].Approver != "bob@example.com" || req.Decisions[0].Comment != "fine for the audit" {
			t.Errorf("decisions = %+v", req.Decisions)
		}
	})

	t.Run("replayed link", func(t *testing.T) {
		ctx := tab(t, browser)
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
		if err != nil || resp.Status != http.StatusConflict {
			t.Fatalf("open the used link: %v, %+v; want 409", err, resp)
		}
		if got := text(t, ctx, "#message"); !strings.Contains(got, "already approved") {
			t.Errorf("the used link's page says %q", got)
		}
		status, body := plain(t, http.MethodPost, link, url.Values{"decision": {"deny"}})
		if status != http.StatusConflict || !strings.Contains(body, "cannot decide again") {
			t.Errorf("POST with the used link: %d %s", status, body)
		}
		if req := get(id); len(req.Decisions) != 1 || req.Status != apitypes.StatusActive {
			t.Errorf("the replay changed the request: %s %+v", req.Status, req.Decisions)
		}
	})

	t.Run("altered and expired links", func(t *testing.T) {
		other := create("erin", `{"role":"reader","duration":"1h","justification":"altered link check"}`)
		good := linkFor(t, st, "bob@example.com", other)
		keys, err := approvals.LoadKeys(filepath.Join(dir, "approval-keys"))
		if err != nil {
			t.Fatal(err)
		}
		bob, _ := pol.UserByName("bob")
		expiredTok, _, err := keys.Mint(approvals.Claims{RequestID: other, Stage: 1, ApproverID: bob.ID, Expires: time.Now().Add(-time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		// One character of the signed part changed: the signature no longer holds.
		kid, rest, _ := strings.Cut(strings.TrimPrefix(good, st.APIURL+approvals.PathPrefix), ".")
		swap := map[byte]byte{'A': 'B'}[rest[5]]
		if swap == 0 {
			swap = 'A'
		}
		altered := st.APIURL + approvals.PathPrefix + kid + "." + rest[:5] + string(swap) + rest[6:]
		cases := []struct {
			name, link string
			status     int
			says       string
		}{
			{"altered", altered, http.StatusBadRequest, "altered"},
			{"expired", st.APIURL + approvals.PathPrefix + expiredTok, http.StatusGone, "expired"},
		}
		for _, c := range cases {
			ctx := tab(t, browser)
			resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(c.link))
			if err != nil || resp.Status != int64(c.status) {
				t.Fatalf("%s: browser load %v, %+v; want %d", c.name, err, resp, c.status)
			}
			if got := text(t, ctx, "#message"); !strings.Contains(got, c.says) {
				t.Errorf("%s: page says %q, want %q", c.name, got, c.says)
			}
			if status, _ := plain(t, http.MethodPost, c.link, url.Values{"decision": {"approve"}}); status != c.status {
				t.Errorf("%s: POST status %d, want %d", c.name, status, c.status)
			}
		}
		if req := get(other); req.Status != apitypes.StatusPending || len(req.Decisions) != 0 {
			t.Errorf("altered and expired links changed the request: %s %+v", req.Status, req.Decisions)
		}
	})

	t.Run("escalation email link", func(t *testing.T) {
		esc := create("alice", `{"role":"admin","duration":"1h","justification":"escalation link check","ticket":"CHG-2"}`)
		carolLink := linkFor(t, st, "carol@example.com", esc)
		ctx := tab(t, browser)
		if err := chromedp.Do(ctx, chromedp.Navigate(carolLink), chromedp.WaitVisible(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#message"); !strings.Contains(got, "You approved request "+esc) {
			t.Errorf("confirmation says %q", got)
		}
		req := get(esc)
		if req.Stage != 2 || len(req.Decisions) != 1 || req.Decisions[0].Approver != "carol@example.com" {
			t.Errorf("after carol's click: stage %d, decisions %+v; want stage 2 after carol's approval", req.Stage, req.Decisions)
		}
	})

	t.Run("sign-in", func(t *testing.T) {
		signed := create("erin", `{"role":"audited-reader","duration":"1h","justification":"sign-in check"}`)
		link := linkFor(t, st, "bob@example.com", signed)
		if status, _ := plain(t, http.MethodPost, link, url.Values{"decision": {"approve"}}); status != http.StatusForbidden {
			t.Errorf("POST without sign-in: status %d, want 403", status)
		}
		ctx := tab(t, browser)
		if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#signin"))); err != nil {
			t.Fatal(err)
		}
		if n, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#approve"), chromedp.AtLeast(0))); err != nil || len(n) != 0 {
			t.Fatalf("the form is offered before sign-in (%v)", err)
		}
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#signin")),
			chromedp.WaitVisible(chromedp.CSS("#user-bob")),
			chromedp.Click(chromedp.CSS("#user-bob")),
			chromedp.WaitVisible(chromedp.CSS("#approve")))
		if err != nil {
			t.Fatalf("sign in as bob: %v", err)
		}
		if got := text(t, ctx, "#signed-in"); !strings.Contains(got, "bob@example.com") {
			t.Errorf("page says %q, want signed in as bob", got)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "active", func() bool { return get(signed).Status == apitypes.StatusActive })
	})
	t.Run("step-up sign-in", func(t *testing.T) {
		ctx := privateTab(t, browser)
		// A sign-in for a role that asks only for sign-in: no MFA.
		plainLink := linkFor(t, st, "bob@example.com", create("alice", `{"role":"audited-reader","duration":"1h","justification":"plain sign-in first"}`))
		err := chromedp.Do(ctx,
			chromedp.Navigate(plainLink),
			chromedp.Click(chromedp.CSS("#signin")),
			chromedp.Click(chromedp.CSS("#user-bob")),
			chromedp.WaitVisible(chromedp.CSS("#approve")))
		if err != nil {
			t.Fatalf("sign in as bob without step-up: %v", err)
		}

		var req workflows.Request
		mfaToken := api.tokenWith("erin", "mfa=true")
		if status := api.do("POST", "/api/v1/requests", mfaToken, `{"role":"mfa-reader","duration":"1h","justification":"step-up check"}`, &req); status != http.StatusCreated {
			t.Fatalf("create mfa-reader: status %d", status)
		}
		link := linkFor(t, st, "bob@example.com", req.ID)
		if status, body := plain(t, http.MethodPost, link, url.Values{"decision": {"approve"}}); status != http.StatusForbidden ||
			!strings.Contains(body, "sign in with multi-factor authentication") {
			t.Errorf("POST without sign-in: %d %s; want 403 asking for a multi-factor sign-in", status, body)
		}
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
		if err != nil || resp.Status != http.StatusForbidden {
			t.Fatalf("open the mfa-reader link signed in without MFA: %v, %+v; want 403", err, resp)
		}
		if got := text(t, ctx, "#title"); got != "Stronger sign-in needed" {
			t.Errorf("title %q", got)
		}
		if got := text(t, ctx, "#message"); !strings.Contains(got, "lacks multi-factor authentication") {
			t.Errorf("message %q", got)
		}
		if n, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#approve"), chromedp.AtLeast(0))); err != nil || len(n) != 0 {
			t.Fatalf("the form is offered to a sign-in without MFA (%v)", err)
		}
		if got := text(t, ctx, "#signin"); got != "Sign in again with multi-factor authentication" {
			t.Errorf("sign-in button says %q", got)
		}

		// The button asks the issuer for MFA; the dev user completes it.
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#signin")),
			chromedp.WaitVisible(chromedp.CSS("#user-bob")))
		if err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#stepup"); !strings.Contains(got, "multi-factor authentication") {
			t.Errorf("the issuer's page says %q, want the MFA step-up", got)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#user-bob")), chromedp.WaitVisible(chromedp.CSS("#approve"))); err != nil {
			t.Fatalf("sign in again as bob with MFA: %v", err)
		}
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#approve"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#message"); !strings.Contains(got, "You approved request "+req.ID) {
			t.Errorf("confirmation says %q", got)
		}
		waitFor(t, 20*time.Second, "active", func() bool { return get(req.ID).Status == apitypes.StatusActive })
		if d := get(req.ID).Decisions; len(d) != 1 || d[0].Approver != "bob@example.com" {
			t.Errorf("decisions = %+v", d)
		}
	})
}
