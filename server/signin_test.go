package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/internal/devauth"
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
	return e.signInWith(hc, link, user, nil)
}

// signInWith is signIn with the authorize parameters changed by edit on
// their way to the issuer, when edit is not nil.
func (e *pageEnv) signInWith(hc *http.Client, link, user string, edit func(url.Values)) response {
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
	if edit != nil {
		edit(q)
		authURL.RawQuery = q.Encode()
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

// A portal sign-in that fails sends the user back to the portal, not to
// an approval link they may not have.
func TestPortalSignInFailureSaysWhereToStartAgain(t *testing.T) {
	e := newPageEnv(t, signInRoles)
	hc := browser(t)
	start := e.page(hc, http.MethodGet, "/signin?return=%2Fapprove", nil)
	authURL, _ := url.Parse(start.header.Get("Location"))
	q := authURL.Query()
	wrongState := e.page(hc, http.MethodGet, SignInCallbackPath+"?code=x&state=not-"+q.Get("state"), nil)
	wantPage(t, wrongState, http.StatusBadRequest, "does not belong to this sign-in", "Go back to the portal and sign in again.")
	if strings.Contains(string(wrongState.body), "approval link") {
		t.Errorf("the portal's failed sign-in speaks of an approval link: %s", wrongState.body)
	}
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
	mfa := policies.Dev()
	stepUpRoles(policies.StepUp{MFA: true})(mfa)
	si := &SignInConfig{Issuer: "https://issuer", ClientID: testClientID}
	tests := []struct {
		name    string
		pol     *policies.Policy
		keys    *approvals.KeySet
		signIn  *SignInConfig
		wantErr string
	}{
		{"role asks, no sign-in", signing, keys, nil, "approver_sign_in"},
		{"role has a step-up, no sign-in", mfa, keys, nil, "requires multi-factor authentication of its approvers"},
		{"role has a step-up, sign-in set", mfa, keys, si, ""},
		{"sign-in without keys", policies.Dev(), nil, si, "needs ApprovalKeys"},
		{"sign-in without client id", policies.Dev(), keys, &SignInConfig{Issuer: "https://issuer"}, "ClientID"},
		{"no pages at all", signing, nil, nil, ""},
		{"role asks, sign-in set", signing, keys, si, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Temporal: newFakeTemporal(), Policy: tt.pol, Verifier: verifier, Proofs: testProofs, ApprovalKeys: tt.keys, SignIn: tt.signIn})
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

const adminBody = `{"role":"admin","duration":"30m","justification":"rotate the signing keys","ticket":"CHG-7"}`

// stepUpRoles gives every role the step-up up, and no approver_sign_in.
func stepUpRoles(up policies.StepUp) func(*policies.Policy) {
	return func(p *policies.Policy) {
		for i := range p.Roles {
			p.Roles[i].ApproverSignIn, p.Roles[i].StepUp = false, up
		}
	}
}

// createWith files a request as user, whose token shows the step-up opts.
func (e *pageEnv) createWith(user string, opts devauth.TokenOptions, body string) string {
	e.t.Helper()
	r := e.callToken(http.MethodPost, "/api/v1/requests", e.tokenWith(user, opts), body)
	wantStatus(e.t, r, http.StatusCreated)
	return r.request(e.t).ID
}

func TestStepUpLinkDecidesOnlyAfterStepUpSignIn(t *testing.T) {
	tests := []struct {
		name       string
		up         policies.StepUp
		token      devauth.TokenOptions
		wantClaims string
		words      string
		lacks      string
	}{
		{"mfa", policies.StepUp{MFA: true}, devauth.TokenOptions{MFA: true},
			`{"id_token":{"amr":{"essential":true,"values":["mfa"]}}}`, "multi-factor authentication",
			"multi-factor authentication (the token&#39;s amr claim lists pwd)"},
		{"auth context", policies.StepUp{AuthContext: "c1"}, devauth.TokenOptions{ACRS: []string{"c1"}},
			`{"id_token":{"acrs":{"essential":true,"value":"c1"}}}`, "authentication context c1",
			"authentication context c1 (the token&#39;s acrs claim lists nothing)"},
		{"both", policies.StepUp{MFA: true, AuthContext: "c2"}, devauth.TokenOptions{MFA: true, ACRS: []string{"c2"}},
			`{"id_token":{"acrs":{"essential":true,"value":"c2"},"amr":{"essential":true,"values":["mfa"]}}}`,
			"multi-factor authentication and authentication context c2",
			"authentication context c2 (the token&#39;s acrs claim lists nothing) and multi-factor authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPageEnv(t, stepUpRoles(tt.up))
			e.decideScript()
			id := e.createWith("alice", tt.token, readerBody)
			link := e.link(id, bobID, 1, time.Hour)

			anon := e.page(nil, http.MethodGet, link, nil)
			wantPage(t, anon, http.StatusOK, "sign in with "+tt.words+": sign in as bob@example.com", `href="`+link+`/signin"`)
			if strings.Contains(string(anon.body), `<form method="post"`) {
				t.Error("the page offers the decision form before sign-in")
			}
			wantPage(t, e.page(nil, http.MethodPost, link, approveForm("")), http.StatusForbidden, "sign in as bob@example.com")

			start := e.page(browser(t), http.MethodGet, link+"/signin", nil)
			wantStatus(t, start, http.StatusFound)
			authURL, err := url.Parse(start.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if got := authURL.Query().Get("claims"); got != tt.wantClaims {
				t.Errorf("authorize URL claims = %s, want %s", got, tt.wantClaims)
			}

			// The issuer does not get the claims request: the sign-in
			// lacks the step-up, and the gate says so.
			weak := browser(t)
			e.signInWith(weak, link, "bob", func(q url.Values) { q.Del("claims") })
			refused := e.page(weak, http.MethodGet, link, nil)
			wantPage(t, refused, http.StatusForbidden, "Stronger sign-in needed", "lacks "+tt.lacks,
				`href="`+link+`/signin"`, "Sign in again with "+tt.words)
			if strings.Contains(string(refused.body), `<form method="post"`) {
				t.Error("the page offers the decision form to a sign-in without the step-up")
			}
			wantPage(t, e.page(weak, http.MethodPost, link, approveForm("")), http.StatusForbidden, "Stronger sign-in needed")
			if n := len(e.temporal.updates); n != 0 {
				t.Fatalf("%d updates were sent without the step-up", n)
			}

			// Signing in again with the claims request brings the step-up.
			e.signIn(weak, link, "bob")
			wantPage(t, e.page(weak, http.MethodGet, link, nil), http.StatusOK, "Signed in as bob@example.com", `value="approve"`)
			wantPage(t, e.page(weak, http.MethodPost, link, approveForm("")), http.StatusOK, "You approved request "+id)
		})
	}
}

// A session is as strong as the sign-in that made it: one made for a role
// that asks only for sign-in, or for another authentication context, does
// not pass for a role that needs more.
func TestSignInSessionDoesNotSatisfyStricterRole(t *testing.T) {
	tests := []struct {
		name   string
		first  policies.StepUp // the role bob signs in for first
		second policies.StepUp // the stricter role
		lacks  string
	}{
		{"sign-in only, then mfa", policies.StepUp{}, policies.StepUp{MFA: true}, "lacks multi-factor authentication"},
		{"c1, then c2", policies.StepUp{AuthContext: "c1"}, policies.StepUp{AuthContext: "c2"}, "lacks authentication context c2"},
		{"mfa, then mfa and c1", policies.StepUp{MFA: true}, policies.StepUp{MFA: true, AuthContext: "c1"}, "lacks authentication context c1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPageEnv(t, func(p *policies.Policy) {
				reader, _ := p.Role("reader")
				reader.ApproverSignIn, reader.StepUp = true, tt.first
				admin, _ := p.Role("admin")
				admin.StepUp = tt.second
			})
			e.decideScript()
			all := devauth.TokenOptions{MFA: true, ACRS: []string{"c1", "c2"}}
			readerLink := e.link(e.createWith("alice", all, readerBody), bobID, 1, time.Hour)
			adminLink := e.link(e.createWith("alice", all, adminBody), bobID, 1, time.Hour)

			bob := browser(t)
			e.signIn(bob, readerLink, "bob")
			wantPage(t, e.page(bob, http.MethodGet, readerLink, nil), http.StatusOK, "Signed in as bob@example.com", `value="approve"`)
			wantPage(t, e.page(bob, http.MethodGet, adminLink, nil), http.StatusForbidden, "Stronger sign-in needed", tt.lacks)
			wantPage(t, e.page(bob, http.MethodPost, adminLink, approveForm("")), http.StatusForbidden, "Stronger sign-in needed")
			if n := len(e.temporal.updates); n != 0 {
				t.Fatalf("%d updates were sent with a session too weak for the role", n)
			}
		})
	}
}
