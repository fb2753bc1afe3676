package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/policies"
)

func signInRoles(p *policies.Policy) {
	for i := range p.Roles {
		p.Roles[i].ApproverSignIn = true
	}
}

// signIn walks the code flow from the approval page as user, in hc, and
// returns where the server sends the browser at the end.
func (e *pageEnv) signIn(hc *http.Client, link, user string) response {
	e.t.Helper()
	start := e.page(hc, http.MethodGet, link+"/signin", nil)
	wantStatus(e.t, start, http.StatusFound)
	authURL, err := url.Parse(start.header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	q := authURL.Query()
	for _, k := range []string{"code_challenge", "state", "nonce"} {
		if q.Get(k) == "" {
			e.t.Fatalf("authorize URL %s lacks %s", authURL, k)
		}
	}
	if q.Get("code_challenge_method") != "S256" {
		e.t.Errorf("code_challenge_method = %q, want S256", q.Get("code_challenge_method"))
	}
	picker := e.page(hc, http.MethodGet, authURL.String(), nil)
	wantStatus(e.t, picker, http.StatusOK)
	q.Set("user", user)
	authURL.RawQuery = ""
	back := e.page(hc, http.MethodPost, authURL.String(), q)
	wantStatus(e.t, back, http.StatusFound)
	return e.page(hc, http.MethodGet, back.header.Get("Location"), nil)
}

func TestSignInRequiredBeforeDeciding(t *testing.T) {
	e := newPageEnv(t, signInRoles)
	e.decideScript()
	id := e.create("alice", readerBody)
	link := e.link(id, bobID, 1, time.Hour)

	anon := e.page(nil, http.MethodGet, link, nil)
	wantPage(t, anon, http.StatusOK, "sign in as bob@example.com", `href="`+link+`/signin"`, "investigate incident 42")
	if strings.Contains(string(anon.body), `<form method="post"`) {
		t.Error("the page offers the decision form before sign-in")
	}
	wantPage(t, e.page(nil, http.MethodPost, link, approveForm("")), http.StatusForbidden, "sign in as bob@example.com")

	carol := browser(t)
	end := e.signIn(carol, link, "carol")
	wantStatus(t, end, http.StatusSeeOther)
	if got := end.header.Get("Location"); got != link {
		t.Fatalf("after sign-in the browser goes to %q, want %q", got, link)
	}
	wantPage(t, e.page(carol, http.MethodGet, link, nil), http.StatusForbidden, "you are signed in as carol@example.com")
	wantPage(t, e.page(carol, http.MethodPost, link, approveForm("")), http.StatusForbidden, "signed in as carol@example.com")
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("%d updates were sent before the right person signed in", n)
	}

	bob := browser(t)
	e.signIn(bob, link, "bob")
	wantPage(t, e.page(bob, http.MethodGet, link, nil), http.StatusOK, "Signed in as bob@example.com", `value="approve"`)
	wantPage(t, e.page(bob, http.MethodPost, link, approveForm("")), http.StatusOK, "You approved request "+id)
}

func TestSignInCallbackRefusals(t *testing.T) {
	e := newPageEnv(t, signInRoles)
	id := e.create("alice", readerBody)
	link := e.link(id, bobID, 1, time.Hour)

	wantPage(t, e.page(nil, http.MethodGet, SignInCallbackPath+"?code=x&state=y", nil), http.StatusBadRequest, "took too long")

	hc := browser(t)
	start := e.page(hc, http.MethodGet, link+"/signin", nil)
	authURL, _ := url.Parse(start.header.Get("Location"))
	q := authURL.Query()
	wrongState := e.page(hc, http.MethodGet, SignInCallbackPath+"?code=x&state=not-"+q.Get("state"), nil)
	wantPage(t, wrongState, http.StatusBadRequest, "does not belong to this sign-in")

	hc = browser(t)
	start = e.page(hc, http.MethodGet, link+"/signin", nil)
	authURL, _ = url.Parse(start.header.Get("Location"))
	q = authURL.Query()
	badCode := e.page(hc, http.MethodGet, SignInCallbackPath+"?code=made-up&state="+url.QueryEscape(q.Get("state")), nil)
	wantPage(t, badCode, http.StatusForbidden, "could not be confirmed")

	hc = browser(t)
	start = e.page(hc, http.MethodGet, link+"/signin", nil)
	authURL, _ = url.Parse(start.header.Get("Location"))
	q = authURL.Query()
	denied := e.page(hc, http.MethodGet, SignInCallbackPath+"?error=access_denied&error_description=no&state="+url.QueryEscape(q.Get("state")), nil)
	wantPage(t, denied, http.StatusForbidden, "access_denied")
}

func TestNewRefusesSignInItCannotDo(t *testing.T) {
	keys, err := approvals.NewKeySet(approvals.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := NewTokenVerifier(VerifierConfig{Issuer: "https://issuer", Audience: testAudience, JWKSURL: "https://issuer/keys"})
	if err != nil {
		t.Fatal(err)
	}
	signing := policies.Dev()
	signInRoles(signing)
	si := &SignInConfig{Issuer: "https://issuer", ClientID: testClientID}
	tests := []struct {
		name    string
		pol     *policies.Policy
		keys    *approvals.KeySet
		signIn  *SignInConfig
		wantErr string
	}{
		{"role asks, no sign-in", signing, keys, nil, "approver_sign_in"},
		{"sign-in without keys", policies.Dev(), nil, si, "needs ApprovalKeys"},
		{"sign-in without client id", policies.Dev(), keys, &SignInConfig{Issuer: "https://issuer"}, "ClientID"},
		{"no pages at all", signing, nil, nil, ""},
		{"role asks, sign-in set", signing, keys, si, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Temporal: newFakeTemporal(), Policy: tt.pol, Verifier: verifier, ApprovalKeys: tt.keys, SignIn: tt.signIn})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
