package server

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/jitflow/jitflow/proof"
)

// The portal: jitflow in a browser, at the server's root. A person signs
// in with the OIDC code flow the approval pages use and then acts as
// themselves, with the rights and through the functions the API gives a
// bearer token of theirs.
const (
	portalCookie  = "jitflow_portal"
	purposePortal = "portal-session"
	// PortalSessionLifetime is how long a portal sign-in lasts: about an
	// Entra ID token's life, so a shared computer does not keep the
	// right to approve for a day.
	PortalSessionLifetime = time.Hour
	// csrfField is the form field every portal POST carries.
	csrfField = "csrf"
)

// Portal paths.
const (
	portalHome      = "/"        // My requests
	portalNew       = "/request" // the request form
	portalQueue     = "/approve" // To approve
	portalSignIn    = "/signin"
	portalSignOut   = "/signout"
	portalRequestAt = "/requests/"
	// portalStatusPath answers the status cells of portal pages.
	portalStatusPath = portalRequestAt + ":id/status"
)

// portalSession is who signed in to the portal and how, until Expires.
// CSRF is the secret each of the session's forms carries: it lives only
// in this sealed, HttpOnly cookie and in the pages the session is shown.
type portalSession struct {
	ObjectID string    `json:"oid"`
	UPN      string    `json:"upn"`
	AMR      []string  `json:"amr,omitempty"`
	ACRS     []string  `json:"acrs,omitempty"`
	CSRF     string    `json:"csrf"`
	Expires  time.Time `json:"exp"`
}

const ctxPortalSession = "jitflow.portal"

func (s *Server) portalRoutes() {
	if s.approvalKeys == nil || s.signIn == nil {
		return
	}
	e := s.echo
	mw := []echo.MiddlewareFunc{securityHeaders(portalCSP), s.portalAuth}
	e.GET(portalHome, s.showMine, mw...)
	e.GET(portalNew, s.showRequestForm, mw...)
	e.POST(portalNew, s.submitRequestForm, mw...)
	e.GET(portalQueue, s.showQueue, mw...)
	e.GET(portalRequestAt+":id", s.showPortalRequest, mw...)
	e.GET(portalStatusPath, s.portalStatus, mw...)
	e.POST(portalRequestAt+":id/:action", s.portalAction, mw...)
	e.POST(portalSignOut, s.portalSignOut, mw...)
	e.GET(portalSignIn, s.startPortalSignIn, securityHeaders(portalCSP), s.limitAddress)
}

// portalAuth lets in a browser with a live portal session, acting as the
// identity the API would build from a token of theirs; one without is
// sent to sign in (a GET) or refused (anything else). Every POST must
// come from a portal page: same origin and the session's CSRF token.
func (s *Server) portalAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, ok := s.portalSessionOf(c)
		r := c.Request()
		if !ok {
			if c.Path() == portalStatusPath {
				// The page's script, not a person: nothing to redirect.
				return c.JSON(http.StatusUnauthorized, map[string]string{"error": "the portal session has ended; sign in again"})
			}
			if r.Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, portalSignIn+"?return="+url.QueryEscape(r.URL.RequestURI()))
			}
			return s.renderPortal(c, portalPage{status: http.StatusForbidden, Kind: pageError, Title: "Signed out",
				Message:   "Your portal session has ended, so nothing was done. Sign in again and retry.",
				SignInURL: portalSignIn, SignInLabel: "Sign in"})
		}
		if r.Method == http.MethodPost {
			if why := s.foreignPost(c, sess); why != "" {
				return s.portalFail(c, http.StatusForbidden, "Not sent from the portal", why+" Nothing was done.")
			}
		}
		if err := s.limits.allow(sess.ObjectID); err != nil {
			for k, vs := range err.header {
				c.Response().Header()[k] = vs
			}
			return s.portalFail(c, err.status, "Too many requests", "You acted too often: "+err.detail+".")
		}
		cl := Claims{ObjectID: sess.ObjectID, UPN: sess.UPN, AMR: sess.AMR, ACRS: sess.ACRS}
		// An ID token carries no groups here: the directory says them,
		// as it does for a token with a group overage.
		if s.directory != nil {
			groups, err := s.overageGroups(r.Context(), sess.ObjectID)
			if err != nil {
				return s.portalError(c, err)
			}
			cl.Groups = groups
		}
		me := s.identify(c, cl)
		me.channel = proof.ChannelPortal
		me.via = fmt.Sprintf("portal session of %s (oid %s), signed in at %s", sess.UPN, sess.ObjectID, s.signIn.cfg.Issuer)
		c.Set(ctxIdentity, me)
		c.Set(ctxPortalSession, sess)
		return next(c)
	}
}

