// Package graph is jitflow's one Microsoft Graph client: credentials,
// the base URL (a national cloud or the dev emulator), the SDK's middleware
// with a bounded retry and without request compression, Graph's errors
// with their request ids, and what jitflow asks of Graph: PIM assignments
// and eligibilities of directory roles and groups, and the directory's
// users, group members, managers and a user's groups.
// The worker's activities, the API's eligibility check and the group
// directory all use it.
package graph

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	az "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	msgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxRetryWait  = 30 * time.Second
	DefaultVisibleWait   = 2 * time.Minute
	DefaultVisiblePoll   = 2 * time.Second
	DefaultMinActiveTime = 5 * time.Minute
)

const (
	graphSDKModule = "github.com/microsoftgraph/msgraph-sdk-go"
	// maxRetriesPerAttempt bounds the SDK's retries within one call.
	maxRetriesPerAttempt = 5
	// exponentialRetryDelay is the SDK's first wait, in seconds, when Graph
	// sends no Retry-After; it doubles on each retry.
	exponentialRetryDelay = 2
	// defaultHTTPTimeout is the SDK's own default for one call, retries
	// excluded.
	defaultHTTPTimeout = 100 * time.Second
)

// Config configures the Graph client.
type Config struct {
	// BaseURL is Graph's root without the version, e.g.
	// "https://graph.microsoft.com" or "http://127.0.0.1:8091" (the emulator).
	BaseURL string
	// Credential gets tokens for Graph. nil sends no token, which is only
	// allowed when BaseURL's host is loopback (the dev emulator).
	Credential azcore.TokenCredential
	// Scopes asked of the credential; default: the BaseURL's origin + "/.default".
	Scopes []string
	// HTTPClient is optional. The SDK's middleware (retry with Retry-After,
	// redirects) is put in front of its transport either way.
	HTTPClient *http.Client
	// MaxRetryWait bounds how long one call waits in total for Graph's
	// Retry-After (429, 503, 504) before giving up and letting Temporal
	// retry the activity later; default DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// VisibleWait bounds how long Assign waits for a new assignment to be
	// listed after Graph accepted it; default DefaultVisibleWait. Both
	// waits also end a few seconds before the context's deadline (the
	// activity's timeout), so the activity reports instead of timing out.
	VisibleWait time.Duration
	// VisiblePoll is the pause between two looks; default DefaultVisiblePoll.
	VisiblePoll time.Duration
	// MinActiveTime is Entra's minimum time an assignment stays before it
	// may be removed (ActiveDurationTooShort); default DefaultMinActiveTime.
	MinActiveTime time.Duration
}

func (c *Config) defaults() {
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = DefaultMaxRetryWait
	}
	if c.VisibleWait <= 0 {
		c.VisibleWait = DefaultVisibleWait
	}
	if c.VisiblePoll <= 0 {
		c.VisiblePoll = DefaultVisiblePoll
	}
	if c.MinActiveTime <= 0 {
		c.MinActiveTime = DefaultMinActiveTime
	}
}

// Client calls Microsoft Graph as an application. For PIM it assigns and
// removes Entra directory roles and PIM for Groups memberships with
// adminAssign/adminUpdate/adminRemove: the self-service actions need the
// user's own fresh token, which a workflow acting hours later does not
// have.
type Client struct {
	cfg Config
	// roleDefinitions, users and directoryGroups are read outside PIM: by
	// Check and by the directory reads (users.go).
	roleDefinitions *rolemanagement.DirectoryRoleDefinitionsRequestBuilder
	users           *users.UsersRequestBuilder
	directoryGroups *msgroups.GroupsRequestBuilder
	// roles and groups are the two kinds of PIM target; kindOf picks one.
	roles  kind
	groups kind
	// groupPageSize is the page size asked for a user's groups and a
	// group's members.
	groupPageSize int32
}

var _ PIM = (*Client)(nil)

