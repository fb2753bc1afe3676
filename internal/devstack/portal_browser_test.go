package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	apitypes "github.com/jitflow/jitflow/api"
)

// signedIn opens the portal in a browser of its own (its own cookies) and
// signs in as user through the dev issuer's page, as a person would.
func signedIn(t *testing.T, st *Stack, user, path string) context.Context {
	t.Helper()
	ctx := tab(t, newBrowser(t))
	err := chromedp.Do(ctx,
		chromedp.Navigate(st.APIURL+path),
		chromedp.WaitVisible(chromedp.CSS("#user-"+user)),
		chromedp.Click(chromedp.CSS("#user-"+user)),
		chromedp.WaitVisible(chromedp.CSS("#signed-in-as")))
	if err != nil {
		t.Fatalf("sign in to the portal as %s: %v", user, err)
	}
	if got := text(t, ctx, "#signed-in-as"); !strings.Contains(got, user+"@example.com") {
		t.Fatalf("signed in as %q, want %s", got, user)
	}
	return ctx
}

// steps runs actions one by one, each bounded in time, and names the one
// that fails with the page it failed on.
func steps(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, a := range actions {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(sctx, a)
		cancel()
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("%s, step %d: %v (at %s)\n%s", what, i+1, err, loc, body)
		}
	}
}

// pageWeight is the size of the page's HTML as it crossed the network (the
// portal's pages carry their style and script inline and load nothing
// else), for the log.
func pageWeight(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByType('navigation')[0].encodedBodySize`))
	if err != nil {
		t.Fatalf("page weight of %s: %v", name, err)
	}
	resources, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByType('resource').length`))
	t.Logf("page weight: %s %d bytes, %d more resources", name, int(n), int(resources))
}

// attr reads an attribute of the first element sel finds.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		t.Fatalf("read %s of %s: %v", name, sel, err)
	}
	return v.Value
}

// screenshot keeps a PNG of the page (quality 100 makes it a PNG) for the README when
// JITFLOW_SCREENSHOTS names a folder (docs/images, from the repository's
// root: JITFLOW_SCREENSHOTS=../../docs/images).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("JITFLOW_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPortalInBrowser walks the portal in headless Chromium as its users
// would: alice asks for reader (a duration over the limit is refused beside
// the field, her input kept), bob approves it from "To approve", erin (no
// approver) sees nothing to approve, alice watches her request turn active
// without reloading and revokes it, and the Graph emulator shows the role
// assigned and then removed.
func TestPortalInBrowser(t *testing.T) {
	pol := browserPolicy(t)
	st := startStack(t, t.TempDir(), pol)
	defer st.Stop()
	aliceID := userID(t, pol, "alice")

	alice := signedIn(t, st, "alice", "/")
	steps(t, alice, "submit a duration over the limit",
		chromedp.Click(chromedp.CSS("#nav-request")),
		chromedp.WaitVisible(chromedp.CSS("#request-form")),
		chromedp.SetValue(chromedp.CSS("#role"), "reader"),
		chromedp.SendKeys(chromedp.CSS("#duration"), "9h"),
		chromedp.SendKeys(chromedp.CSS("#justification"), "portal walk-through"),
		chromedp.Click(chromedp.CSS("#submit-request")),
		chromedp.WaitVisible(chromedp.CSS("#duration-error")))
	if got := text(t, alice, "#duration-error"); !strings.Contains(got, "over the maximum") {
		t.Errorf("duration error says %q", got)
	}
	if got, _ := chromedp.Run(alice, chromedp.Value(chromedp.CSS("#justification"))); got != "portal walk-through" {
		t.Errorf("the justification was not kept: %q", got)
	}
	if attr(t, alice, "#duration", "aria-invalid") != "true" {
		t.Error("the duration field is not marked invalid for screen readers")
	}
	steps(t, alice, "submit the request",
		chromedp.Clear(chromedp.CSS("#duration")),
		chromedp.SendKeys(chromedp.CSS("#duration"), "1h"),
		chromedp.Click(chromedp.CSS("#submit-request")),
		chromedp.WaitVisible(chromedp.CSS("#request-id")))
	id := strings.TrimSpace(text(t, alice, "#request-id"))
	if !strings.HasPrefix(id, "req-") {
		t.Fatalf("request page shows id %q", id)
	}

	// erin approves nothing: her queue is empty.
	erin := signedIn(t, st, "erin", "/approve")
	steps(t, erin, "erin's To approve page", chromedp.WaitVisible(chromedp.CSS("#queue-empty")))

	bob := signedIn(t, st, "bob", "/approve")
	steps(t, bob, "bob opens To approve", chromedp.WaitVisible(chromedp.CSS("#queue-"+id)))
	for sel, want := range map[string]string{"#queue-requester-" + id: "alice@example.com", "#queue-role-" + id: "reader", "#queue-justification-" + id: "portal walk-through"} {
		if got := text(t, bob, sel); !strings.Contains(got, want) {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	screenshot(t, bob, "portal-to-approve.png")
	pageWeight(t, bob, "To approve (one request waiting)")

	// alice watches her requests while bob decides.
	steps(t, alice, "alice opens My requests", chromedp.Click(chromedp.CSS("#nav-mine")), chromedp.WaitVisible(chromedp.CSS("#status-"+id)))
	steps(t, bob, "bob approves",
		chromedp.SendKeys(chromedp.CSS("#comment-"+id), "approved in the portal"),
		chromedp.Click(chromedp.CSS("#approve-"+id)),
		chromedp.WaitVisible(chromedp.CSS("#message")))
	// The page follows the request by itself: no reload by alice.
	steps(t, alice, "alice's page shows the request active",
		chromedp.WaitVisible(chromedp.CSS(`#status-`+id+`[data-status="active"]`)),
		chromedp.WaitVisible(chromedp.CSS("#revoke-"+id)))
	if !holds(st, aliceID, globalReader) {
		t.Fatal("the emulator does not hold alice's reader assignment")
	}
	screenshot(t, alice, "portal-my-requests.png")
	pageWeight(t, alice, "My requests (one active)")
	steps(t, alice, "alice opens the request form", chromedp.Click(chromedp.CSS("#nav-request")), chromedp.WaitVisible(chromedp.CSS("#request-form")))
	pageWeight(t, alice, "Request (form)")
	steps(t, alice, "alice opens her request", chromedp.Navigate(st.APIURL+"/requests/"+id), chromedp.WaitVisible(chromedp.CSS("#timeline")))
	pageWeight(t, alice, "A request (with its audit timeline)")
	steps(t, alice, "alice goes back to My requests", chromedp.Click(chromedp.CSS("#nav-mine")), chromedp.WaitVisible(chromedp.CSS("#revoke-"+id)))

	steps(t, alice, "alice revokes",
		chromedp.SendKeys(chromedp.CSS("#reason-"+id), "done with it"),
		chromedp.Click(chromedp.CSS("#revoke-"+id)),
		chromedp.WaitVisible(chromedp.CSS("#message")))
	waitFor(t, 30*time.Second, "role removed", func() bool { return !holds(st, aliceID, globalReader) })
	api := apiClient{t: t, base: st.APIURL}
	var req apitypes.Request
	api.do("GET", "/api/v1/requests/"+id, api.token("alice"), "", &req)
	if req.Status != apitypes.StatusRevoked || len(req.Decisions) != 1 || req.Decisions[0].Comment != "approved in the portal" {
		t.Errorf("after the walk the request is %s with decisions %+v; want revoked, bob's approval with his comment", req.Status, req.Decisions)
	}
}
