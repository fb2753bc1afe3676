// Package directory reads what the API needs from Microsoft Entra ID that a
// token may not carry: a user's groups when Entra left them out of the
// token (a group overage), through Microsoft Graph.
package directory

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	az "github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// Config configures the Graph directory.
type Config struct {
	// BaseURL is Graph's root without the version, e.g.
	// "https://graph.microsoft.com" or a loopback emulator.
	BaseURL string
	// Credential gets tokens for Graph (GroupMember.Read.All as an
	// application). nil sends no token: only for a loopback emulator.
	Credential azcore.TokenCredential
	// CacheFor is how long a user's groups are kept; 0 means 5 minutes.
	// Group changes reach jitflow at most this late.
	CacheFor time.Duration
}

// maxPageSize is Graph's largest page for directory collections.
const maxPageSize = 999

// requestTimeout bounds one Graph call, retries included.
const requestTimeout = 10 * time.Second

// maxPages bounds one lookup: a user in more than 20 000 groups is not a
// user jitflow can decide for in time anyway.
const maxPages = 20

// Graph reads group memberships from Microsoft Graph, caching each user's
// answer for a while.
type Graph struct {
	client   *msgraphsdk.GraphServiceClient
	cacheFor time.Duration
	now      func() time.Time
	pageSize int32

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	groups []string
	at     time.Time
}

// NewGraph checks the configuration and builds the client.
func NewGraph(cfg Config) (*Graph, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("directory: BaseURL %q must be an absolute URL such as https://graph.microsoft.com", cfg.BaseURL)
	}
	loopback := isLoopback(base.Hostname())
	if !loopback && (base.Scheme != "https" || cfg.Credential == nil) {
		return nil, fmt.Errorf("directory: BaseURL %q needs https and a Credential (only a loopback emulator may do without)", cfg.BaseURL)
	}
	var auth absauth.AuthenticationProvider = &absauth.AnonymousAuthenticationProvider{}
	if cfg.Credential != nil {
		scopes := []string{base.Scheme + "://" + base.Host + "/.default"}
		if auth, err = az.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cfg.Credential, scopes, []string{base.Hostname()}); err != nil {
			return nil, fmt.Errorf("directory: graph authentication: %w", err)
		}
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	hc := msgraphcore.GetDefaultClient(&opts)
	hc.Timeout = requestTimeout
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("directory: graph client: %w", err)
	}
	adapter.SetBaseUrl(base.String() + "/v1.0")
	cacheFor := cfg.CacheFor
	if cacheFor <= 0 {
		cacheFor = 5 * time.Minute
	}
	return &Graph{client: msgraphsdk.NewGraphServiceClient(adapter), cacheFor: cacheFor, now: time.Now, pageSize: maxPageSize, cache: map[string]cached{}}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MemberGroups returns the object ids and display names of every group the
// user belongs to, directly or through nested groups.
func (g *Graph) MemberGroups(ctx context.Context, userID string) ([]string, error) {
	now := g.now()
	g.mu.Lock()
	c, ok := g.cache[userID]
	g.mu.Unlock()
	if ok && now.Sub(c.at) < g.cacheFor {
		return c.groups, nil
	}
	groups, err := g.read(ctx, userID)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	for id, c := range g.cache { // keep the cache to live entries
		if now.Sub(c.at) >= g.cacheFor {
			delete(g.cache, id)
		}
	}
	g.cache[userID] = cached{groups: groups, at: now}
	g.mu.Unlock()
	return groups, nil
}

func (g *Graph) read(ctx context.Context, userID string) ([]string, error) {
	top := g.pageSize
	req := g.client.Users().ByUserId(userID).TransitiveMemberOf().GraphGroup()
	cfg := &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName"}, Top: &top,
		},
	}
	var out []string
	for range maxPages {
		page, err := req.Get(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("read the groups of user %s from Graph: %w", userID, err)
		}
		for _, grp := range page.GetValue() {
			if id := grp.GetId(); id != nil {
				out = append(out, *id)
			}
			if name := grp.GetDisplayName(); name != nil && *name != "" {
				out = append(out, *name)
			}
		}
		next := page.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		req, cfg = req.WithUrl(*next), nil
	}
	return nil, fmt.Errorf("read the groups of user %s from Graph: more than %d pages", userID, maxPages)
}
