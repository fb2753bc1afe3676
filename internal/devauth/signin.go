package devauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/labstack/echo/v4"
)

// codeLifetime bounds how long an authorization code may wait to be
// redeemed, as Entra's do (a few minutes at most).
const codeLifetime = time.Minute

// authCode is one issued authorization code, redeemable once.
type authCode struct {
	clientID, redirectURI string
	challenge, nonce      string
	user                  string
	stepUp                TokenOptions // what the sign-in asked for and the user completed
	expires               time.Time
}

// AllowClient registers a sign-in client and one of its redirect URIs, as
// an app registration in Entra does. Only registered pairs may sign in.
func (i *Issuer) AllowClient(clientID, redirectURI string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !slices.Contains(i.clients[clientID], redirectURI) {
		i.clients[clientID] = append(i.clients[clientID], redirectURI)
	}
}

// authorizeRequest is the query (GET) or form (POST) of /dev/authorize.
type authorizeRequest struct {
	ResponseType, ClientID, RedirectURI, Scope, State, Nonce string
	Challenge, ChallengeMethod, LoginHint, Claims            string
}

func readAuthorize(v url.Values) authorizeRequest {
	return authorizeRequest{
		ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		Scope: v.Get("scope"), State: v.Get("state"), Nonce: v.Get("nonce"),
		Challenge: v.Get("code_challenge"), ChallengeMethod: v.Get("code_challenge_method"), LoginHint: v.Get("login_hint"),
		Claims: v.Get("claims"),
	}
}

// check says what is wrong with the request, if anything. Until the client
// and redirect URI are known good, nothing is sent back to the redirect URI.
func (i *Issuer) check(r authorizeRequest) string {
	i.mu.Lock()
	uris, known := i.clients[r.ClientID]
	i.mu.Unlock()
	switch {
	case !known:
		return fmt.Sprintf("client_id %q is not registered with the dev issuer", r.ClientID)
	case !slices.Contains(uris, r.RedirectURI):
		return fmt.Sprintf("redirect_uri %q is not registered for client %q", r.RedirectURI, r.ClientID)
	case r.ResponseType != "code":
		return fmt.Sprintf("response_type must be \"code\", got %q", r.ResponseType)
	case !slices.Contains(strings.Fields(r.Scope), "openid"):
		return fmt.Sprintf("scope must include \"openid\", got %q", r.Scope)
	case r.Challenge == "" || r.ChallengeMethod != "S256":
		return "PKCE is required: send code_challenge with code_challenge_method=S256"
	}
	return ""
}

