// Package directory reads what the API needs from Microsoft Entra ID that a
// token may not carry: a user's groups when Entra left them out of the
// token (a group overage), through the Graph client of package graph.
package directory

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Groups reads a user's groups from Entra; *graph.Client is one.
type Groups interface {
	MemberGroups(ctx context.Context, userID string) ([]string, error)
}

// Config configures the Graph directory.
type Config struct {
	// Graph reads the groups (GroupMember.Read.All as an application).
	Graph Groups
	// CacheFor is how long a user's groups are kept; 0 means 5 minutes.
	// Group changes reach jitflow at most this late.
	CacheFor time.Duration
}

// requestTimeout bounds one lookup, retries included: the caller's API
// request waits for it.
const requestTimeout = 10 * time.Second

// Graph reads group memberships from Microsoft Graph, caching each user's
// answer for a while.
type Graph struct {
	groups   Groups
	cacheFor time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	groups []string
	at     time.Time
}

// NewGraph returns the directory over cfg.Graph.
func NewGraph(cfg Config) (*Graph, error) {
	if cfg.Graph == nil {
		return nil, errors.New("directory: a Graph client is required")
	}
	cacheFor := cfg.CacheFor
	if cacheFor <= 0 {
		cacheFor = 5 * time.Minute
	}
	return &Graph{groups: cfg.Graph, cacheFor: cacheFor, now: time.Now, cache: map[string]cached{}}, nil
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
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	groups, err := g.groups.MemberGroups(ctx, userID)
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
