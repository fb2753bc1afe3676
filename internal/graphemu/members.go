package graphemu

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Routes of group membership. Graph takes the cast segments in the short
// form (graph.group, which msgraph-sdk-go sends) and the long one
// (microsoft.graph.group); both are served.
const (
	// pathTransitiveGroups serves the groups a user belongs to, directly
	// or through other groups. The API reads it when a token has a group
	// overage.
	pathTransitiveGroups     = "v1.0/users/{id}/transitivememberof/graph.group"
	pathTransitiveGroupsLong = "v1.0/users/{id}/transitivememberof/microsoft.graph.group"
	// pathTransitiveUsers serves a group's users, members of nested groups
	// included, each once. Policies read it for group approvers.
	pathTransitiveUsers     = "v1.0/groups/{id}/transitivemembers/graph.user"
	pathTransitiveUsersLong = "v1.0/groups/{id}/transitivemembers/microsoft.graph.user"
)

// Group is a directory group of the emulated tenant.
type Group struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Members are the object ids of its users and of nested groups.
	Members []string `json:"members"`
}

// Graph's paging of directory collections.
const (
	defaultGroupPage = 100
	maxGroupPage     = 999
)

// The directory (users and groups) lives beside the emulator's persisted
// state: it is set up by whoever starts the emulator (from the policy in
// dev, by tests) and through /_emulator, not changed through Graph. Stored
// slices are never changed in place, so a reader may keep the ones it got.

// SetGroups replaces the groups the emulator knows.
// Object ids compare case-insensitively, as in Graph.
func (e *Emulator) SetGroups(groups []Group) {
	out := make([]Group, len(groups))
	for i, g := range groups {
		out[i] = normalGroup(g)
	}
	e.dirMu.Lock()
	defer e.dirMu.Unlock()
	e.dirGroups = out
}

// Groups returns the groups the emulator knows, ids in lower case.
func (e *Emulator) Groups() []Group {
	gs, _ := e.directory()
	return slices.Clone(gs)
}

func normalGroup(g Group) Group {
	out := Group{ID: strings.ToLower(g.ID), DisplayName: g.DisplayName, Members: make([]string, 0, len(g.Members))}
	for _, m := range g.Members {
		out.Members = append(out.Members, strings.ToLower(m))
	}
	return out
}

// validate names the field that is wrong and what is accepted.
func (g Group) validate() error {
	switch {
	case !guidPattern.MatchString(g.ID):
		return fmt.Errorf("id must be the group's object id, a GUID; got %q", g.ID)
	case strings.TrimSpace(g.DisplayName) == "":
		return errors.New("displayName is required")
	}
	for i, m := range g.Members {
		switch {
		case !guidPattern.MatchString(m):
			return fmt.Errorf("members[%d] must be the object id (a GUID) of a user or a group; got %q", i, m)
		case strings.EqualFold(m, g.ID):
			return fmt.Errorf("members[%d]: a group cannot be a member of itself", i)
		}
	}
	return nil
}

// putGroup adds g or replaces the group with its id.
func (e *Emulator) putGroup(g Group) {
	g = normalGroup(g)
	e.dirMu.Lock()
	defer e.dirMu.Unlock()
	gs := slices.Clone(e.dirGroups)
	if i := slices.IndexFunc(gs, func(x Group) bool { return x.ID == g.ID }); i >= 0 {
		gs[i] = g
	} else {
		gs = append(gs, g)
	}
	e.dirGroups = gs
}

// AddMember makes memberID (a user or a group) a direct member of the
// group. Adding a member again changes nothing.
func (e *Emulator) AddMember(groupID, memberID string) error {
	switch {
	case !guidPattern.MatchString(memberID):
		return fmt.Errorf("graph emulator: member id must be the object id (a GUID) of a user or a group; got %q", memberID)
	case strings.EqualFold(groupID, memberID):
		return fmt.Errorf("graph emulator: group %s cannot be a member of itself", groupID)
	}
	return e.editMembers(groupID, memberID, func(members []string, memberID string) ([]string, error) {
		if slices.Contains(members, memberID) {
			return members, nil
		}
		return append(slices.Clone(members), memberID), nil
	})
}

// RemoveMember takes memberID out of the group's direct members.
func (e *Emulator) RemoveMember(groupID, memberID string) error {
	return e.editMembers(groupID, memberID, func(members []string, memberID string) ([]string, error) {
		if !slices.Contains(members, memberID) {
			return nil, fmt.Errorf("graph emulator: %s is not a direct member of group %s: %w", memberID, groupID, errNotMember)
		}
		return slices.DeleteFunc(slices.Clone(members), func(m string) bool { return m == memberID }), nil
	})
}

// Membership edits wrap these when the group, or the member in it, is
// not there.
var (
	errNoGroup   = errors.New("no such group")
	errNotMember = errors.New("no such member")
)

// editMembers replaces the group's members by what edit makes of them;
// both ids are compared in lower case.
func (e *Emulator) editMembers(groupID, memberID string, edit func(members []string, memberID string) ([]string, error)) error {
	groupID, memberID = strings.ToLower(groupID), strings.ToLower(memberID)
	e.dirMu.Lock()
	defer e.dirMu.Unlock()
	i := slices.IndexFunc(e.dirGroups, func(g Group) bool { return g.ID == groupID })
	if i < 0 {
		return fmt.Errorf("graph emulator: group %s: %w", groupID, errNoGroup)
	}
	members, err := edit(e.dirGroups[i].Members, memberID)
	if err != nil {
		return err
	}
	gs := slices.Clone(e.dirGroups)
	gs[i].Members = members
	e.dirGroups = gs
	return nil
}

