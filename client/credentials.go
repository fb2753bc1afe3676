package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Credentials give the bearer token for API calls.
type Credentials interface {
	Token(ctx context.Context) (string, error)
}

// ClaimsCredentials can also get a token that carries the claims of an
// Entra claims challenge (for example MFA), which the client asks for once
// when the API answers 401 with one.
type ClaimsCredentials interface {
	Credentials
	TokenWithClaims(ctx context.Context, claims string) (string, error)
}

// StaticToken is a token obtained elsewhere.
type StaticToken string

// Token returns the token itself.
func (t StaticToken) Token(context.Context) (string, error) {
	if t == "" {
		return "", errors.New("the token is empty")
	}
	return string(t), nil
}

// DevUser gets its token from a dev stack's issuer on first use.
// Asked for claims (the API's step-up challenge), it gets a token that
// says the user signed in with multi-factor authentication and passed the
// authentication contexts the claims name, as Entra would after a
// step-up sign-in.
type DevUser struct {
	Client *Client // the dev stack's API; the call sends no credentials
	Name   string  // a user of the dev policy, e.g. "alice"
	// StepUp, when set, is told of each step-up before it happens.
	StepUp func(claims string)

	mu  sync.Mutex
	tok string
}

// Token fetches the user's dev token on first use.
func (d *DevUser) Token(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tok == "" {
		tok, err := d.Client.DevToken(ctx, d.Name)
		if err != nil {
			return "", err
		}
		d.tok = tok
	}
	return d.tok, nil
}

// TokenWithClaims fetches a dev token that satisfies an Entra claims
// request such as {"access_token":{"acrs":{"essential":true,"value":"c1"}}}.
func (d *DevUser) TokenWithClaims(ctx context.Context, claims string) (string, error) {
	var req struct {
		AccessToken struct {
			ACRS struct {
				Value  string   `json:"value"`
				Values []string `json:"values"`
			} `json:"acrs"`
		} `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(claims), &req); err != nil {
		return "", fmt.Errorf("read the claims challenge: %w", err)
	}
	if d.StepUp != nil {
		d.StepUp(claims)
	}
	acrs := req.AccessToken.ACRS.Values
	if v := req.AccessToken.ACRS.Value; v != "" {
		acrs = append(acrs, v)
	}
	// An authentication context's Conditional Access policy is what brings
	// MFA in Entra, so every step-up signs in with MFA.
	q := url.Values{"user": {d.Name}, "mfa": {"true"}}
	if len(acrs) > 0 {
		q.Set("acrs", strings.Join(acrs, ","))
	}
	tok, err := d.Client.devToken(ctx, q)
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.tok = tok // later calls need the same strength
	d.mu.Unlock()
	return tok, nil
}

// Entra gets user tokens for the API's scope from an azidentity
// credential (Azure CLI, device code, ...). azidentity credentials cache
// their tokens, so each call is cheap.
type Entra struct {
	Credential azcore.TokenCredential
	// Scope is the API's scope, e.g. "api://jitflow/.default".
	Scope string
	// TenantID, when set, is the tenant tokens are asked from.
	TenantID string
}

// Token gets a token for the scope.
func (e Entra) Token(ctx context.Context) (string, error) {
	return e.get(ctx, "")
}

// TokenWithClaims gets a token for the scope that satisfies a claims
// challenge.
func (e Entra) TokenWithClaims(ctx context.Context, claims string) (string, error) {
	return e.get(ctx, claims)
}

func (e Entra) get(ctx context.Context, claims string) (string, error) {
	tok, err := e.Credential.GetToken(ctx, policy.TokenRequestOptions{
		Scopes: []string{e.Scope}, Claims: claims, TenantID: e.TenantID,
	})
	if err != nil {
		return "", err
	}
	return tok.Token, nil
}
