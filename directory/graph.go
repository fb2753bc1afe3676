// Package directory answers what jitflow's policies ask of Microsoft Entra
// ID (users, the members of groups with nested groups included, managers,
// PIM eligibilities) and the groups of a user whose token left them out (a
// group overage), through the Graph client of package graph, each answer
// cached for a short while.
package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/jitflow/jitflow/freetext"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
)

// Client is what the directory reads from Microsoft Graph; *graph.Client
// is one.
type Client interface {
	User(ctx context.Context, idOrUPN string) (graph.DirectoryUser, error)
	GroupMembers(ctx context.Context, groupID string) ([]graph.DirectoryUser, error)
	MemberGroups(ctx context.Context, userID string) ([]string, error)
	Manager(ctx context.Context, userID string) (graph.DirectoryUser, error)
	Eligible(ctx context.Context, a graph.Assignment) (graph.EligibilityResult, error)
}

// DefaultCacheFor is how long an answer is kept when Config.CacheFor is 0.
const DefaultCacheFor = time.Minute

// Config configures the Graph directory.
type Config struct {
	// Graph reads the directory: as an application with User.Read.All and
	// GroupMember.Read.All, and for eligibilities
	// RoleManagement.Read.Directory and
	// PrivilegedEligibilitySchedule.Read.AzureADGroup.
	Graph Client
	// CacheFor is how long each answer is kept; 0 means DefaultCacheFor.
	// A change in Entra (a member leaving a group, a new manager) reaches
	// jitflow at most this late.
	CacheFor time.Duration
}

// requestTimeout bounds one lookup, retries included: an API request or
// a stage waits for it.
const requestTimeout = 10 * time.Second

// Graph is the directory over Microsoft Graph. Each answer is cached for
// CacheFor, per lookup and argument; lookups of the same key made while
// one is under way share its Graph call. Failures are never cached.
type Graph struct {
	client Client
	cache  cache
}

var _ policies.Directory = (*Graph)(nil)

// NewGraph returns the directory over cfg.Graph.
func NewGraph(cfg Config) (*Graph, error) {
	switch {
	case cfg.Graph == nil:
		return nil, errors.New("directory: a Graph client is required")
	case cfg.CacheFor < 0:
		return nil, fmt.Errorf("directory: CacheFor must be positive, or 0 for the default %s; got %s", DefaultCacheFor, cfg.CacheFor)
	}
	cacheFor := cfg.CacheFor
	if cacheFor == 0 {
		cacheFor = DefaultCacheFor
	}
	return &Graph{client: cfg.Graph, cache: newCache(cacheFor, time.Now)}, nil
}

// User finds a user by object id or user principal name.
func (g *Graph) User(ctx context.Context, idOrUPN string) (policies.User, error) {
	what := "user " + idOrUPN
	return lookup(ctx, &g.cache, "user\x00"+strings.ToLower(idOrUPN), func(ctx context.Context) (policies.User, error) {
		u, err := g.client.User(ctx, idOrUPN)
		if err != nil {
			return policies.User{}, lookupError(what, permUser, err, policies.ErrNotInDirectory)
		}
		return user(u)
	})
}

// GroupMembers lists the users of a group, members of nested groups
// included, each once.
func (g *Graph) GroupMembers(ctx context.Context, groupID string) ([]policies.User, error) {
	what := "the members of group " + groupID
	members, err := lookup(ctx, &g.cache, "members\x00"+strings.ToLower(groupID), func(ctx context.Context) ([]policies.User, error) {
		us, err := g.client.GroupMembers(ctx, groupID)
		if err != nil {
			return nil, lookupError(what, permMembers, err, policies.ErrNotInDirectory)
		}
		out := make([]policies.User, 0, len(us))
		for _, u := range us {
			// A member jitflow could not name safely is never asked: a
			// group of only such members is a group with nobody to ask.
			if p, err := user(u); err == nil {
				out = append(out, p)
			}
		}
		return out, nil
	})
	return slices.Clone(members), err
}

// MemberGroups returns the object ids and display names of every group the
// user belongs to, directly or through nested groups.
func (g *Graph) MemberGroups(ctx context.Context, userID string) ([]string, error) {
	what := "the groups of user " + userID
	groups, err := lookup(ctx, &g.cache, "groups\x00"+strings.ToLower(userID), func(ctx context.Context) ([]string, error) {
		groups, err := g.client.MemberGroups(ctx, userID)
		if err != nil {
			return nil, lookupError(what, permGroups, err, policies.ErrNotInDirectory)
		}
		return groups, nil
	})
	return slices.Clone(groups), err
}