// New checks the configuration and builds the Graph client. It uses
// only the SDK's role-management, identity-governance, users and groups
// packages, not the root package's client, which pulls all of Graph into
// the build.
func New(cfg Config) (*Client, error) {
	cfg.defaults()
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("graph BaseURL %q: %w", cfg.BaseURL, err)
	}
	if err := checkBaseURL(base, cfg.Credential != nil); err != nil {
		return nil, fmt.Errorf("graph BaseURL %q: %w", cfg.BaseURL, err)
	}
	auth, err := graphAuth(cfg, base)
	if err != nil {
		return nil, err
	}
	parse := absser.NewParseNodeFactoryRegistry()
	parse.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	parse.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextParseNodeFactory()
	write := absser.NewSerializationWriterFactoryRegistry()
	write.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()
	write.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextSerializationWriterFactory()
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, clientOptions(), parse, write, graphHTTPClient(cfg))
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	// As the SDK's root client does: parsed models record later changes
	// only, and requests send what was set.
	adapter.EnableBackingStore(nil)
	root := base.String() + "/v1.0"
	adapter.SetBaseUrl(root)
	params := map[string]string{"baseurl": root}
	directory := rolemanagement.NewRoleManagementRequestBuilderInternal(params, adapter).Directory()
	return &Client{
		cfg:             cfg,
		roleDefinitions: directory.RoleDefinitions(),
		users:           users.NewUsersRequestBuilderInternal(params, adapter),
		directoryGroups: msgroups.NewGroupsRequestBuilderInternal(params, adapter),
		roles:           roles{directory},
		groups:          groups{identitygovernance.NewIdentityGovernanceRequestBuilderInternal(params, adapter).PrivilegedAccess().Group()},
		groupPageSize:   maxGroupPageSize,
	}, nil
}

// clientOptions name the SDK version in Graph's telemetry header, as the
// root package does.
func clientOptions() msgraphcore.GraphClientOptions {
	opts := msgraphcore.GraphClientOptions{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == graphSDKModule {
				opts.GraphServiceLibraryVersion = strings.TrimPrefix(m.Version, "v")
			}
		}
	}
	return opts
}

// checkBaseURL accepts an absolute http(s) URL without the API version.
// Plain http and calls without a token are for a loopback emulator only.
func checkBaseURL(u *url.URL, hasCredential bool) error {
	loopback := isLoopbackHost(u.Hostname())
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("scheme must be https (or http for a loopback emulator), got %q", u.Scheme)
	case u.Host == "":
		return fmt.Errorf("a host is required, e.g. https://graph.microsoft.com")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("must not have a query or fragment")
	case strings.HasSuffix(u.Path, "/v1.0") || strings.HasSuffix(u.Path, "/beta"):
		return fmt.Errorf("leave out the API version (/v1.0 is added), e.g. https://graph.microsoft.com")
	case u.Scheme == "http" && !loopback:
		return fmt.Errorf("plain http is only allowed for a loopback host (the dev emulator); use https")
	case !hasCredential && !loopback:
		return fmt.Errorf("a Credential is required: only a loopback host (the dev emulator) may be called without a token")
	}
	return nil
}

// IsLoopbackURL reports whether rawURL points at this machine (the dev
// emulator), which is called without a credential.
func IsLoopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && isLoopbackHost(u.Hostname())
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// graphAuth returns the token provider. Its allow-list holds only BaseURL's
// host: azidentity silently sends no token elsewhere, so a national cloud or
// the emulator must be listed or every call would go unauthenticated.
func graphAuth(cfg Config, base *url.URL) (absauth.AuthenticationProvider, error) {
	if cfg.Credential == nil {
		return &absauth.AnonymousAuthenticationProvider{}, nil
	}
	auth, err := az.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cfg.Credential, graphScopes(cfg, base), []string{base.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph authentication for %s: %w", base.Host, err)
	}
	return auth, nil
}

