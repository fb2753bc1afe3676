package client

import (
	"context"
	"errors"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// recordingCredential is an azidentity stand-in that records what it was
// asked for.
type recordingCredential struct {
	asked []policy.TokenRequestOptions
	err   error
}

func (r *recordingCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	r.asked = append(r.asked, o)
	if r.err != nil {
		return azcore.AccessToken{}, r.err
	}
	return azcore.AccessToken{Token: "entra-" + o.Claims}, nil
}

func TestEntra(t *testing.T) {
	cred := &recordingCredential{}
	e := Entra{Credential: cred, Scope: "api://jitflow/.default", TenantID: "tenant-1"}
	var _ ClaimsCredentials = e
	tok, err := e.Token(context.Background())
	if err != nil || tok != "entra-" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	tok, err = e.TokenWithClaims(context.Background(), `{"access_token":{}}`)
	if err != nil || tok != `entra-{"access_token":{}}` {
		t.Fatalf("TokenWithClaims = %q, %v", tok, err)
	}
	for _, o := range cred.asked {
		if len(o.Scopes) != 1 || o.Scopes[0] != "api://jitflow/.default" || o.TenantID != "tenant-1" {
			t.Errorf("asked %+v", o)
		}
	}
	cred.err = errors.New("az login needed")
	if _, err := e.Token(context.Background()); !errors.Is(err, cred.err) {
		t.Errorf("err = %v, want the credential's", err)
	}
}

func TestStaticToken(t *testing.T) {
	if tok, err := StaticToken("abc").Token(context.Background()); tok != "abc" || err != nil {
		t.Errorf("Token = %q, %v", tok, err)
	}
	if _, err := StaticToken("").Token(context.Background()); err == nil {
		t.Error("an empty token is accepted")
	}
}