var pickerPage = template.Must(template.New("picker").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Sign in · jitflow dev issuer</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:2rem auto}button{font:inherit;display:block;width:100%;margin:.5rem 0;padding:.5rem}button.hint{font-weight:700}</style>
</head><body>
<h1>Sign in</h1>
<p>jitflow dev issuer: pick the user to sign in as. (In production this is Microsoft Entra ID.)</p>
{{with .Error}}<p id="error">{{.}}</p>{{end}}
{{with .StepUp}}<p id="stepup">The app asks for a stronger sign-in: {{.}}. The user you pick completes it.</p>{{end}}
<form method="post">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{range .Users}}<button type="submit" name="user" value="{{.Name}}" id="user-{{.Name}}"{{if .Hint}} class="hint"{{end}}>{{.UPN}}</button>{{end}}
</form>
</body></html>`))

type pickerUser struct {
	Name, UPN string
	Hint      bool
}

// serveAuthorize shows the user picker (GET) and, once a user is picked
// (POST), redirects back with a code.
func (i *Issuer) serveAuthorize(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	if err := c.Request().ParseForm(); err != nil {
		return problem(c, http.StatusBadRequest, "cannot read the form: "+err.Error())
	}
	r := readAuthorize(c.Request().Form)
	if msg := i.check(r); msg != "" {
		return problem(c, http.StatusBadRequest, msg)
	}
	stepUp, err := stepUpFor(r.Claims)
	if err != nil {
		return problem(c, http.StatusBadRequest, err.Error())
	}
	if c.Request().Method == http.MethodGet {
		return i.picker(c, r, stepUp)
	}
	name := c.Request().PostForm.Get("user")
	if _, ok := i.pol.UserByName(name); !ok {
		return problem(c, http.StatusBadRequest, "unknown user "+quote(name)+"; known users: "+i.userNames())
	}
	code := randomCode()
	i.mu.Lock()
	i.dropExpired()
	i.codes[code] = authCode{clientID: r.ClientID, redirectURI: r.RedirectURI, challenge: r.Challenge,
		nonce: r.Nonce, user: name, stepUp: stepUp, expires: i.now().Add(codeLifetime)}
	i.mu.Unlock()
	back, _ := url.Parse(r.RedirectURI) // registered, so it parses
	q := back.Query()
	q.Set("code", code)
	q.Set("state", r.State)
	back.RawQuery = q.Encode()
	return c.Redirect(http.StatusFound, back.String())
}

func (i *Issuer) picker(c echo.Context, r authorizeRequest, stepUp TokenOptions) error {
	hidden := map[string]string{
		"response_type": r.ResponseType, "client_id": r.ClientID, "redirect_uri": r.RedirectURI, "scope": r.Scope,
		"state": r.State, "nonce": r.Nonce, "code_challenge": r.Challenge, "code_challenge_method": r.ChallengeMethod,
	}
	if r.Claims != "" {
		hidden["claims"] = r.Claims
	}
	users := make([]pickerUser, len(i.pol.Users))
	for n, u := range i.pol.Users {
		users[n] = pickerUser{Name: u.Name, UPN: u.UPN, Hint: strings.EqualFold(u.UPN, r.LoginHint)}
	}
	var b strings.Builder
	if err := pickerPage.Execute(&b, map[string]any{"Hidden": hidden, "Users": users, "StepUp": stepUpWords(stepUp)}); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}

// dropExpired forgets codes nobody redeemed; i.mu is held.
func (i *Issuer) dropExpired() {
	now := i.now()
	for k, v := range i.codes {
		if !now.Before(v.expires) {
			delete(i.codes, k)
		}
	}
}

// tokenError is an RFC 6749 section 5.2 error answer.
func tokenError(c echo.Context, status int, code, desc string) error {
	return c.JSON(status, map[string]string{"error": code, "error_description": desc})
}

// serveOAuthToken redeems a code (once) for an ID token and an access
// token, checking the client, the redirect URI and the PKCE verifier.
func (i *Issuer) serveOAuthToken(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return tokenError(c, http.StatusBadRequest, "invalid_request", "cannot read the form: "+err.Error())
	}
	f := req.PostForm
	if gt := f.Get("grant_type"); gt != "authorization_code" {
		return tokenError(c, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type must be \"authorization_code\", got %q", gt))
	}
	clientID := f.Get("client_id")
	if id, _, ok := req.BasicAuth(); ok {
		clientID, _ = url.QueryUnescape(id)
	}
	i.mu.Lock()
	code, found := i.codes[f.Get("code")]
	delete(i.codes, f.Get("code"))
	i.mu.Unlock()
	switch {
	case !found || !i.now().Before(code.expires):
		return tokenError(c, http.StatusBadRequest, "invalid_grant", "the code is unknown, expired or already used")
	case clientID != code.clientID:
		return tokenError(c, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("the code was issued to another client than %q", clientID))
	case f.Get("redirect_uri") != code.redirectURI:
		return tokenError(c, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the one the code was issued for")
	case !pkceMatches(f.Get("code_verifier"), code.challenge):
		return tokenError(c, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
	}
	idToken, err := i.idToken(code)
	if err != nil {
		return tokenError(c, http.StatusInternalServerError, "server_error", err.Error())
	}
	access, err := i.TokenWith(code.user, code.stepUp)
	if err != nil {
		return tokenError(c, http.StatusInternalServerError, "server_error", err.Error())
	}
	return c.JSON(http.StatusOK, map[string]any{
		"token_type": "Bearer", "access_token": access, "id_token": idToken,
		"expires_in": int(TokenLifetime / time.Second), "scope": "openid profile",
	})
}

func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return verifier != "" && subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// idToken is an Entra-shaped v2 ID token for the code's user: audience the
// client, with the nonce of the sign-in and the step-up it asked for (amr
// ["pwd","mfa"] after multi-factor, acrs the authentication contexts).
func (i *Issuer) idToken(code authCode) (string, error) {
	u, ok := i.pol.UserByName(code.user)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownUser, code.user)
	}
	now := i.now().UTC()
	return i.Sign(struct {
		jwt.Claims
		Nonce             string   `json:"nonce,omitempty"`
		ObjectID          string   `json:"oid"`
		TenantID          string   `json:"tid"`
		PreferredUsername string   `json:"preferred_username"`
		Name              string   `json:"name"`
		AMR               []string `json:"amr"`
		ACRS              []string `json:"acrs,omitempty"`
		Version           string   `json:"ver"`
	}{
		Claims: jwt.Claims{
			Issuer: i.issuer, Subject: u.ID, Audience: jwt.Audience{code.clientID},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(TokenLifetime)),
		},
		Nonce: code.nonce, ObjectID: u.ID, TenantID: i.pol.TenantID, PreferredUsername: u.UPN, Name: u.Name,
		AMR: amr(code.stepUp.MFA), ACRS: code.stepUp.ACRS, Version: "2.0",
	})
}

func randomCode() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}
