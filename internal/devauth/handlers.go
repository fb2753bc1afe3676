package devauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"
)

// Paths Register serves.
const (
	TokenPath      = "/dev/token"
	JWKSPath       = "/dev/jwks.json"
	DiscoveryPath  = "/dev/.well-known/openid-configuration"
	AuthorizePath  = "/dev/authorize"
	OAuthTokenPath = "/dev/oauth/token"
)

// Register mounts the issuer's routes on e:
//
//	GET /dev/token?user=NAME                    {"token":"..."}
//	    &mfa=true       amr lists "mfa" (a multi-factor sign-in)
//	    &acrs=c1,c2     authentication contexts satisfied
//	    &overage=true   groups left out as in Entra's group overage
//	    &roles=auditor  further app roles
//	GET /dev/jwks.json                          the public key set
//	GET /dev/.well-known/openid-configuration   OIDC metadata (issuer, jwks_uri)
//	GET|POST /dev/authorize                     sign-in: pick a user, get a code
//	    &claims={"id_token":{...}}  step-up the user completes: amr "mfa",
//	                                acrs c1 to c99 (OIDC claims request)
//	POST /dev/oauth/token                       redeem a code for an ID token
func (i *Issuer) Register(e *echo.Echo) {
	e.GET(TokenPath, i.serveToken)
	e.GET(JWKSPath, i.serveJWKS)
	e.GET(DiscoveryPath, i.serveDiscovery)
	e.GET(AuthorizePath, i.serveAuthorize)
	e.POST(AuthorizePath, i.serveAuthorize)
	e.POST(OAuthTokenPath, i.serveOAuthToken)
}

func (i *Issuer) serveToken(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	name := c.QueryParam("user")
	if name == "" {
		return problem(c, http.StatusBadRequest, `query parameter "user" is required: the short name of a user of the policy directory, e.g. /dev/token?user=alice`)
	}
	opts, err := tokenOptions(c)
	if err != nil {
		return problem(c, http.StatusBadRequest, err.Error())
	}
	tok, err := i.TokenWith(name, opts)
	if errors.Is(err, ErrUnknownUser) {
		return problem(c, http.StatusNotFound, "unknown user "+quote(name)+"; known users: "+i.userNames())
	}
	if err != nil {
		return problem(c, http.StatusInternalServerError, "cannot sign a token: "+err.Error())
	}
	return c.JSON(http.StatusOK, map[string]string{"token": tok})
}

var tokenParams = []string{"user", "mfa", "acrs", "overage", "roles"}

// tokenOptions reads the optional query parameters of /dev/token.
func tokenOptions(c echo.Context) (TokenOptions, error) {
	var opts TokenOptions
	for name := range c.QueryParams() {
		if !slices.Contains(tokenParams, name) {
			return opts, fmt.Errorf("unknown query parameter %q; accepted: %s", name, strings.Join(tokenParams, ", "))
		}
	}
	flag := func(name string) (bool, error) {
		switch v := c.QueryParam(name); v {
		case "", "false":
			return false, nil
		case "true":
			return true, nil
		default:
			return false, fmt.Errorf("query parameter %q must be true or false, not %q", name, v)
		}
	}
	var err error
	if opts.MFA, err = flag("mfa"); err != nil {
		return opts, err
	}
	if opts.Overage, err = flag("overage"); err != nil {
		return opts, err
	}
	opts.ACRS = splitList(c.QueryParam("acrs"))
	opts.Roles = splitList(c.QueryParam("roles"))
	return opts, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (i *Issuer) userNames() string {
	names := make([]string, 0, len(i.pol.Users))
	for _, u := range i.pol.Users {
		names = append(names, u.Name)
	}
	return strings.Join(names, ", ")
}

func (i *Issuer) serveJWKS(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, i.jwks)
}

type discovery struct {
	Issuer              string   `json:"issuer"`
	JWKSURI             string   `json:"jwks_uri"`
	AuthEndpoint        string   `json:"authorization_endpoint"`
	TokenEndpoint       string   `json:"token_endpoint"`
	GrantTypes          []string `json:"grant_types_supported"`
	ChallengeMethods    []string `json:"code_challenge_methods_supported"`
	Scopes              []string `json:"scopes_supported"`
	SigningAlgs         []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypes       []string `json:"response_types_supported"`
	SubjectTypes        []string `json:"subject_types_supported"`
	ClaimsSupported     []string `json:"claims_supported"`
	TokenEndpointMethod []string `json:"token_endpoint_auth_methods_supported"`
}

func (i *Issuer) serveDiscovery(c echo.Context) error {
	return c.JSON(http.StatusOK, discovery{
		Issuer:              i.issuer,
		JWKSURI:             i.JWKSURL(),
		AuthEndpoint:        i.issuer + "/authorize",
		TokenEndpoint:       i.issuer + "/oauth/token",
		GrantTypes:          []string{"authorization_code"},
		ChallengeMethods:    []string{"S256"},
		Scopes:              []string{"openid", "profile", "email"},
		SigningAlgs:         []string{string(jose.RS256)},
		ResponseTypes:       []string{"code"},
		SubjectTypes:        []string{"pairwise"},
		ClaimsSupported:     []string{"iss", "aud", "sub", "oid", "tid", "preferred_username", "name", "groups", "roles", "amr", "acrs", "iat", "nbf", "exp", "nonce"},
		TokenEndpointMethod: []string{"none"},
	})
}

// problem answers with an RFC 9457 problem document, whatever error handler
// the hosting Echo instance has.
func problem(c echo.Context, status int, detail string) error {
	body, err := json.Marshal(map[string]any{
		"type":     "about:blank",
		"title":    http.StatusText(status),
		"status":   status,
		"detail":   detail,
		"instance": c.Request().URL.Path,
	})
	if err != nil {
		return err
	}
	return c.Blob(status, "application/problem+json", body)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
