package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/policies"
)

// Sign-in for roles with approver_sign_in or a step-up: the OIDC
// authorization code flow with PKCE. The signed-in person's object id must
// be the link's approver, and the sign-in as strong as the role's step-up,
// before the form decides.
const (
	// SignInCallbackPath is where the issuer sends approvers back: register
	// BASE_URL + SignInCallbackPath as the app's redirect URI.
	SignInCallbackPath = "/signin/callback"
	signInCookie       = "jitflow_signin"   // the flow in progress
	sessionCookie      = "jitflow_approver" // who signed in
	// SessionLifetime is how long a sign-in lets an approver decide: long
	// enough to read a request, short enough that a shared computer does
	// not keep the right to approve.
	SessionLifetime   = 15 * time.Minute
	signInFlowTimeout = 10 * time.Minute

	purposeSignIn  = "approver-signin"
	purposeSession = "approver-session"
)

// SignInConfig lets approval pages ask approvers to sign in.
type SignInConfig struct {
	// Issuer is the OIDC issuer, e.g.
	// https://login.microsoftonline.com/TENANT/v2.0 (its metadata is read
	// on first use).
	Issuer string
	// ClientID is the app registration that signs approvers in; its
	// redirect URI must be BASE_URL/signin/callback.
	ClientID string
	// ClientSecret is needed by Entra web app registrations; the dev
	// issuer takes none.
	ClientSecret string
	// HTTPClient talks to the issuer; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// signIn is the OIDC relying party. The provider's metadata is fetched on
// first use, and again after a failure, so the server starts even while
// the issuer is unreachable (in dev it is this very server).
type signIn struct {
	cfg      SignInConfig
	redirect string

	mu       sync.Mutex
	provider *oidc.Provider
}

func newSignIn(cfg *SignInConfig, baseURL string) (*signIn, error) {
	if cfg == nil {
		return nil, nil
	}
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, fmt.Errorf("server: sign-in needs Issuer (%q) and ClientID (%q)", cfg.Issuer, cfg.ClientID)
	}
	c := *cfg
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &signIn{cfg: c, redirect: baseURL + SignInCallbackPath}, nil
}

func (si *signIn) context(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, si.cfg.HTTPClient)
}

func (si *signIn) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.provider != nil {
		return si.provider, nil
	}
	p, err := oidc.NewProvider(si.context(ctx), si.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("read the sign-in issuer's metadata from %s: %w", si.cfg.Issuer, err)
	}
	si.provider = p
	return p, nil
}

func (si *signIn) oauth(p *oidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{
		ClientID: si.cfg.ClientID, ClientSecret: si.cfg.ClientSecret,
		Endpoint: ep, RedirectURL: si.redirect, Scopes: []string{oidc.ScopeOpenID, "profile"},
	}
}

// checkSignIn refuses a configuration where a role asks approvers to
// sign in but the pages cannot sign anyone in: better at start than on an
// approver's screen.
func checkSignIn(pol *policies.Policy, keys *approvals.KeySet, si *signIn) error {
	if si != nil && keys == nil {
		return errors.New("server: SignIn needs ApprovalKeys (it signs the session cookie with them)")
	}
	if keys == nil || si != nil {
		return nil
	}
	for i := range pol.Roles {
		r := &pol.Roles[i]
		switch {
		case r.ApproverSignIn:
			return fmt.Errorf("role %s has approver_sign_in: true, but approver sign-in is not configured (give the server --signin-client-id)", r.Name)
		case r.StepUp.Required():
			return fmt.Errorf("role %s requires %s of its approvers, which approval links check through approver sign-in, but approver sign-in is not configured (give the server --signin-client-id)",
				r.Name, stepUpWords(r.StepUp))
		}
	}
	return nil
}

// linkNeedsSignIn says whether a link on role decides only after sign-in:
// when the role asks for it, and when the role has a step-up, since only a
// sign-in can show the approver's multi-factor or authentication context
// (the link alone would otherwise decide where the API refuses).
func linkNeedsSignIn(role *policies.Role) bool {
	return role.ApproverSignIn || role.StepUp.Required()
}

// stepUpWords names a step-up for people, e.g. "multi-factor
// authentication and authentication context c1".
func stepUpWords(up policies.StepUp) string {
	var words []string
	if up.MFA {
		words = append(words, "multi-factor authentication")
	}
	if up.AuthContext != "" {
		words = append(words, "authentication context "+up.AuthContext)
	}
	return strings.Join(words, " and ")
}

