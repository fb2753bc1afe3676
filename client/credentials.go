package client

import (
	"context"
	"errors"
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

// DevUser gets its token from a dev stack's issuer once, on first use.
type DevUser struct {
	Client *Client // the dev stack's API; the call sends no credentials
	Name   string  // a user of the dev policy, e.g. "alice"

	once sync.Once
	tok  string
	err  error
}

// Token fetches the user's dev token on first use.
func (d *DevUser) Token(ctx context.Context) (string, error) {
	d.once.Do(func() { d.tok, d.err = d.Client.DevToken(ctx, d.Name) })
	return d.tok, d.err
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
