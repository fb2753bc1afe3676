package graphemu

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestTransitiveGroups(t *testing.T) {
	e, _ := newEmu(t, Options{})
	const (
		gA = "aaaaaaaa-0000-4000-8000-000000000001"
		gB = "aaaaaaaa-0000-4000-8000-000000000002"
		gC = "aaaaaaaa-0000-4000-8000-000000000003"
	)
	e.SetGroups([]Group{
		{ID: gA, DisplayName: "a", Members: []string{alice}},
		{ID: gB, DisplayName: "b", Members: []string{gA}}, // a is nested in b
		{ID: gC, DisplayName: "c", Members: []string{bob}},
	})
	path := "/v1.0/users/" + alice + "/transitiveMemberOf/graph.group"
	page := decode[groupPage](t, call(t, e, http.MethodGet, path+"?%24select=id,displayName&%24top=1", nil), http.StatusOK)
	if len(page.Value) != 1 || page.Value[0].ID != gA || page.Value[0].DisplayName != "a" || page.Value[0].Type != "#microsoft.graph.group" {
		t.Fatalf("first page = %+v", page)
	}
	next, err := url.Parse(page.NextLink)
	if err != nil || page.NextLink == "" {
		t.Fatalf("nextLink %q: %v", page.NextLink, err)
	}
	page = decode[groupPage](t, call(t, e, http.MethodGet, next.RequestURI(), nil), http.StatusOK)
	if len(page.Value) != 1 || page.Value[0].ID != gB || page.NextLink != "" {
		t.Fatalf("second page = %+v", page)
	}
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/alice/transitiveMemberOf/graph.group", nil), http.StatusNotFound, CodeResourceNotFound, "alice")
	wantGraphError(t, call(t, e, http.MethodGet, path+"?%24top=5000", nil), http.StatusBadRequest, CodeBadRequest, "page size")
}

// Groups for the member tests: oncall is nested in sre, sre in oncall
// (a cycle), and both in eng beside alice.
const (
	gEng    = "bbbbbbbb-0000-4000-8000-000000000001"
	gSRE    = "bbbbbbbb-0000-4000-8000-000000000002"
	gOncall = "bbbbbbbb-0000-4000-8000-000000000003"
	gEmpty  = "bbbbbbbb-0000-4000-8000-000000000004"
)

func withGroups(t *testing.T) *Emulator {
	t.Helper()
	e := withUsers(t)
	e.SetGroups([]Group{
		{ID: gEng, DisplayName: "eng", Members: []string{alice, gSRE, strings.ToUpper(bob)}},
		{ID: gSRE, DisplayName: "sre", Members: []string{bob, gOncall}},
		{ID: strings.ToUpper(gOncall), DisplayName: "oncall", Members: []string{carol, gSRE, alice, gone}},
		{ID: gEmpty, DisplayName: "empty"},
	})
	return e
}

type userPage = page[map[string]any]