// claimsRequest is the OIDC "claims" parameter that asks the issuer for
// the step-up in the ID token, in the form Entra takes, e.g.
// {"id_token":{"acrs":{"essential":true,"value":"c1"}}}; "" for none. Both
// claims are asked for when both are needed, since the gate checks both.
func claimsRequest(up policies.StepUp) string {
	_, claims := missingStepUp(up, nil, nil)
	if len(claims) == 0 {
		return ""
	}
	b, err := json.Marshal(map[string]any{"id_token": claims})
	if err != nil {
		panic(fmt.Sprintf("server: claims request: %v", err)) // maps of strings and bools always marshal
	}
	return string(b)
}

// signInFlow is kept in a signed cookie between the redirect to the issuer
// and the way back.
type signInFlow struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"`
	Token    string    `json:"token"`            // the approval link to return to
	Portal   string    `json:"portal,omitempty"` // or the portal page, for a portal sign-in
	Expires  time.Time `json:"exp"`
}

// approverSession is who signed in, and how (the ID token's amr and
// acrs), until Expires. How is kept so that a session made for one role
// does not pass for a role that needs a stronger sign-in.
type approverSession struct {
	ObjectID string    `json:"oid"`
	UPN      string    `json:"upn"`
	AMR      []string  `json:"amr,omitempty"`
	ACRS     []string  `json:"acrs,omitempty"`
	Expires  time.Time `json:"exp"`
}

// signInGate returns the page to show instead of the form when the link
// needs sign-in and the right person has not signed in, or not strongly
// enough for the role's step-up; nil when the form may decide, with the
// principal name of who signed in, if anyone.
func (s *Server) signInGate(c echo.Context, a *approval) (string, *page) {
	// loadApproval has refused links whose role the policy no longer has.
	if !linkNeedsSignIn(a.role) {
		return "", nil
	}
	p := s.formPage(a)
	p.Form = false
	p.SignInURL = approvals.PathPrefix + a.token + "/signin"
	p.SignInLabel = "Sign in to decide"
	up := a.role.StepUp
	sess, ok := s.session(c)
	if !ok {
		p.Message = fmt.Sprintf("Role %s asks approvers to sign in: sign in as %s to approve or deny.", a.req.Role, a.approver)
		if up.Required() {
			p.Message = fmt.Sprintf("Role %s asks approvers to sign in with %s: sign in as %s to approve or deny.", a.req.Role, stepUpWords(up), a.approver)
		}
		return "", &p
	}
	p.SignedInAs = sess.UPN
	if sess.ObjectID != a.claims.ApproverID {
		p.status, p.Kind, p.Title = http.StatusForbidden, pageError, "Signed in as someone else"
		p.Message = fmt.Sprintf("This link is for %s, but you are signed in as %s. Sign in as %s to decide.", a.approver, sess.UPN, a.approver)
		return "", &p
	}
	if missing, _ := missingStepUp(up, sess.AMR, sess.ACRS); len(missing) > 0 {
		p.status, p.Kind, p.Title = http.StatusForbidden, pageError, "Stronger sign-in needed"
		p.SignInLabel = "Sign in again with " + stepUpWords(up)
		p.Message = fmt.Sprintf("Role %s asks approvers for %s, but your sign-in as %s lacks %s. Sign in again with it to approve or deny.",
			a.req.Role, stepUpWords(up), sess.UPN, strings.Join(missing, " and "))
		return "", &p
	}
	return sess.UPN, nil
}

// session reads the sign-in cookie, if valid.
func (s *Server) session(c echo.Context) (approverSession, bool) {
	var sess approverSession
	ck, err := c.Cookie(sessionCookie)
	if err != nil || !s.openCookie(purposeSession, ck.Value, &sess) || !s.now().Before(sess.Expires) {
		return approverSession{}, false
	}
	return sess, true
}

// startSignIn sends the approver to the issuer, remembering in a cookie
// where to come back to.
func (s *Server) startSignIn(c echo.Context) error {
	a, fail := s.loadApproval(c)
	if fail != nil {
		return s.render(c, *fail)
	}
	p, err := s.signIn.oidcProvider(c.Request().Context())
	if err != nil {
		s.log.Warn("sign-in issuer unavailable", "request_id", httpRequestID(c), "error", err)
		return s.render(c, failPage(http.StatusBadGateway, "Sign-in is unavailable", "The sign-in service did not answer; try again in a moment."))
	}
	flow := signInFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Token: a.token, Expires: s.now().Add(signInFlowTimeout)}
	s.setCookie(c, signInCookie, "/signin", s.sealCookie(purposeSignIn, flow), signInFlowTimeout)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)}
	if u, ok := s.policies.Current().UserByID(a.claims.ApproverID); ok {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", u.UPN))
	}
	if claims := claimsRequest(a.role.StepUp); claims != "" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", claims))
	}
	return c.Redirect(http.StatusFound, s.signIn.oauth(p).AuthCodeURL(flow.State, opts...))
}

