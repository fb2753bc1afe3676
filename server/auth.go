package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verification limits.
const (
	clockLeeway     = time.Minute
	jwksMinInterval = 30 * time.Second
	// jwksMaxAge is how long a key set is trusted before it is read
	// again, so keys the issuer has rotated out stop being accepted.
	jwksMaxAge   = 12 * time.Hour
	jwksMaxBytes = 1 << 20
)

// allowedAlgs are the only signature algorithms accepted: asymmetric ones
// whose keys come from the issuer's key set. "none" and HMAC are refused,
// so a public key can never be misused as a shared secret.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// VerifierConfig says which tokens a TokenVerifier accepts.
type VerifierConfig struct {
	Issuer string // exact "iss" value
	// MoreIssuers are further accepted "iss" values, such as Entra's v1.0
	// form https://sts.windows.net/{tenant}/ (see EntraIssuers).
	MoreIssuers []string
	// Audience is the required "aud" value, or several separated by commas
	// (Entra v2.0 tokens carry the API's client id, v1.0 tokens its app id
	// URI: list both to accept either).
	Audience string
	JWKSURL  string // where the issuer publishes its signing keys
	// TenantID, when set, must equal the token's "tid".
	TenantID string
	// HTTPClient fetches the key set; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// TokenVerifier checks bearer tokens (Entra ID v2 access tokens or the dev
// issuer's look-alikes) against an issuer's published key set. Keys are
// fetched on first use and again when a token names an unknown key id, at
// most once per 30 seconds.
type TokenVerifier struct {
	cfg VerifierConfig
	now func() time.Time

	// fetching is held for a whole key-set fetch, so concurrent callers
	// with an unknown key wait for one fetch instead of each starting one;
	// mu guards the fields below and is never held across the network, so
	// tokens signed with known keys are checked while a fetch runs.
	fetching  sync.Mutex
	mu        sync.Mutex
	keys      jose.JSONWebKeySet
	fetchedAt time.Time
	fetchErr  error // of the last fetch
	// loadedAt is when the cached key set was last read successfully;
	// refreshing is set while a background refresh of a stale set runs.
	loadedAt   time.Time
	refreshing bool
}

// EntraIssuers returns the issuer values of a tenant's Entra ID tokens:
// v2.0 access tokens carry the first, v1.0 tokens the second.
func EntraIssuers(tenantID string) (v2, v1 string) {
	return "https://login.microsoftonline.com/" + tenantID + "/v2.0", "https://sts.windows.net/" + tenantID + "/"
}

// Claims is what jitflow takes from a verified token.
type Claims struct {
	Issuer   string   // "iss", one the verifier accepts
	Subject  string   // "sub"
	ObjectID string   // "oid": the immutable Entra object id
	TenantID string   // "tid"
	UPN      string   // "preferred_username", else "upn"
	Name     string   // "name"
	Groups   []string // "groups"
	Roles    []string // "roles" (app roles)
	AMR      []string // "amr": how the user signed in ("pwd", "mfa", ...)
	ACRS     []string // "acrs": authentication contexts satisfied ("c1", ...)
	// GroupsOverage is set when Entra left the groups out because there
	// are too many ("_claim_names" names groups, or "hasgroups" is true):
	// they must then be read from Microsoft Graph.
	GroupsOverage bool
}

// MFA reports whether the sign-in used multi-factor authentication.
func (c Claims) MFA() bool { return slices.Contains(c.AMR, "mfa") }

// audiences splits the configured audience list.
func audiences(list string) []string {
	var out []string
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// NewTokenVerifier makes a verifier for one issuer and audience.
func NewTokenVerifier(cfg VerifierConfig) (*TokenVerifier, error) {
	var missing []string
	if cfg.Issuer == "" {
		missing = append(missing, "Issuer")
	}
	if cfg.Audience == "" {
		missing = append(missing, "Audience")
	}
	if cfg.JWKSURL == "" {
		missing = append(missing, "JWKSURL")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("token verifier: %s must be set", strings.Join(missing, ", "))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &TokenVerifier{cfg: cfg, now: time.Now}, nil
}

// DiscoverVerifier reads the issuer's OpenID metadata
// (issuerURL + "/.well-known/openid-configuration") to find its key set, as
// production does for Entra ID
// (https://login.microsoftonline.com/TENANT/v2.0).
// moreIssuers are further accepted "iss" values (Entra v1.0 tokens' issuer).
func DiscoverVerifier(ctx context.Context, issuerURL, audience, tenantID string, moreIssuers ...string) (*TokenVerifier, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	url := strings.TrimSuffix(issuerURL, "/") + "/.well-known/openid-configuration"
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, hc, url, &meta); err != nil {
		return nil, fmt.Errorf("discover token issuer %s: %w", issuerURL, err)
	}
	if meta.Issuer == "" || meta.JWKSURI == "" {
		return nil, fmt.Errorf("discover token issuer %s: metadata at %s lacks issuer or jwks_uri", issuerURL, url)
	}
	if strings.TrimSuffix(meta.Issuer, "/") != strings.TrimSuffix(issuerURL, "/") {
		return nil, fmt.Errorf("discover token issuer %s: metadata names issuer %q instead", issuerURL, meta.Issuer)
	}
	return NewTokenVerifier(VerifierConfig{
		Issuer: meta.Issuer, MoreIssuers: moreIssuers, Audience: audience, JWKSURL: meta.JWKSURI, TenantID: tenantID, HTTPClient: hc,
	})
}

// TokenError says why a token was refused; its message is safe to show the
// client.
type TokenError struct{ Reason string }

func (e *TokenError) Error() string { return "invalid token: " + e.Reason }

// ErrKeysUnavailable means the issuer's key set could not be fetched: the
// token may be fine, the server cannot tell.
var ErrKeysUnavailable = errors.New("signing keys unavailable")

func refuse(format string, args ...any) error {
	return &TokenError{Reason: fmt.Sprintf(format, args...)}
}

type tokenClaims struct {
	jwt.Claims
	ObjectID          string   `json:"oid"`
	TenantID          string   `json:"tid"`
	PreferredUsername string   `json:"preferred_username"`
	UPN               string   `json:"upn"`
	Name              string   `json:"name"`
	Groups            []string `json:"groups"`
	Roles             []string `json:"roles"`
	AMR               []string `json:"amr"`
	ACRS              []string `json:"acrs"`
	HasGroups         bool     `json:"hasgroups"`
	ClaimNames        struct {
		Groups string `json:"groups"`
	} `json:"_claim_names"`
}

// Verify checks raw (a compact JWS) and returns its claims. Errors are
// *TokenError, or wrap ErrKeysUnavailable.
func (v *TokenVerifier) Verify(ctx context.Context, raw string) (Claims, error) {
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil {
		return Claims{}, refuse("not a JWT signed with RS256 or ES256")
	}
	if len(tok.Headers) != 1 {
		return Claims{}, refuse("token must carry exactly one signature")
	}
	h := tok.Headers[0]
	if h.KeyID == "" {
		return Claims{}, refuse("token header has no kid")
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return Claims{}, err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return Claims{}, refuse("key %q is for %s, token says %s", h.KeyID, key.Algorithm, h.Algorithm)
	}
	var c tokenClaims
	if err := tok.Claims(key.Key, &c); err != nil {
		return Claims{}, refuse("bad signature")
	}
	if err := v.checkClaims(c); err != nil {
		return Claims{}, err
	}
	upn := c.PreferredUsername
	if upn == "" {
		upn = c.UPN
	}
	return Claims{
		Issuer: c.Issuer, Subject: c.Subject,
		ObjectID: c.ObjectID, TenantID: c.TenantID, UPN: upn, Name: c.Name,
		Groups: c.Groups, Roles: c.Roles, AMR: c.AMR, ACRS: c.ACRS,
		GroupsOverage: c.HasGroups || c.ClaimNames.Groups != "",
	}, nil
}

func (v *TokenVerifier) checkClaims(c tokenClaims) error {
	if c.Expiry == nil {
		return refuse("token has no exp")
	}
	// The issuer is checked here, against every accepted value, so
	// ValidateWithLeeway is given the token's own.
	if c.Issuer != v.cfg.Issuer && !slices.Contains(v.cfg.MoreIssuers, c.Issuer) {
		return refuse("wrong issuer")
	}
	err := c.ValidateWithLeeway(jwt.Expected{
		Issuer: c.Issuer, AnyAudience: audiences(v.cfg.Audience), Time: v.now(),
	}, clockLeeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return refuse("token expired")
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return refuse("token not valid yet")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return refuse("wrong issuer")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return refuse("wrong audience")
	case err != nil:
		return refuse("claims rejected")
	}
	if v.cfg.TenantID != "" && !strings.EqualFold(c.TenantID, v.cfg.TenantID) {
		return refuse("wrong tenant")
	}
	if c.ObjectID == "" {
		return refuse("token has no oid")
	}
	return nil
}

// key finds the signing key kid, fetching the key set when it is not yet
// known and the last fetch is old enough.
func (v *TokenVerifier) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	if k, done, err := v.cachedKey(kid); done {
		return k, err
	}
	v.fetching.Lock()
	defer v.fetching.Unlock()
	// A fetch that finished while this caller waited may have the answer.
	if k, done, err := v.cachedKey(kid); done {
		return k, err
	}
	// The fetch serves every waiting caller, so one impatient client must
	// not cancel it; the HTTP client's timeout bounds it.
	var set jose.JSONWebKeySet
	err := getJSON(context.WithoutCancel(ctx), v.cfg.HTTPClient, v.cfg.JWKSURL, &set)
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		// Failed fetches count too, so a dead issuer is not hammered.
		v.fetchedAt = v.now()
		v.fetchErr = fmt.Errorf("%w: %v", ErrKeysUnavailable, err)
		return jose.JSONWebKey{}, v.fetchErr
	}
	v.keys, v.fetchedAt, v.fetchErr, v.loadedAt = set, v.now(), nil, v.now()
	if k, ok := findKey(v.keys, kid); ok {
		return k, nil
	}
	return jose.JSONWebKey{}, refuse("unknown signing key %q", kid)
}

