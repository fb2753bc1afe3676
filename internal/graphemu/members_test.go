package graphemu

import (
	"net/http"
	"net/url"
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