// directory is the users and groups as they stand.
func (e *Emulator) directory() ([]Group, []User) {
	e.dirMu.RLock()
	defer e.dirMu.RUnlock()
	return e.dirGroups, e.dirUsers
}

// transitiveGroups lists the groups that hold id, directly or through
// nested groups, in the order SetGroups gave them.
func transitiveGroups(groups []Group, id string) []Group {
	in := map[string]bool{id: true}
	for changed := true; changed; {
		changed = false
		for _, g := range groups {
			if in[g.ID] {
				continue
			}
			if slices.ContainsFunc(g.Members, func(m string) bool { return in[m] }) {
				in[g.ID], changed = true, true
			}
		}
	}
	var out []Group
	for _, g := range groups {
		if in[g.ID] && g.ID != id {
			out = append(out, g)
		}
	}
	return out
}

// transitiveUsers lists the ids of the group's users, members of nested
// groups included, each once, in member order with nested groups expanded
// where they stand. A group nested in itself through others is expanded
// once.
func transitiveUsers(groups []Group, groupID string) []string {
	byID := make(map[string]Group, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
	}
	var out []string
	seen := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		seen[id] = true
		for _, m := range byID[id].Members {
			if seen[m] {
				continue
			}
			if _, isGroup := byID[m]; isGroup {
				walk(m)
				continue
			}
			seen[m] = true
			out = append(out, m)
		}
	}
	walk(groupID)
	return out
}

// groupJSON is a group as Graph answers it with $select=id,displayName.
type groupJSON struct {
	Type        string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// page is one page of a directory collection.
type page[T any] struct {
	Context  string `json:"@odata.context"`
	NextLink string `json:"@odata.nextLink,omitempty"`
	Value    []T    `json:"value"`
}

type groupPage = page[groupJSON]

// paging reads $top (1 to 999, default 100) and the $skiptoken of a next
// link.
func paging(r *http.Request) (top, skip int, apiErr *apiError) {
	q := r.URL.Query()
	top = defaultGroupPage
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxGroupPage {
			return 0, 0, badRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, maxGroupPage)
		}
		top = n
	}
	if v := q.Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, badRequest("Invalid $skiptoken '%s'.", v)
		}
		skip = n
	}
	return top, skip, nil
}

// pageOf cuts the page [skip, skip+top) out of all, with a next link to
// the rest when there is more.
func pageOf[T any](r *http.Request, context string, all []T, top, skip int) page[T] {
	p := page[T]{Context: context, Value: []T{}}
	if skip < len(all) {
		p.Value = append(p.Value, all[skip:min(skip+top, len(all))]...)
	}
	if skip+top < len(all) {
		next := *r.URL
		next.Scheme, next.Host = "http", r.Host
		if r.TLS != nil {
			next.Scheme = "https"
		}
		nq := next.Query()
		nq.Set("$skiptoken", strconv.Itoa(skip+top))
		next.RawQuery = nq.Encode()
		p.NextLink = next.String()
	}
	return p
}

// listTransitiveGroups answers a page of a user's groups. Once users are
// set, an unknown user is a 404 as in Graph; before, any GUID is taken for
// a user (one in no group gets an empty list).
func (e *Emulator) listTransitiveGroups(w http.ResponseWriter, r *http.Request, id string) {
	groups, users := e.directory()
	userID := strings.ToLower(id)
	if len(users) > 0 {
		u, ok := findUser(users, id)
		if !ok {
			e.writeError(w, notFound(id))
			return
		}
		userID = u.ID
	} else if !isGUID(id) {
		e.writeError(w, notFound(id))
		return
	}
	top, skip, apiErr := paging(r)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	var all []groupJSON
	for _, g := range transitiveGroups(groups, userID) {
		all = append(all, groupJSON{Type: "#microsoft.graph.group", ID: g.ID, DisplayName: g.DisplayName})
	}
	writeJSON(w, http.StatusOK, pageOf(r, odataContext(r, "groups(id,displayName)"), all, top, skip))
}

// listTransitiveUsers answers a page of a group's users, nested groups
// expanded. A member that is not a known user is answered with its id
// only, as the groups of `jitflow dev` name users the emulator may not
// hold.
func (e *Emulator) listTransitiveUsers(w http.ResponseWriter, r *http.Request, id string) {
	groups, users := e.directory()
	groupID := strings.ToLower(id)
	if !slices.ContainsFunc(groups, func(g Group) bool { return g.ID == groupID }) {
		e.writeError(w, notFound(id))
		return
	}
	fields, apiErr := selectedUserFields(r)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	top, skip, apiErr := paging(r)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	var all []map[string]any
	for _, uid := range transitiveUsers(groups, groupID) {
		u, ok := findUser(users, uid)
		if !ok {
			u = User{ID: uid}
		}
		all = append(all, userJSON(u, fields, true))
	}
	writeJSON(w, http.StatusOK, pageOf(r, odataContext(r, usersContext(r)), all, top, skip))
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}