// cachedKey answers from the cached key set when it can: done is false when
// only a new fetch can tell.
func (v *TokenVerifier) cachedKey(kid string) (k jose.JSONWebKey, done bool, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := findKey(v.keys, kid); ok {
		if v.now().Sub(v.loadedAt) > jwksMaxAge && !v.refreshing {
			// Serve the known key now; read the set again behind the
			// caller's back so a rotated-out key stops working soon.
			v.refreshing = true
			go v.refresh()
		}
		return k, true, nil
	}
	if !v.fetchedAt.IsZero() && v.now().Sub(v.fetchedAt) < jwksMinInterval {
		if v.fetchErr != nil {
			return jose.JSONWebKey{}, true, v.fetchErr
		}
		return jose.JSONWebKey{}, true, refuse("unknown signing key %q", kid)
	}
	return jose.JSONWebKey{}, false, nil
}

// refresh reads the key set again. A failed refresh keeps the old set: an
// issuer that is briefly down must not lock everyone out.
func (v *TokenVerifier) refresh() {
	v.fetching.Lock()
	defer v.fetching.Unlock()
	var set jose.JSONWebKeySet
	err := getJSON(context.Background(), v.cfg.HTTPClient, v.cfg.JWKSURL, &set)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refreshing = false
	if err != nil {
		// Try again after the usual pause, not on the very next token.
		v.loadedAt = v.now().Add(jwksMinInterval - jwksMaxAge)
		return
	}
	v.keys, v.fetchedAt, v.fetchErr, v.loadedAt = set, v.now(), nil, v.now()
}

func findKey(set jose.JSONWebKeySet, kid string) (jose.JSONWebKey, bool) {
	for _, k := range set.Key(kid) {
		if k.Use == "" || k.Use == "sig" {
			return k, true
		}
	}
	return jose.JSONWebKey{}, false
}

func getJSON(ctx context.Context, hc *http.Client, url string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBytes)).Decode(dst); err != nil {
		return fmt.Errorf("GET %s: decode: %w", url, err)
	}
	return nil
}
