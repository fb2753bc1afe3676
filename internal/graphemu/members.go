package graphemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// pathTransitiveGroups serves GET /users/{id}/transitiveMemberOf/graph.group:
// the groups a user belongs to, directly or through other groups. The API
// reads it when a token has a group overage. Graph also takes the long cast
// "microsoft.graph.group"; msgraph-sdk-go sends the short one served here.
const pathTransitiveGroups = "v1.0/users/{id}/transitivememberof/graph.group"

// Group is a directory group of the emulated tenant.
type Group struct {
	ID          string
	DisplayName string
	// Members are the object ids of its users and of nested groups.
	Members []string
}

// Graph's paging of directory collections.
const (
	defaultGroupPage = 100
	maxGroupPage     = 999
)

// groupSets holds each emulator's groups. They live beside the emulator
// rather than in its persisted state: they are set up by whoever starts it
// (from the policy directory in dev), not changed through Graph.
var groupSets sync.Map // *Emulator -> []Group

// SetGroups replaces the groups the emulator knows.
// Object ids compare case-insensitively, as in Graph.
func (e *Emulator) SetGroups(groups []Group) {
	out := make([]Group, len(groups))
	for i, g := range groups {
		out[i] = Group{ID: strings.ToLower(g.ID), DisplayName: g.DisplayName}
		for _, m := range g.Members {
			out[i].Members = append(out[i].Members, strings.ToLower(m))
		}
	}
	groupSets.Store(e, out)
}

func (e *Emulator) groups() []Group {
	g, _ := groupSets.Load(e)
	gs, _ := g.([]Group)
	return gs
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

// groupJSON is a group as Graph answers it with $select=id,displayName.
type groupJSON struct {
	Type        string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type groupPage struct {
	Context  string      `json:"@odata.context"`
	NextLink string      `json:"@odata.nextLink,omitempty"`
	Value    []groupJSON `json:"value"`
}

// listTransitiveGroups answers a page of a user's groups. The emulator
// knows groups, not users: any GUID is taken for a user (one in no group
// gets an empty list); anything else is a 404 as in Graph.
func (e *Emulator) listTransitiveGroups(w http.ResponseWriter, r *http.Request, id string) {
	if !isGUID(id) {
		e.writeError(w, notFound(id))
		return
	}
	q := r.URL.Query()
	top := defaultGroupPage
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxGroupPage {
			e.writeError(w, badRequest("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, maxGroupPage))
			return
		}
		top = n
	}
	skip := 0
	if v := q.Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			e.writeError(w, badRequest("Invalid $skiptoken '%s'.", v))
			return
		}
		skip = n
	}
	all := transitiveGroups(e.groups(), strings.ToLower(id))
	page := groupPage{Context: odataContext(r, "groups(id,displayName)"), Value: []groupJSON{}}
	for i := skip; i < len(all) && i < skip+top; i++ {
		page.Value = append(page.Value, groupJSON{Type: "#microsoft.graph.group", ID: all[i].ID, DisplayName: all[i].DisplayName})
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
		page.NextLink = next.String()
	}
	writeJSON(w, http.StatusOK, page)
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