func pageIDs(p userPage) []string {
	var ids []string
	for _, u := range p.Value {
		id, _ := u["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func TestTransitiveMembersExpandsNestedGroupsOnce(t *testing.T) {
	e := withGroups(t)
	for _, cast := range []string{"graph.user", "microsoft.graph.user"} {
		p := decode[userPage](t, call(t, e, http.MethodGet, "/v1.0/groups/"+strings.ToUpper(gEng)+"/transitiveMembers/"+cast+"?%24select=id,userPrincipalName", nil), http.StatusOK)
		// gone is a member no user of the directory holds: its id only.
		if want := []string{alice, bob, carol, gone}; !slices.Equal(pageIDs(p), want) || p.NextLink != "" {
			t.Fatalf("%s: members %v (next %q), want %v", cast, pageIDs(p), p.NextLink, want)
		}
		if u := p.Value[2]; u["userPrincipalName"] != "Carol@Example.com" || u["@odata.type"] != "#microsoft.graph.user" || len(u) != 3 {
			t.Errorf("%s: carol = %v, want the selected properties typed as a user", cast, u)
		}
		if u := p.Value[3]; u["userPrincipalName"] != nil {
			t.Errorf("%s: unknown member = %v, want its id only", cast, u)
		}
		if !strings.HasSuffix(p.Context, "$metadata#users(id,userPrincipalName)") {
			t.Errorf("@odata.context %q", p.Context)
		}
	}
	p := decode[userPage](t, call(t, e, http.MethodGet, "/v1.0/groups/"+gSRE+"/transitiveMembers/graph.user", nil), http.StatusOK)
	if want := []string{bob, carol, alice, gone}; !slices.Equal(pageIDs(p), want) {
		t.Errorf("sre (in a cycle with oncall): %v, want %v", pageIDs(p), want)
	}
	p = decode[userPage](t, call(t, e, http.MethodGet, "/v1.0/groups/"+gEmpty+"/transitiveMembers/graph.user", nil), http.StatusOK)
	if p.Value == nil || len(p.Value) != 0 {
		t.Errorf("empty group: %+v, want an empty array", p)
	}
}

func TestTransitiveMembersPages(t *testing.T) {
	e := withGroups(t)
	var got []string
	next := "/v1.0/groups/" + gEng + "/transitiveMembers/graph.user?%24select=id&%24top=3"
	pages := 0
	for next != "" {
		p := decode[userPage](t, call(t, e, http.MethodGet, next, nil), http.StatusOK)
		pages++
		got = append(got, pageIDs(p)...)
		next = ""
		if p.NextLink != "" {
			u, err := url.Parse(p.NextLink)
			if err != nil || u.Query().Get("$select") != "id" {
				t.Fatalf("nextLink %q (%v) does not keep the query", p.NextLink, err)
			}
			next = u.RequestURI()
		}
	}
	if want := []string{alice, bob, carol, gone}; !slices.Equal(got, want) || pages != 2 {
		t.Errorf("paged members %v in %d pages, want %v in 2", got, pages, want)
	}
}

func TestTransitiveMembersRefusals(t *testing.T) {
	e := withGroups(t)
	path := "/v1.0/groups/" + gEng + "/transitiveMembers/graph.user"
	for _, top := range []string{"0", "1000", "ten"} {
		wantGraphError(t, call(t, e, http.MethodGet, path+"?%24top="+top, nil), http.StatusBadRequest, CodeBadRequest, "page size")
	}
	wantGraphError(t, call(t, e, http.MethodGet, path+"?%24skiptoken=-1", nil), http.StatusBadRequest, CodeBadRequest, "skiptoken")
	wantGraphError(t, call(t, e, http.MethodGet, path+"?%24select=id,manager", nil), http.StatusBadRequest, CodeMalformedBody, "'manager'")
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/groups/"+gone+"/transitiveMembers/graph.user", nil), http.StatusNotFound, CodeResourceNotFound, gone)
	// A user is not a group.
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/groups/"+alice+"/transitiveMembers/graph.user", nil), http.StatusNotFound, CodeResourceNotFound, alice)
}

func TestTransitiveGroupsOnceUsersAreKnown(t *testing.T) {
	e := withGroups(t)
	p := decode[groupPage](t, call(t, e, http.MethodGet, "/v1.0/users/carol@example.com/transitiveMemberOf/microsoft.graph.group", nil), http.StatusOK)
	var ids []string
	for _, g := range p.Value {
		ids = append(ids, g.ID)
	}
	if want := []string{gEng, gSRE, gOncall}; !slices.Equal(ids, want) {
		t.Errorf("carol's groups by principal name: %v, want %v", ids, want)
	}
	// Any GUID was a user while none were set; now only known ones are.
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+gone+"/transitiveMemberOf/graph.group", nil), http.StatusNotFound, CodeResourceNotFound, gone)
}

func TestDirectoryRoutesTakeFaults(t *testing.T) {
	e := withGroups(t)
	one := 1
	if err := e.InjectFault(Fault{Status: http.StatusTooManyRequests, Count: 1, RetryAfterSeconds: &one, Path: "transitiveMembers/"}); err != nil {
		t.Fatal(err)
	}
	if err := e.InjectFault(Fault{Status: http.StatusServiceUnavailable, Count: 2, Path: "/users/"}); err != nil {
		t.Fatal(err)
	}
	members := "/v1.0/groups/" + gEng + "/transitiveMembers/graph.user"
	w := call(t, e, http.MethodGet, members, nil)
	wantGraphError(t, w, http.StatusTooManyRequests, "TooManyRequests", "injected")
	if w.Header().Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", w.Header().Get("Retry-After"))
	}
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+alice, nil), http.StatusServiceUnavailable, "ServiceUnavailable", "injected")
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+alice+"/manager", nil), http.StatusServiceUnavailable, "ServiceUnavailable", "injected")
	decode[userPage](t, call(t, e, http.MethodGet, members, nil), http.StatusOK)
	decode[map[string]any](t, call(t, e, http.MethodGet, "/v1.0/users/"+alice+"/manager", nil), http.StatusOK)
}