// foreignPost says why a POST did not come from a portal page; "" when it
// did. A browser names the page's origin on every POST it sends: one from
// elsewhere, or with no CSRF token of this session, changes nothing.
func (s *Server) foreignPost(c echo.Context, sess portalSession) string {
	r := c.Request()
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return "The form was sent from another site."
	}
	// Pages go out with Referrer-Policy no-referrer, so a browser names
	// their own forms' origin "null"; it then says same-origin in
	// Sec-Fetch-Site, and the session's token decides either way.
	switch o := r.Header.Get(echo.HeaderOrigin); {
	case o == "null" && r.Header.Get("Sec-Fetch-Site") != "" && r.Header.Get("Sec-Fetch-Site") != "same-origin":
		return "The form was sent from a page that is not this portal's."
	case o != "" && o != "null" && o != s.origin():
		return fmt.Sprintf("The form was sent from %s, not from this portal.", o)
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return "The form could not be read (it may be over 16 KiB)."
	}
	got := r.PostForm.Get(csrfField)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return "The form does not carry this session's token (it may be from an older sign-in); reload the page and retry."
	}
	return ""
}

// origin is the scheme, host and port of the public base URL.
func (s *Server) origin() string {
	u, err := url.Parse(s.baseURL)
	if err != nil {
		return s.baseURL
	}
	return u.Scheme + "://" + u.Host
}

func (s *Server) portalSessionOf(c echo.Context) (portalSession, bool) {
	var sess portalSession
	ck, err := c.Cookie(portalCookie)
	if err != nil || !s.openCookie(purposePortal, ck.Value, &sess) || !s.now().Before(sess.Expires) || sess.CSRF == "" {
		return portalSession{}, false
	}
	return sess, true
}

// currentSession is the portal session of a request portalAuth let in.
func currentSession(c echo.Context) portalSession {
	sess, ok := c.Get(ctxPortalSession).(portalSession)
	if !ok {
		panic("server: portal handler needs portalAuth")
	}
	return sess
}

// startPortalSignIn sends the browser to the issuer. return is the portal
// page to come back to; stepup names a role whose step-up (multi-factor
// or an authentication context) the sign-in must bring.
func (s *Server) startPortalSignIn(c echo.Context) error {
	back := portalReturn(c.QueryParam("return"))
	var claims string
	if name := c.QueryParam("stepup"); name != "" {
		role, ok := s.policy(c).Role(name)
		if !ok {
			return s.portalFail(c, http.StatusBadRequest, "Unknown role",
				fmt.Sprintf("The step-up sign-in asked for role %q, which the policy does not have; roles: %s.", name, roleNames(s.policy(c))))
		}
		claims = claimsRequest(role.StepUp)
	}
	p, err := s.signIn.oidcProvider(c.Request().Context())
	if err != nil {
		s.log.Warn("sign-in issuer unavailable", "request_id", httpRequestID(c), "error", err)
		return s.portalFail(c, http.StatusBadGateway, "Sign-in is unavailable", "The sign-in service did not answer; try again in a moment.")
	}
	flow := signInFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Portal: back, Expires: s.now().Add(signInFlowTimeout)}
	s.setCookie(c, signInCookie, "/signin", s.sealCookie(purposeSignIn, flow), signInFlowTimeout)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier)}
	if sess, ok := s.portalSessionOf(c); ok {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", sess.UPN))
	}
	if claims != "" {
		opts = append(opts, oauth2.SetAuthURLParam("claims", claims))
	}
	return c.Redirect(http.StatusFound, s.signIn.oauth(p).AuthCodeURL(flow.State, opts...))
}

// portalReturn keeps a return path only when it is a path of this server:
// "/x", never "//host/x", "https://host/x", or anything with a backslash,
// space or control character a browser might read as another host.
func portalReturn(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") ||
		strings.ContainsFunc(v, func(r rune) bool { return r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		strings.HasPrefix(v, portalSignIn) {
		return portalHome
	}
	return v
}

// openPortalSession ends a portal sign-in (finishSignIn has checked the
// ID token): the session cookie, then the page the sign-in started from.
func (s *Server) openPortalSession(c echo.Context, signedIn approverSession, back string) error {
	sess := portalSession{ObjectID: signedIn.ObjectID, UPN: signedIn.UPN, AMR: signedIn.AMR, ACRS: signedIn.ACRS,
		CSRF: randomString(), Expires: s.now().Add(PortalSessionLifetime)}
	s.setCookie(c, portalCookie, "/", s.sealCookie(purposePortal, sess), PortalSessionLifetime)
	return c.Redirect(http.StatusSeeOther, portalReturn(back))
}

// portalSignOut clears the session; the next page asks to sign in again.
func (s *Server) portalSignOut(c echo.Context) error {
	s.setCookie(c, portalCookie, "/", "", -1)
	return s.renderPortal(c, portalPage{status: http.StatusOK, signedOut: true, Title: "Signed out",
		Message:   "You are signed out of jitflow. Sign in again to request or approve access.",
		SignInURL: portalSignIn, SignInLabel: "Sign in"})
}