// graphScopes are the configured scopes, or BaseURL's "/.default": the
// token's audience must be the Graph of the same cloud.
func graphScopes(cfg Config, base *url.URL) []string {
	if len(cfg.Scopes) > 0 {
		return cfg.Scopes
	}
	return []string{base.Scheme + "://" + base.Host + "/.default"}
}

// idleConnsPerHost keeps connections to Graph for reuse: many grants
// ending together call Graph at once, and Go keeps two per host by default,
// so each burst over HTTP/1.1 opened (and closed) a connection per call.
const idleConnsPerHost = 64

// graphTransport is the SDK's default transport, keeping more idle
// connections.
func graphTransport() http.RoundTripper {
	t, ok := khttp.GetDefaultTransport().(*http.Transport)
	if !ok {
		return khttp.GetDefaultTransport()
	}
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, idleConnsPerHost)
	return t
}

// graphHTTPClient builds the HTTP client with the SDK's middleware (retry
// honouring Retry-After within cfg.MaxRetryWait, redirects, telemetry) in
// front of the caller's transport, which a recorder of Graph's request ids
// wraps: handing the SDK a bare client would drop retries.
func graphHTTPClient(cfg Config) *http.Client {
	clone := http.Client{Timeout: defaultHTTPTimeout + cfg.MaxRetryWait}
	if cfg.HTTPClient != nil {
		clone = *cfg.HTTPClient
	}
	parent := clone.Transport
	if parent == nil {
		parent = graphTransport()
	}
	opts := clientOptions()
	clone.Transport = khttp.NewCustomTransportWithParentTransport(requestIDTransport{parent}, graphMiddleware(&opts, cfg.MaxRetryWait)...)
	if clone.CheckRedirect == nil {
		// The redirect middleware follows redirects itself.
		clone.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return &clone
}

// graphMiddleware is the SDK's default middleware with two changes.
// Request compression is off: the SDK orders its middleware by map
// iteration, and when compression runs inside the retry handler a retried
// POST goes out with "Content-Encoding: gzip" over the uncompressed body
// (microsoft/kiota-http-go#183), Graph answers 400, and a throttled
// activation would fail for good; schedule requests are a few hundred bytes.
// The retry handler stops before the waits add up to more than maxWait: an
// activity must not sleep through Graph's Retry-After of minutes while its
// timeout runs; the error then carries the wait to Temporal's retry.
func graphMiddleware(opts *msgraphcore.GraphClientOptions, maxWait time.Duration) []khttp.Middleware {
	mw := msgraphcore.GetDefaultMiddlewaresWithOptions(opts)
	for i, m := range mw {
		switch m.(type) {
		case *khttp.CompressionHandler:
			mw[i] = khttp.NewCompressionHandlerWithOptions(khttp.NewCompressionOptions(false))
		case *khttp.RetryHandler:
			mw[i] = khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
				MaxRetries:   maxRetriesPerAttempt,
				DelaySeconds: exponentialRetryDelay,
				ShouldRetry: func(waited time.Duration, retries int, req *http.Request, resp *http.Response) bool {
					next := nextRetryDelay(resp, retries+1)
					return waited+next <= maxWait && budget(req.Context(), next) == next
				},
			})
		}
	}
	return mw
}

// deadlineMargin is kept free before the context's deadline (the
// activity's StartToClose timeout) for the answer to be sent back.
const deadlineMargin = 3 * time.Second

// budget is how much of want fits before ctx's deadline, less the margin;
// all of want without a deadline, and never less than zero.
func budget(ctx context.Context, want time.Duration) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return want
	}
	return max(min(want, time.Until(deadline)-deadlineMargin), 0)
}

// nextRetryDelay is the wait the SDK's retry handler is about to make:
// Retry-After when Graph sent one, else its exponential backoff (without
// the jitter of up to a second).
func nextRetryDelay(resp *http.Response, retry int) time.Duration {
	if resp != nil {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return d
		}
	}
	return time.Duration(exponentialRetryDelay<<(retry-1)) * time.Second
}
