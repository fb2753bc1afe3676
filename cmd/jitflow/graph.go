package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/spf13/pflag"

	"github.com/jitflow/jitflow/directory"
	"github.com/jitflow/jitflow/graph"
)

// graphFlags choose the Microsoft Graph endpoint and the Azure credential
// for it. The cloud sets Graph's URL, the token scope and the sign-in
// authority together; a loopback --graph-url (the dev emulator) needs no
// credential. Secrets come from the environment or a file, never from a
// flag, which would show in process listings.
type graphFlags struct {
	url        string
	cloud      string
	credential graph.CredentialConfig
	secretFile string
	checkRole  string
	retryWait  time.Duration
	// cacheFor is how long directory lookups (groups, managers, users)
	// are kept.
	cacheFor time.Duration
}

// globalReader is the role definition the startup check reads by default:
// a built-in role present in every tenant.
const globalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"

func (g *graphFlags) register(f *pflag.FlagSet) {
	f.StringVar(&g.url, "graph-url", envOr("JITFLOW_GRAPH_URL", ""), "Microsoft Graph base URL (env JITFLOW_GRAPH_URL; default: the cloud's Graph); a loopback URL (the emulator) needs no credential")
	f.StringVar(&g.cloud, "cloud", envOr("JITFLOW_CLOUD", "public"), "Azure cloud: public, usgov, usgov-dod or china (env JITFLOW_CLOUD); sets Graph's URL, the token scope and the sign-in authority")
	f.StringVar(&g.credential.Kind, "credential", envOr("JITFLOW_CREDENTIAL", graph.CredentialAuto),
		"Azure credential: auto, client-secret, client-certificate, managed-identity, workload-identity or default (env JITFLOW_CREDENTIAL); auto picks by the AZURE_* variables set")
	f.StringVar(&g.credential.TenantID, "azure-tenant-id", "", "Entra tenant id of the Graph credential (default AZURE_TENANT_ID)")
	f.StringVar(&g.credential.ClientID, "azure-client-id", "", "client id of the Graph credential's app registration (default AZURE_CLIENT_ID)")
	f.StringVar(&g.secretFile, "client-secret-file", envOr("JITFLOW_CLIENT_SECRET_FILE", ""), "file holding the client secret (env JITFLOW_CLIENT_SECRET_FILE; default: AZURE_CLIENT_SECRET)")
	f.StringVar(&g.credential.CertificatePath, "client-certificate", "", "PEM or PKCS#12 file with the client certificate and key (default AZURE_CLIENT_CERTIFICATE_PATH; password in AZURE_CLIENT_CERTIFICATE_PASSWORD)")
	f.StringVar(&g.credential.ManagedIdentityClientID, "managed-identity-client-id", envOr("JITFLOW_MANAGED_IDENTITY_CLIENT_ID", ""), "client id of a user-assigned managed identity (default: the system-assigned one)")
	f.StringVar(&g.credential.FederatedTokenFile, "federated-token-file", "", "workload identity token file (default AZURE_FEDERATED_TOKEN_FILE)")
	f.StringVar(&g.checkRole, "check-role", globalReader, "role definition id the Graph check reads (default: Global Reader)")
	f.DurationVar(&g.retryWait, "graph-max-retry-wait", graph.DefaultMaxRetryWait, "longest one Graph call waits for Retry-After before Temporal retries the activity later")
	f.DurationVar(&g.cacheFor, "directory-cache-for", time.Minute,
		"how long answers from the Entra directory (group members, managers, a user's groups, users by name) are kept; changes in Entra reach jitflow at most this late")
}

// directory reads the policy's Entra references through c, caching each
// answer for --directory-cache-for.
func (g *graphFlags) directory(c *graph.Client) (*directory.Graph, error) {
	if g.cacheFor <= 0 {
		return nil, fmt.Errorf("--directory-cache-for %s: must be more than 0 (default 1m)", g.cacheFor)
	}
	return directory.NewGraph(directory.Config{Graph: c, CacheFor: g.cacheFor})
}

// withDirectory builds the Graph client and the directory over it: one
// credential serves the API's eligibility checks, group lookups and the
// policy's Entra references.
func (g *graphFlags) withDirectory() (*graph.Client, *directory.Graph, error) {
	c, who, err := g.provider()
	if err != nil {
		return nil, nil, fmt.Errorf("graph (%s): %w", who, err)
	}
	dir, err := g.directory(c)
	return c, dir, err
}

// graphEndpoint is Graph's URL and the credential for it: nil for a
// loopback emulator. who says, without secrets, which credential it is.
type graphEndpoint struct {
	baseURL string
	cred    azcore.TokenCredential
	who     string
}

// provider builds the Graph client the worker's activities use and says,
// without secrets, which credential it uses.
func (g *graphFlags) provider() (*graph.Client, string, error) {
	ep, err := g.endpoint()
	if err != nil {
		return nil, ep.who, err
	}
	c, err := g.client(ep)
	return c, ep.who, err
}

// client builds the one Graph client on ep: the worker's PIM calls, the
// API's eligibility checks and its group lookups all go through it.
func (g *graphFlags) client(ep graphEndpoint) (*graph.Client, error) {
	return graph.New(graph.Config{BaseURL: ep.baseURL, Credential: ep.cred, MaxRetryWait: g.retryWait})
}

// endpoint resolves Graph's URL and the credential for it.
func (g *graphFlags) endpoint() (graphEndpoint, error) {
	cloud, err := graph.LookupCloud(g.cloud)
	if err != nil {
		return graphEndpoint{}, fmt.Errorf("--cloud: %w", err)
	}
	ep := graphEndpoint{baseURL: strings.TrimSuffix(g.url, "/")}
	if ep.baseURL == "" {
		ep.baseURL = cloud.GraphURL
	}
	if graph.IsLoopbackURL(ep.baseURL) {
		ep.who = "no credential (loopback Graph emulator at " + ep.baseURL + ")"
		return ep, nil
	}
	cc := g.credential
	cc.Cloud = cloud
	if g.secretFile != "" {
		data, err := os.ReadFile(g.secretFile)
		if err != nil {
			return graphEndpoint{}, fmt.Errorf("--client-secret-file: %w", err)
		}
		cc.ClientSecret = strings.TrimSpace(string(data))
	}
	cc = graph.CredentialConfigFromEnv(cc, os.Getenv)
	ep.who = cc.String()
	if ep.cred, err = graph.NewCredential(cc); err != nil {
		return graphEndpoint{who: ep.who}, fmt.Errorf("azure credential for %s: %w", ep.baseURL, err)
	}
	return ep, nil
}

// check gets a token and reads one role definition, so that a wrong
// credential, tenant or permission stops the process at once with what
// Entra answered.
func (g *graphFlags) check(ctx context.Context, log *slog.Logger, c *graph.Client, who string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	res, err := c.Check(ctx, who, g.checkRole)
	if err != nil {
		return fmt.Errorf("graph check failed: %w", err)
	}
	log.Info("graph check passed", "credential", who, "tenant", res.TenantID, "app", res.AppID,
		"permissions", strings.Join(res.Roles, " "), "role_read", res.RoleName)
	return nil
}
