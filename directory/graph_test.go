package directory

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/internal/testclock"
	"github.com/jitflow/jitflow/policies"
)

// The directory of the tests: carol manages bob, who manages alice; dave
// has no mailbox and no manager. sre is nested in eng and eng in sre.
const (
	alice  = "11111111-1111-4111-8111-000000000001"
	bob    = "11111111-1111-4111-8111-000000000002"
	carol  = "11111111-1111-4111-8111-000000000003"
	dave   = "11111111-1111-4111-8111-000000000004"
	gEng   = "22222222-2222-4222-8222-000000000001"
	gSRE   = "22222222-2222-4222-8222-000000000002"
	nobody = "00000000-0000-4000-8000-00000000dead"
	reader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451" // Global Reader
)

var (
	uAlice = policies.User{ID: alice, UPN: "alice@example.com", Email: "alice@mail.example.com"}
	uBob   = policies.User{ID: bob, UPN: "bob@example.com", Email: "bob@mail.example.com"}
	uCarol = policies.User{ID: carol, UPN: "carol@example.com", Email: "carol@mail.example.com"}
	uDave  = policies.User{ID: dave, UPN: "dave@example.com", Email: "dave@example.com"}
)

// env is the directory over the real Graph client and the emulator, with
// the Graph calls counted by kind.
type env struct {
	dir   *Graph
	emu   *graphemu.Emulator
	clock *testclock.Clock

	mu   sync.Mutex
	hits map[string]int
	// gate, when set, holds group member calls until it closes.
	gate chan struct{}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu, err := graphemu.New(graphemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	err = emu.SetUsers([]graphemu.User{
		{ID: strings.ToUpper(alice), DisplayName: "Alice", UPN: "alice@example.com", Mail: "alice@mail.example.com", ManagerID: bob},
		{ID: bob, DisplayName: "Bob", UPN: "bob@example.com", Mail: "bob@mail.example.com", ManagerID: carol},
		{ID: carol, DisplayName: "Carol", UPN: "carol@example.com", Mail: "carol@mail.example.com"},
		{ID: dave, DisplayName: "Dave", UPN: "dave@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	emu.SetGroups([]graphemu.Group{
		{ID: gEng, DisplayName: "eng", Members: []string{alice, gSRE}},
		{ID: gSRE, DisplayName: "sre", Members: []string{bob, gEng, dave, alice}},
	})
	e := &env{emu: emu, clock: testclock.New(time.Now()), hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := callKind(r.URL.Path)
		e.mu.Lock()
		e.hits[kind]++
		gate := e.gate
		e.mu.Unlock()
		if gate != nil && kind == "members" {
			<-gate
		}
		emu.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	// A Retry-After beyond a second comes back at once.
	gc, err := graph.New(graph.Config{BaseURL: srv.URL, MaxRetryWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.dir, err = NewGraph(Config{Graph: gc})
	if err != nil {
		t.Fatal(err)
	}
	e.dir.cache.now = e.clock.Now
	return e
}

func callKind(path string) string {
	p := strings.ToLower(path)
	switch {
	case strings.Contains(p, "/transitivemembers/"):
		return "members"
	case strings.Contains(p, "/transitivememberof/"):
		return "groups"
	case strings.HasSuffix(p, "/manager"):
		return "manager"
	case strings.Contains(p, "eligibilityscheduleinstances"):
		return "eligibility"
	case strings.HasPrefix(p, "/v1.0/users/"):
		return "user"
	}
	return p
}

func (e *env) calls(kind string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits[kind]
}

func (e *env) fault(t *testing.T, f graphemu.Fault) {
	t.Helper()
	if err := e.emu.InjectFault(f); err != nil {
		t.Fatal(err)
	}
}

var (
	readerRole   = &policies.Role{Name: "reader", RoleDefinitionID: reader, DirectoryScopeID: "/"}
	engOwnerRole = &policies.Role{Name: "eng-owner", GroupID: gEng, GroupAccess: policies.GroupOwner}
)

// lookups are one of each lookup and what it answers.
var lookups = []struct {
	kind, name string
	run        func(d *Graph) (any, error)
	want       any
}{
	{"user", "user by id", func(d *Graph) (any, error) { return d.User(context.Background(), strings.ToUpper(alice)) }, uAlice},
	{"user", "user by principal name", func(d *Graph) (any, error) { return d.User(context.Background(), "Dave@Example.com") }, uDave},
	{"members", "group members", func(d *Graph) (any, error) { return d.GroupMembers(context.Background(), gSRE) }, []policies.User{uBob, uAlice, uDave}},
	{"groups", "member groups", func(d *Graph) (any, error) { return d.MemberGroups(context.Background(), dave) }, []string{gEng, "eng", gSRE, "sre"}},
	{"manager", "manager", func(d *Graph) (any, error) { return d.Manager(context.Background(), bob) }, uCarol},
	{"eligibility", "eligibility for a role", func(d *Graph) (any, error) { return d.Eligible(context.Background(), alice, readerRole) }, true},
	{"eligibility", "eligibility for a group", func(d *Graph) (any, error) { return d.Eligible(context.Background(), bob, engOwnerRole) }, true},
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

func TestLookupsAreCachedForCacheFor(t *testing.T) {
	for _, l := range lookups {
		t.Run(l.name, func(t *testing.T) {
			e := newEnv(t)
			for _, target := range []graphemu.Target{
				{PrincipalID: alice, RoleDefinitionID: reader, DirectoryScopeID: "/"},
				{PrincipalID: bob, GroupID: gEng, AccessID: "owner"},
			} {
				if _, err := e.emu.SeedEligibility(target); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				got, err := l.run(e.dir)
				if err != nil || !equal(got, l.want) {
					t.Fatalf("lookup %d: %v, %v; want %v", i, got, err, l.want)
				}
				if i == 1 {
					e.clock.Advance(DefaultCacheFor - time.Second)
				}
			}
			if n := e.calls(l.kind); n != 1 {
				t.Fatalf("%d Graph calls for three lookups within a minute, want 1", n)
			}
			e.clock.Advance(time.Second)
			if got, err := l.run(e.dir); err != nil || !equal(got, l.want) {
				t.Fatalf("after CacheFor: %v, %v", got, err)
			}
			if n := e.calls(l.kind); n != 2 {
				t.Errorf("%d Graph calls after CacheFor, want the answer read again", n)
			}
		})
	}
}

func TestCacheIsPerLookupAndArgument(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, id := range []string{alice, bob, alice, strings.ToUpper(bob)} {
		if _, err := e.dir.User(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.dir.Manager(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if eligible, err := e.dir.Eligible(ctx, alice, engOwnerRole); err != nil || eligible {
		t.Fatalf("alice eligible for eng ownership: %v, %v; want false", eligible, err)
	}
	if eligible, err := e.dir.Eligible(ctx, alice, readerRole); err != nil || eligible {
		t.Fatalf("alice eligible for reader: %v, %v; want false (no eligibility seeded)", eligible, err)
	}
	if u, m, el := e.calls("user"), e.calls("manager"), e.calls("eligibility"); u != 2 || m != 1 || el != 2 {
		t.Errorf("calls: %d user, %d manager, %d eligibility; want 2, 1 and 2", u, m, el)
	}
	if len(e.dir.cache.entries) != 5 {
		t.Errorf("cache holds %d entries, want 5", len(e.dir.cache.entries))
	}
	// Expired entries go when the next answer is kept.
	e.clock.Advance(DefaultCacheFor)
	if _, err := e.dir.User(ctx, carol); err != nil {
		t.Fatal(err)
	}
	if len(e.dir.cache.entries) != 1 {
		t.Errorf("cache holds %d entries after they expired, want only the new one", len(e.dir.cache.entries))
	}
}

func TestAnswersAreCopies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	members, err := e.dir.GroupMembers(ctx, gEng)
	if err != nil {
		t.Fatal(err)
	}
	members[0].ID = "changed"
	again, err := e.dir.GroupMembers(ctx, gEng)
	if err != nil || again[0].ID != alice {
		t.Errorf("a caller's change reached the cache: %+v, %v", again, err)
	}
}

func TestNestedMembersOnce(t *testing.T) {
	e := newEnv(t)
	got, err := e.dir.GroupMembers(context.Background(), strings.ToUpper(gEng))
	if want := []policies.User{uAlice, uBob, uDave}; err != nil || !equal(got, want) {
		t.Errorf("members of eng (sre nested, and eng in sre) = %+v, %v; want %+v", got, err, want)
	}
	if err := e.emu.RemoveMember(gSRE, bob); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(DefaultCacheFor)
	got, err = e.dir.GroupMembers(context.Background(), gEng)
	if want := []policies.User{uAlice, uDave}; err != nil || !equal(got, want) {
		t.Errorf("after bob left sre: %+v, %v; want %+v", got, err, want)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.dir.User(ctx, "nobody@example.com")
	wantErr(t, err, policies.ErrNotInDirectory, "user nobody@example.com: not in the directory")
	_, err = e.dir.GroupMembers(ctx, nobody)
	wantErr(t, err, policies.ErrNotInDirectory, "the members of group "+nobody+": not in the directory")
	_, err = e.dir.MemberGroups(ctx, nobody)
	wantErr(t, err, policies.ErrNotInDirectory, "the groups of user "+nobody)
	_, err = e.dir.Manager(ctx, carol)
	wantErr(t, err, policies.ErrNoManager, "the manager of user "+carol+": no manager")
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != "Request_ResourceNotFound" {
		t.Errorf("Graph's error left the chain: %v", err)
	}
	// Failures are not kept: each lookup asked Graph.
	_, err = e.dir.Manager(ctx, carol)
	wantErr(t, err, policies.ErrNoManager, "no manager")
	if n := e.calls("manager"); n != 2 {
		t.Errorf("%d manager calls, want 2 (a failure is never cached)", n)
	}
}

func wantErr(t *testing.T, err, is error, text string) {
	t.Helper()
	if !errors.Is(err, is) || !strings.Contains(err.Error(), text) {
		t.Errorf("error %v; want %v saying %q", err, is, text)
	}
}

func TestGraphFailuresAreErrorsNotEmptyAnswers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	three, zero := 3, 0
	e.fault(t, graphemu.Fault{Status: http.StatusTooManyRequests, Count: 1, RetryAfterSeconds: &three, Path: "/transitiveMembers/"})
	members, err := e.dir.GroupMembers(ctx, gEng)
	want := "Microsoft Graph throttled the lookup of the members of group " + gEng + "; retry after 3s"
	var ge *graph.Error
	if members != nil || err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &ge) || ge.RetryAfter != 3*time.Second {
		t.Fatalf("throttled GroupMembers = %v, %v; want no members and an error starting %q", members, err, want)
	}
	if errors.Is(err, policies.ErrNotInDirectory) {
		t.Errorf("throttling read as a missing group: %v", err)
	}

	e.fault(t, graphemu.Fault{Status: http.StatusServiceUnavailable, Count: 6, RetryAfterSeconds: &zero, Path: "/manager"})
	_, err = e.dir.Manager(ctx, alice)
	wantText(t, err, "Microsoft Graph could not answer the lookup of the manager of user "+alice+"; retry shortly")
	if errors.Is(err, policies.ErrNoManager) {
		t.Errorf("an outage read as no manager: %v", err)
	}

	e.fault(t, graphemu.Fault{Status: http.StatusForbidden, Count: 1, Path: "/users/"})
	_, err = e.dir.User(ctx, alice)
	wantText(t, err, "Microsoft Graph refused the lookup of user "+alice+": jitflow's credential needs the application permission User.Read.All")

	e.fault(t, graphemu.Fault{Status: http.StatusForbidden, Count: 1, Path: "/transitiveMemberOf/"})
	groups, err := e.dir.MemberGroups(ctx, alice)
	if groups != nil {
		t.Errorf("refused MemberGroups answered %v", groups)
	}
	wantText(t, err, "needs the application permission GroupMember.Read.All")

	// Nothing failed was kept: the next lookups read Graph and answer.
	if got, err := e.dir.GroupMembers(ctx, gEng); err != nil || len(got) != 3 {
		t.Errorf("GroupMembers after the fault: %v, %v", got, err)
	}
	if got, err := e.dir.Manager(ctx, alice); err != nil || !equal(got, uBob) {
		t.Errorf("Manager after the faults: %v, %v", got, err)
	}
}

func wantText(t *testing.T, err error, text string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), text) {
		t.Errorf("error %v; want it to say %q", err, text)
	}
}

// waitFor waits until n lookups wait for the call of key.
func waitFor(t *testing.T, c *cache, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		f := c.flights[key]
		waiting := 0
		if f != nil {
			waiting = f.waiting
		}
		c.mu.Unlock()
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lookups wait for %q, want %d", waiting, key, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConcurrentLookupsShareOneCall(t *testing.T) {
	e := newEnv(t)
	e.gate = make(chan struct{})
	const n = 5
	results := make(chan error, n)
	for range n {
		go func() {
			got, err := e.dir.GroupMembers(context.Background(), gEng)
			if err == nil && len(got) != 3 {
				err = errors.New("wrong members")
			}
			results <- err
		}()
	}
	waitFor(t, &e.dir.cache, "members\x00"+gEng, n)
	close(e.gate)
	for range n {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if c := e.calls("members"); c != 1 {
		t.Errorf("%d Graph calls for %d concurrent lookups, want 1", c, n)
	}
}

func TestCallerGivingUpDoesNotFailTheCall(t *testing.T) {
	e := newEnv(t)
	e.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.dir.GroupMembers(ctx, gEng)
		done <- err
	}()
	waitFor(t, &e.dir.cache, "members\x00"+gEng, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled lookup returned %v", err)
	}
	close(e.gate)
	got, err := e.dir.GroupMembers(context.Background(), gEng)
	if err != nil || len(got) != 3 {
		t.Fatalf("lookup after the cancelled one: %v, %v", got, err)
	}
	if c := e.calls("members"); c != 1 {
		t.Errorf("%d Graph calls, want the one the cancelled lookup started", c)
	}
}

func TestNewGraphRefusesBadConfig(t *testing.T) {
	if _, err := NewGraph(Config{}); err == nil || !strings.Contains(err.Error(), "Graph client is required") {
		t.Errorf("no client: %v", err)
	}
	e := newEnv(t)
	if _, err := NewGraph(Config{Graph: e.dir.client, CacheFor: -time.Second}); err == nil || !strings.Contains(err.Error(), "CacheFor must be positive") {
		t.Errorf("negative CacheFor: %v", err)
	}
	d, err := NewGraph(Config{Graph: e.dir.client, CacheFor: 5 * time.Second})
	if err != nil || d.cache.ttl != 5*time.Second {
		t.Errorf("CacheFor 5s: %v", err)
	}
	if e.dir.cache.ttl != DefaultCacheFor {
		t.Errorf("default CacheFor %s, want %s", e.dir.cache.ttl, DefaultCacheFor)
	}
	if _, err := e.dir.Eligible(context.Background(), alice, nil); err == nil {
		t.Error("an eligibility lookup without a role was accepted")
	}
}