func TestMembershipEdits(t *testing.T) {
	e := withGroups(t)
	members := func(group string) []string {
		t.Helper()
		return pageIDs(decode[userPage](t, call(t, e, http.MethodGet, "/v1.0/groups/"+group+"/transitiveMembers/graph.user", nil), http.StatusOK))
	}
	if err := e.RemoveMember(strings.ToUpper(gOncall), strings.ToUpper(carol)); err != nil {
		t.Fatal(err)
	}
	if got, want := members(gSRE), []string{bob, alice, gone}; !slices.Equal(got, want) {
		t.Errorf("after removing carol from oncall, sre has %v, want %v", got, want)
	}
	if err := e.AddMember(gEmpty, dave); err != nil {
		t.Fatal(err)
	}
	if err := e.AddMember(gEmpty, strings.ToUpper(dave)); err != nil {
		t.Fatal(err)
	}
	if got := members(gEmpty); !slices.Equal(got, []string{dave}) {
		t.Errorf("after adding dave twice: %v", got)
	}
	for _, err := range []error{
		e.RemoveMember(gEmpty, carol), e.RemoveMember(gone, dave), e.AddMember(gone, dave),
		e.AddMember(gEmpty, "dave"), e.AddMember(gEmpty, gEmpty),
	} {
		if err == nil {
			t.Error("a bad membership edit was accepted")
		}
	}
}

func TestGroupsAdmin(t *testing.T) {
	e := withGroups(t)
	g := decode[Group](t, call(t, e, http.MethodPost, "/_emulator/groups", `{"id":"`+strings.ToUpper(gEmpty)+`","displayName":"approvers","members":["`+strings.ToUpper(dave)+`","`+gOncall+`"]}`), http.StatusOK)
	if g.ID != gEmpty || !slices.Equal(g.Members, []string{dave, gOncall}) {
		t.Errorf("POST group answered %+v", g)
	}
	list := decode[collection[Group]](t, call(t, e, http.MethodGet, "/_emulator/groups", nil), http.StatusOK)
	if len(list.Value) != 4 || list.Value[3].DisplayName != "approvers" {
		t.Errorf("GET groups = %+v, want the replaced group in its place", list.Value)
	}
	g = decode[Group](t, call(t, e, http.MethodDelete, "/_emulator/groups/"+gEmpty+"/members/"+strings.ToUpper(dave), nil), http.StatusOK)
	if !slices.Equal(g.Members, []string{gOncall}) {
		t.Errorf("after DELETE dave: %+v", g)
	}
	g = decode[Group](t, call(t, e, http.MethodPost, "/_emulator/groups/"+gEmpty+"/members", `{"id":"`+erin+`"}`), http.StatusOK)
	if !slices.Equal(g.Members, []string{gOncall, erin}) {
		t.Errorf("after POST erin: %+v", g)
	}
	wantGraphError(t, call(t, e, http.MethodDelete, "/_emulator/groups/"+gEmpty+"/members/"+dave, nil), http.StatusNotFound, CodeResourceNotFound, "not a direct member")
	wantGraphError(t, call(t, e, http.MethodDelete, "/_emulator/groups/"+gone+"/members/"+dave, nil), http.StatusNotFound, CodeResourceNotFound, "no such group")
	wantGraphError(t, call(t, e, http.MethodPost, "/_emulator/groups/"+gEmpty+"/members", `{"id":"dave"}`), http.StatusBadRequest, CodeMalformedBody, "id must be")
	wantGraphError(t, call(t, e, http.MethodPost, "/_emulator/groups/"+gEmpty+"/members", `{"member":"`+dave+`"}`), http.StatusBadRequest, CodeMalformedBody, `unknown field "member"`)
	for body, field := range map[string]string{
		`{"id":"eng","displayName":"eng","members":[]}`:                          "id must be",
		`{"id":"` + gEmpty + `","members":[]}`:                                   "displayName is required",
		`{"id":"` + gEmpty + `","displayName":"x","members":["bob"]}`:            "members[0] must be",
		`{"id":"` + gEmpty + `","displayName":"x","members":["` + gEmpty + `"]}`: "members[0]: a group cannot be a member of itself",
		`{"id":"` + gEmpty + `","displayName":"x","owners":[]}`:                  `unknown field "owners"`,
	} {
		wantGraphError(t, call(t, e, http.MethodPost, "/_emulator/groups", body), http.StatusBadRequest, CodeMalformedBody, field)
	}
}