// finishSignIn takes the issuer's answer, checks the ID token and sets the
// session cookie, then returns to the approval page.
func (s *Server) finishSignIn(c echo.Context) error {
	var flow signInFlow
	ck, err := c.Cookie(signInCookie)
	if err != nil || !s.openCookie(purposeSignIn, ck.Value, &flow) || !s.now().Before(flow.Expires) {
		return s.render(c, failPage(http.StatusBadRequest, "Sign-in could not finish",
			"The sign-in took too long, or this browser does not keep cookies for jitflow. Start again from the approval link in the email, or from the portal's sign-in."))
	}
	s.setCookie(c, signInCookie, "/signin", "", -1)
	q := c.Request().URL.Query()
	// State first: only the issuer's answer to this very sign-in gets its
	// words on the page.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		return s.render(c, failPage(http.StatusBadRequest, "Sign-in could not finish", "The answer from the sign-in service does not belong to this sign-in. "+flow.startAgain()))
	}
	if e := q.Get("error"); e != "" {
		return s.render(c, failPage(http.StatusForbidden, "Sign-in failed", fmt.Sprintf("The sign-in service said %s: %s", e, q.Get("error_description"))))
	}
	sess, err := s.exchange(c.Request().Context(), q.Get("code"), flow)
	if err != nil {
		s.log.Warn("sign-in failed", "request_id", httpRequestID(c), "error", err)
		return s.render(c, failPage(http.StatusForbidden, "Sign-in failed", "The sign-in could not be confirmed. "+flow.startAgain()))
	}
	if flow.Portal != "" {
		return s.openPortalSession(c, sess, flow.Portal)
	}
	s.setCookie(c, sessionCookie, strings.TrimSuffix(approvals.PathPrefix, "/"), s.sealCookie(purposeSession, sess), SessionLifetime)
	return c.Redirect(http.StatusSeeOther, approvals.PathPrefix+flow.Token)
}

// startAgain says where a sign-in that failed starts again: the portal,
// or the approval link it came from.
func (f signInFlow) startAgain() string {
	if f.Portal != "" {
		return "Go back to the portal and sign in again."
	}
	return "Open the approval link again and sign in."
}

// exchange redeems the code (with the PKCE verifier) and checks the ID
// token: issuer, audience, expiry, signature and nonce.
func (s *Server) exchange(ctx context.Context, code string, flow signInFlow) (approverSession, error) {
	if code == "" {
		return approverSession{}, errors.New("no code in the answer")
	}
	p, err := s.signIn.oidcProvider(ctx)
	if err != nil {
		return approverSession{}, err
	}
	tok, err := s.signIn.oauth(p).Exchange(s.signIn.context(ctx), code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return approverSession{}, fmt.Errorf("redeem the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return approverSession{}, errors.New("the token answer has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.signIn.cfg.ClientID, Now: s.now}).Verify(s.signIn.context(ctx), raw)
	if err != nil {
		return approverSession{}, fmt.Errorf("check the id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return approverSession{}, errors.New("the id token's nonce does not match")
	}
	var cl struct {
		OID               string   `json:"oid"`
		PreferredUsername string   `json:"preferred_username"`
		AMR               []string `json:"amr"`
		ACRS              []string `json:"acrs"`
	}
	if err := idt.Claims(&cl); err != nil {
		return approverSession{}, fmt.Errorf("read the id token's claims: %w", err)
	}
	if cl.OID == "" {
		return approverSession{}, errors.New("the id token has no oid claim (the Entra object id)")
	}
	return approverSession{ObjectID: strings.ToLower(cl.OID), UPN: cl.PreferredUsername, AMR: cl.AMR, ACRS: cl.ACRS,
		Expires: s.now().Add(SessionLifetime)}, nil
}

func (s *Server) sealCookie(purpose string, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("server: cookie %s: %v", purpose, err)) // plain structs always marshal
	}
	return s.approvalKeys.Seal(purpose, b)
}

func (s *Server) openCookie(purpose, value string, v any) bool {
	b, err := s.approvalKeys.Open(purpose, value)
	return err == nil && json.Unmarshal(b, v) == nil
}

// setCookie sets (or, with a negative maxAge, clears) an HttpOnly,
// SameSite=Lax cookie: Lax so it comes along on the issuer's redirect
// back, but not on another site's form posts.
func (s *Server) setCookie(c echo.Context, name, path, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: path, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(s.baseURL, "https://"), MaxAge: int(maxAge / time.Second),
	}
	if maxAge < 0 {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}