// Manager returns the user's manager.
func (g *Graph) Manager(ctx context.Context, userID string) (policies.User, error) {
	what := "the manager of user " + userID
	return lookup(ctx, &g.cache, "manager\x00"+strings.ToLower(userID), func(ctx context.Context) (policies.User, error) {
		m, err := g.client.Manager(ctx, userID)
		if err != nil {
			return policies.User{}, lookupError(what, permUser, err, policies.ErrNoManager)
		}
		return user(m)
	})
}

// Eligible reports whether the user holds a PIM eligibility in effect for
// the role's target: its directory role at its scope, or its access to its
// group.
func (g *Graph) Eligible(ctx context.Context, userID string, role *policies.Role) (bool, error) {
	if role == nil {
		return false, errors.New("directory: an eligibility lookup needs a role")
	}
	a := graph.Assignment{PrincipalID: userID, RoleDefinitionID: role.RoleDefinitionID, DirectoryScopeID: role.DirectoryScopeID,
		GroupID: role.GroupID, AccessID: role.GroupAccess}
	what := fmt.Sprintf("the PIM eligibility of user %s for %s", userID, a.TargetString())
	key := strings.ToLower(strings.Join([]string{"eligible", userID, a.RoleDefinitionID, a.DirectoryScopeID, a.GroupID, a.AccessID}, "\x00"))
	return lookup(ctx, &g.cache, key, func(ctx context.Context) (bool, error) {
		res, err := g.client.Eligible(ctx, a)
		if err != nil {
			return false, lookupError(what, permEligibility(a), err, nil)
		}
		return res.Eligible, nil
	})
}

// user is a directory user as policies name people: the object id in
// lower case, and mail going to the UPN when the user has no mailbox.
// What Graph answers travels into workflow history, emails, pages and
// terminals, so it is checked as the policy file's users are: an object
// id that is a GUID, a principal name and a mail address without control
// or bidi characters, each one bare address.
func user(u graph.DirectoryUser) (policies.User, error) {
	email := u.Mail
	if email == "" {
		email = u.UPN
	}
	if !policies.IsObjectID(u.ID) {
		return policies.User{}, fmt.Errorf("Microsoft Graph answered a user whose id %q is not an object id (a GUID)", freetext.EscapeLine(u.ID))
	}
	for _, f := range []struct{ name, v string }{{"userPrincipalName", u.UPN}, {"mail", email}} {
		if err := freetext.Check(f.name, f.v, freetext.SingleLine); err != nil {
			return policies.User{}, fmt.Errorf("Microsoft Graph answered user %s with a %s jitflow cannot show safely: %w", u.ID, f.name, err)
		}
		if a, err := mail.ParseAddress(f.v); err != nil || a.Address != f.v || a.Name != "" {
			return policies.User{}, fmt.Errorf("Microsoft Graph answered user %s with a %s that is not one bare address: %q", u.ID, f.name, freetext.EscapeLine(f.v))
		}
	}
	return policies.User{ID: strings.ToLower(u.ID), UPN: u.UPN, Email: email}, nil
}

// The Graph application permissions each lookup needs, named when Graph
// refuses one.
const (
	permUser    = "User.Read.All"
	permMembers = "GroupMember.Read.All and User.Read.All"
	permGroups  = "GroupMember.Read.All"
)

func permEligibility(a graph.Assignment) string {
	if a.IsGroup() {
		return "PrivilegedEligibilitySchedule.Read.AzureADGroup"
	}
	return "RoleManagement.Read.Directory"
}

// lookupError says what could not be read and why, keeping Graph's error
// in the chain: a 404 becomes notFound (when given), throttling says when
// to retry. Callers must not take any of these for an empty answer.
func lookupError(what, permission string, err, notFound error) error {
	if notFound != nil && graph.IsNotFound(err) {
		return fmt.Errorf("%s: %w (%w)", what, notFound, err)
	}
	var ge *graph.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("Microsoft Graph did not answer the lookup of %s in time: %w", what, err)
	case !errors.As(err, &ge):
		return fmt.Errorf("the lookup of %s failed: %w", what, err)
	case ge.Status == http.StatusTooManyRequests:
		retry := "shortly"
		if ge.RetryAfter > 0 {
			retry = "after " + ge.RetryAfter.String()
		}
		return fmt.Errorf("Microsoft Graph throttled the lookup of %s; retry %s: %w", what, retry, err)
	case ge.Status == 0 || ge.Status >= http.StatusInternalServerError:
		return fmt.Errorf("Microsoft Graph could not answer the lookup of %s; retry shortly: %w", what, err)
	case ge.Status == http.StatusUnauthorized || ge.Status == http.StatusForbidden:
		return fmt.Errorf("Microsoft Graph refused the lookup of %s: jitflow's credential needs the application permission %s: %w", what, permission, err)
	}
	return fmt.Errorf("Microsoft Graph refused the lookup of %s: %w", what, err)
}
