package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jitflow/jitflow/internal/graphemu"
)

const (
	alice   = "11111111-1111-4111-8111-000000000001"
	erin    = "11111111-1111-4111-8111-000000000005"
	gEng    = "22222222-2222-4222-8222-000000000001"
	gOncall = "22222222-2222-4222-8222-000000000002"
	gSRE    = "22222222-2222-4222-8222-000000000003"
)

// groupsEmulated is a client of the emulator holding a few groups (oncall
// nested in SRE); it counts the group lookups.
func groupsEmulated(t *testing.T) (*Client, *atomic.Int32) {
	t.Helper()
	emu, err := graphemu.New(graphemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	emu.SetGroups([]graphemu.Group{
		{ID: gEng, DisplayName: "engineers", Members: []string{alice, erin}},
		{ID: gOncall, DisplayName: "oncall", Members: []string{strings.ToUpper(erin)}},
		{ID: gSRE, DisplayName: "sre", Members: []string{gOncall}},
	})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(strings.ToLower(r.URL.Path), "transitivememberof") {
			hits.Add(1)
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c, &hits
}

func TestMemberGroups(t *testing.T) {
	c, _ := groupsEmulated(t)
	tests := []struct {
		user string
		want []string
	}{
		{alice, []string{gEng, "engineers"}},
		{erin, []string{gEng, "engineers", gOncall, "oncall", gSRE, "sre"}},
		{"33333333-3333-4333-8333-000000000009", nil},
	}
	for _, tt := range tests {
		got, err := c.MemberGroups(context.Background(), tt.user)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: groups %v, want %v", tt.user, got, tt.want)
		}
	}
}

func TestMemberGroupsPages(t *testing.T) {
	c, hits := groupsEmulated(t)
	c.groupPageSize = 2
	got, err := c.MemberGroups(context.Background(), erin)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{gEng, "engineers", gOncall, "oncall", gSRE, "sre"}
	if !slices.Equal(got, want) || hits.Load() != 2 {
		t.Errorf("groups %v in %d calls, want %v in 2 pages", got, hits.Load(), want)
	}
}

// answering is a client of a server that always answers status and body.
func answering(t *testing.T, status int, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestManagerMustBeAUser(t *testing.T) {
	c := answering(t, http.StatusOK, `{"@odata.type":"#microsoft.graph.orgContact","id":"`+erin+`","displayName":"Contractor"}`)
	_, err := c.Manager(context.Background(), alice)
	if err == nil || !strings.Contains(err.Error(), "#microsoft.graph.orgContact, not a user") || IsNotFound(err) {
		t.Errorf("a contact as manager: %v; want an error saying it is not a user", err)
	}
}

func TestDirectoryReadsNeedAnID(t *testing.T) {
	c := answering(t, http.StatusOK, `{}`)
	ctx := context.Background()
	if _, err := c.User(ctx, ""); err == nil || !strings.Contains(err.Error(), "object id or principal name is required") {
		t.Errorf("User(\"\"): %v", err)
	}
	if _, err := c.GroupMembers(ctx, ""); err == nil || !strings.Contains(err.Error(), "group object id is required") {
		t.Errorf("GroupMembers(\"\"): %v", err)
	}
	if _, err := c.Manager(ctx, ""); err == nil || !strings.Contains(err.Error(), "user object id is required") {
		t.Errorf("Manager(\"\"): %v", err)
	}
}

func TestIsNotFound(t *testing.T) {
	c := answering(t, http.StatusNotFound, `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist or one of its queried reference-property objects are not present."}}`)
	_, err := c.User(context.Background(), "x@example.com")
	if !IsNotFound(err) || !IsNotFound(fmt.Errorf("wrapped: %w", err)) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	if !strings.Contains(err.Error(), "graph read user x@example.com: HTTP 404 Request_ResourceNotFound") {
		t.Errorf("error %q does not say what was read and what Graph answered", err)
	}
	for _, other := range []error{&Error{Status: http.StatusForbidden}, errors.New("HTTP 404"), nil} {
		if IsNotFound(other) {
			t.Errorf("IsNotFound(%v) = true", other)
		}
	}
}
