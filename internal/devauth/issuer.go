// Package devauth is the dev-mode token issuer: it signs access tokens shaped
// like Microsoft Entra ID v2 tokens for the users of the policy directory, and
// publishes its key set, so the API checks dev tokens exactly as it checks
// Entra's.
package devauth

import (
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/jitflow/jitflow/policies"
)

// TokenLifetime is how long an issued token is valid, as for Entra access tokens.
const TokenLifetime = time.Hour

// OperatorRole is the app role claim an operator's token carries.
const OperatorRole = "operator"

// ErrUnknownUser is returned for a user name the policy directory does not hold.
var ErrUnknownUser = errors.New("unknown user")

// Issuer signs dev tokens with one RSA key kept on disk.
type Issuer struct {
	issuer   string
	audience string
	pol      *policies.Policy
	signer   jose.Signer
	jwks     []byte
	now      func() time.Time

	// Sign-in (authorization code flow) state: registered clients and
	// codes not yet redeemed.
	mu      sync.Mutex
	clients map[string][]string // client id -> redirect URIs
	codes   map[string]authCode
}

// New loads the RSA signing key from keyPath (PEM), creating it (2048-bit,
// 0600) if absent, so tokens survive restarts. issuer is the token issuer
// URL (e.g. "http://127.0.0.1:8080/dev"); audience the API's audience
// (e.g. "api://jitflow").
func New(keyPath, issuer, audience string, pol *policies.Policy) (*Issuer, error) {
	if issuer == "" || audience == "" {
		return nil, fmt.Errorf("dev token issuer: issuer (%q) and audience (%q) must both be set", issuer, audience)
	}
	if pol == nil {
		return nil, errors.New("dev token issuer: policy is nil")
	}
	key, err := loadOrCreateKey(keyPath)
	if err != nil {
		return nil, fmt.Errorf("dev token issuer: %w", err)
	}
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("dev token issuer: key id: %w", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("dev token issuer: signer: %w", err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig",
	}}}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("dev token issuer: encode key set: %w", err)
	}
	return &Issuer{issuer: issuer, audience: audience, pol: pol, signer: signer, jwks: jwks, now: time.Now,
		clients: map[string][]string{}, codes: map[string]authCode{}}, nil
}

// keyID is the RFC 7638 thumbprint of the public key: stable across
// restarts because the key is.
func keyID(pub *rsa.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// claims is the Entra v2 access token claim set jitflow reads.
type claims struct {
	jwt.Claims
	ObjectID          string   `json:"oid"`
	TenantID          string   `json:"tid"`
	PreferredUsername string   `json:"preferred_username"`
	Name              string   `json:"name"`
	Groups            []string `json:"groups,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	AMR               []string `json:"amr,omitempty"`
	ACRS              []string `json:"acrs,omitempty"`
	// Entra's group overage: the groups are left out and the token says
	// where to read them instead.
	ClaimNames   map[string]string         `json:"_claim_names,omitempty"`
	ClaimSources map[string]map[string]any `json:"_claim_sources,omitempty"`
	Version      string                    `json:"ver"`
}

// TokenOptions shape a dev token the way Entra's sign-in would.
type TokenOptions struct {
	// MFA adds "mfa" to the amr claim (sign-in methods), as after a
	// multi-factor sign-in; without it amr is ["pwd"].
	MFA bool
	// ACRS lists the authentication contexts satisfied ("c1", ...).
	ACRS []string
	// Overage leaves the groups out as Entra does for a user in too many
	// groups: "_claim_names" and "_claim_sources" point at Microsoft
	// Graph instead.
	Overage bool
	// Roles are app roles added to those the policy gives (operators get
	// "operator"), e.g. "auditor".
	Roles []string
}

// Token signs an access token for the directory user userName.
func (i *Issuer) Token(userName string) (string, error) {
	return i.TokenWith(userName, TokenOptions{})
}

// TokenWith signs an access token for userName shaped by opts.
func (i *Issuer) TokenWith(userName string, opts TokenOptions) (string, error) {
	u, ok := i.pol.UserByName(userName)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownUser, userName)
	}
	now := i.now().UTC()
	c := claims{
		Claims: jwt.Claims{
			Issuer:    i.issuer,
			Subject:   u.ID,
			Audience:  jwt.Audience{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(now.Add(TokenLifetime)),
		},
		ObjectID:          u.ID,
		TenantID:          i.pol.TenantID,
		PreferredUsername: u.UPN,
		Name:              u.Name,
		Groups:            u.Groups,
		AMR:               amr(opts.MFA),
		ACRS:              opts.ACRS,
		Version:           "2.0",
	}
	if i.isOperator(u.Name) {
		c.Roles = []string{OperatorRole}
	}
	for _, r := range opts.Roles {
		if !slices.Contains(c.Roles, r) {
			c.Roles = append(c.Roles, r)
		}
	}
	if opts.Overage {
		c.Groups = nil
		c.ClaimNames = map[string]string{"groups": "src1"}
		c.ClaimSources = map[string]map[string]any{"src1": {
			"endpoint": "https://graph.microsoft.com/v1.0/users/" + u.ID + "/getMemberObjects",
		}}
	}
	return i.Sign(c)
}

// amr lists the sign-in methods: a password, and a second factor after a
// multi-factor sign-in.
func amr(mfa bool) []string {
	if mfa {
		return []string{"pwd", "mfa"}
	}
	return []string{"pwd"}
}

func (i *Issuer) isOperator(name string) bool {
	for _, op := range i.pol.Operators.Users {
		if op == name {
			return true
		}
	}
	return false
}

// Sign signs an arbitrary claim set with the dev key. Tests use it to build
// expired, foreign-audience or otherwise unusual tokens that still carry a
// valid signature.
func (i *Issuer) Sign(claimSet any) (string, error) {
	tok, err := jwt.Signed(i.signer).Claims(claimSet).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

// JWKS returns the public key set as JSON.
func (i *Issuer) JWKS() []byte {
	return append([]byte(nil), i.jwks...)
}

// Issuer returns the issuer URL tokens carry.
func (i *Issuer) Issuer() string { return i.issuer }

// Audience returns the audience tokens carry.
func (i *Issuer) Audience() string { return i.audience }

// JWKSURL is where Register serves the key set, derived from the issuer URL.
func (i *Issuer) JWKSURL() string { return i.issuer + "/jwks.json" }
