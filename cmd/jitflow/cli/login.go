package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jitflow/jitflow/client"
)

// DefaultAPI is where the API commands look without --api or JITFLOW_API:
// the address of jitflow dev.
const DefaultAPI = "http://127.0.0.1:8080"

// apiFlags are the flags every API command shares: where the API is, who
// the caller is, and how answers are printed.
type apiFlags struct {
	api      string
	as       string
	token    string
	scope    string
	tenantID string
	clientID string
	json     bool
}

func (a *apiFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.api, "api", envOr("JITFLOW_API", DefaultAPI), "base URL of the jitflow API (env JITFLOW_API)")
	f.StringVar(&a.as, "as", "", "dev only: act as this user of a jitflow dev stack, e.g. alice (fetches a dev token)")
	// Not the environment's value as the default: help would print it.
	f.StringVar(&a.token, "token", "", "bearer token to send (env JITFLOW_TOKEN)")
	f.StringVar(&a.scope, "scope", os.Getenv("JITFLOW_SCOPE"), "sign in with Entra ID for this API scope, e.g. api://jitflow/.default (env JITFLOW_SCOPE)")
	f.StringVar(&a.tenantID, "tenant-id", os.Getenv("AZURE_TENANT_ID"), "Entra tenant to sign in to (env AZURE_TENANT_ID)")
	f.StringVar(&a.clientID, "client-id", os.Getenv("JITFLOW_CLIENT_ID"), "app (client) id for device code sign-in (env JITFLOW_CLIENT_ID; default: the Azure SDK's public client)")
	f.BoolVar(&a.json, "json", false, "print the API's JSON answer as it is, for scripts")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// session is an API client for one command run and how it signed in.
type session struct {
	*client.Client
	flags *apiFlags
	creds client.Credentials
}

// session builds the client for the API and the caller.
func (a *apiFlags) session(cmd *cobra.Command) (*session, error) {
	c, err := client.New(client.Config{BaseURL: a.api, UserAgent: "jitflow-cli"})
	if err != nil {
		return nil, usagef("--api: %v", err)
	}
	creds, err := a.credentials(cmd, c)
	if err != nil {
		return nil, err
	}
	return &session{Client: c.WithCredentials(creds), flags: a, creds: creds}, nil
}

// credentials pick who the caller is: --as, then a token, then Entra ID.
// Flags beat the environment: --as wins over a JITFLOW_TOKEN left exported.
func (a *apiFlags) credentials(cmd *cobra.Command, devAPI *client.Client) (client.Credentials, error) {
	token := a.token
	if token == "" {
		token = os.Getenv("JITFLOW_TOKEN")
	}
	switch {
	case a.as != "" && a.token != "":
		return nil, usagef("--as and --token both say who you are; give one")
	case a.as != "":
		stderr := cmd.ErrOrStderr()
		return &client.DevUser{Client: devAPI, Name: a.as, StepUp: func(claims string) {
			fmt.Fprintf(stderr, "the API asks for a stronger sign-in %s; getting a dev token that has it\n", claims)
		}}, nil
	case token != "":
		return client.StaticToken(strings.TrimPrefix(token, "Bearer ")), nil
	case a.scope != "":
		return a.entra(cmd)
	}
	return nil, usagef("who are you? give --as NAME (against jitflow dev), --token or JITFLOW_TOKEN, " +
		"or --scope or JITFLOW_SCOPE (e.g. api://jitflow/.default) to sign in with Entra ID")
}

// entra signs in through the Azure CLI's login when there is one, and
// with a device code otherwise.
func (a *apiFlags) entra(cmd *cobra.Command) (client.Credentials, error) {
	cli, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: a.tenantID})
	if err != nil {
		return nil, usagef("--tenant-id %q: %v", a.tenantID, err)
	}
	stderr := cmd.ErrOrStderr()
	device, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		TenantID: a.tenantID,
		ClientID: a.clientID,
		UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
			_, err := fmt.Fprintln(stderr, m.Message)
			return err
		},
	})
	if err != nil {
		return nil, usagef("--client-id %q / --tenant-id %q: %v", a.clientID, a.tenantID, err)
	}
	chain, err := azidentity.NewChainedTokenCredential([]azcore.TokenCredential{cli, device}, nil)
	if err != nil {
		return nil, err
	}
	return client.Entra{Credential: chain, Scope: a.scope, TenantID: a.tenantID}, nil
}

// me is the signed-in user as the token says: object id and principal name.
type me struct {
	ID  string `json:"oid"`
	UPN string `json:"preferred_username"`
}

// whoami reads the caller's object id from their token. The token is not
// verified here: the API does that; this only picks list filters.
func (s *session) whoami(ctx context.Context) (me, error) {
	tok, err := s.creds.Token(ctx)
	if err != nil {
		return me{}, fmt.Errorf("%w: %w", client.ErrSignIn, err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return me{}, errors.New("the token is not a JWT, so it does not say who you are")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return me{}, fmt.Errorf("the token's payload is not base64url: %w", err)
	}
	var m me
	if err := json.Unmarshal(payload, &m); err != nil || m.ID == "" {
		return me{}, errors.New("the token carries no oid claim, so it does not say who you are")
	}
	return m, nil
}
