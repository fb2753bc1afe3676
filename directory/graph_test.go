package directory

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitflow/jitflow/internal/graphemu"
)

const (
	alice   = "11111111-1111-4111-8111-000000000001"
	erin    = "11111111-1111-4111-8111-000000000005"
	gEng    = "22222222-2222-4222-8222-000000000001"
	gOncall = "22222222-2222-4222-8222-000000000002"
	gSRE    = "22222222-2222-4222-8222-000000000003"
)

// emulated serves the Graph emulator with a few groups (oncall nested in
// SRE) and counts the group lookups.
func emulated(t *testing.T) (*Graph, *graphemu.Emulator, *atomic.Int32) {
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
	g, err := NewGraph(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return g, emu, &hits
}

func TestMemberGroups(t *testing.T) {
	g, _, _ := emulated(t)
	ctx := context.Background()
	tests := []struct {
		user string
		want []string
	}{
		{alice, []string{gEng, "engineers"}},
		{erin, []string{gEng, "engineers", gOncall, "oncall", gSRE, "sre"}},
		{"33333333-3333-4333-8333-000000000009", nil},
	}
	for _, tt := range tests {
		got, err := g.MemberGroups(ctx, tt.user)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: groups %v, want %v", tt.user, got, tt.want)
		}
	}
}

func TestMemberGroupsPages(t *testing.T) {
	g, _, hits := emulated(t)
	g.pageSize = 2
	got, err := g.MemberGroups(context.Background(), erin)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || hits.Load() != 2 {
		t.Errorf("groups %v in %d calls, want 6 names and ids in 2 pages", got, hits.Load())
	}
}

func TestMemberGroupsCache(t *testing.T) {
	g, emu, hits := emulated(t)
	now := time.Now()
	g.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if _, err := g.MemberGroups(ctx, alice); err != nil {
			t.Fatal(err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d Graph calls for three lookups within the cache time, want 1", hits.Load())
	}
	now = now.Add(6 * time.Minute)
	if err := emu.InjectFault(graphemu.Fault{Status: http.StatusForbidden, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.MemberGroups(ctx, alice); err == nil || !strings.Contains(err.Error(), alice) {
		t.Errorf("err = %v, want a Graph error naming the user", err)
	}
	if got, err := g.MemberGroups(ctx, alice); err != nil || len(got) != 2 {
		t.Errorf("after the fault: %v, %v", got, err)
	}
}

func TestNewGraphConfig(t *testing.T) {
	for _, u := range []string{"", "graph.microsoft.com", "http://graph.microsoft.com", "https://graph.microsoft.com", "ftp://127.0.0.1"} {
		if _, err := NewGraph(Config{BaseURL: u}); err == nil {
			t.Errorf("BaseURL %q without a credential accepted", u)
		}
	}
}
