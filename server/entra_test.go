package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// Entra groups of these tests.
const (
	engineersID = "aaaaaaaa-0000-4000-8000-000000000001"
	leadsID     = "aaaaaaaa-0000-4000-8000-000000000002"
)

// entraDirectory is a directory whose groups the test changes; down
// makes every lookup fail as Graph does when throttled or out.
type entraDirectory struct {
	mu     sync.Mutex
	groups map[string][]string // group id -> member ids
	down   atomic.Bool
}

var errGraphDown = errors.New("Microsoft Graph throttled the lookup (429); retry after 5s")

func (d *entraDirectory) User(_ context.Context, id string) (policies.User, error) {
	return policies.User{}, policies.ErrNotInDirectory
}

func (d *entraDirectory) GroupMembers(_ context.Context, g string) ([]policies.User, error) {
	if d.down.Load() {
		return nil, errGraphDown
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []policies.User
	for _, id := range d.groups[g] {
		out = append(out, policies.User{ID: id})
	}
	return out, nil
}

func (d *entraDirectory) MemberGroups(_ context.Context, user string) ([]string, error) {
	if d.down.Load() {
		return nil, errGraphDown
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for g, members := range d.groups {
		if slices.Contains(members, user) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (d *entraDirectory) Manager(context.Context, string) (policies.User, error) {
	return policies.User{}, policies.ErrNoManager
}

func (d *entraDirectory) Eligible(context.Context, string, *policies.Role) (bool, error) {
	return false, nil
}

func (d *entraDirectory) remove(group, member string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.groups[group] = slices.DeleteFunc(d.groups[group], func(m string) bool { return m == member })
}

// entraReader is the dev policy with reader requested by an Entra group
// and approved by another.
func entraReader(t *testing.T) *policies.Policy {
	t.Helper()
	p := policies.Dev()
	r, _ := p.Role("reader")
	r.Requesters = policies.Subjects{GroupIDs: []string{engineersID}}
	r.Stages = []policies.Stage{{Name: "leads", Approvals: 1, Tiers: []policies.Tier{
		{Approvers: policies.Subjects{GroupIDs: []string{leadsID}}, Timeout: r.Stages[0].Tiers[0].Timeout},
	}}}
	return p
}

// swappable is a policy source a test replaces, as a reload would.
type swappable struct {
	p atomic.Pointer[policies.Policy]
}

func (s *swappable) Current() *policies.Policy { return s.p.Load() }

// Requesters and approvers named by Entra group: the plan carries the
// group for the workflow to resolve when the stage starts; a directory
// that cannot answer is a 503 that names it, never a refusal and never an
// empty approver list; someone removed from the group since may not
// decide; a replaced policy applies to the next request.
func TestEntraGroupsThroughTheAPI(t *testing.T) {
	dir := &entraDirectory{groups: map[string][]string{engineersID: {aliceID}, leadsID: {bobID, carolID}}}
	src := &swappable{}
	src.p.Store(entraReader(t))
	e := newEnvWith(t, src.Current(), func(c *Config) { c.Directory, c.Policies = dir, src })

	dir.down.Store(true)
	r := e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody)
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "problem detail", r.problem(t).Detail, "directory (Microsoft Graph)", "try again")
	if n := len(e.temporal.starts); n != 0 {
		t.Fatalf("%d workflows started while the directory was down", n)
	}
	dir.down.Store(false)

	wantStatus(t, e.call(http.MethodPost, "/api/v1/requests", "dave", readerBody), http.StatusForbidden)
	id := e.create("alice", readerBody)
	in := e.temporal.wfs[id].input
	if refs := in.Stages[0].Tiers[0].Directory; refs == nil || !slices.Equal(refs.GroupIDs, []string{leadsID}) {
		t.Fatalf("tier 1 directory refs = %+v, want group %s", refs, leadsID)
	}

	// The workflow resolves the group when the stage starts and records
	// who it asked in the request's search attributes.
	e.temporal.mu.Lock()
	e.temporal.wfs[id].attrs[workflows.SearchApproverIDs.GetName()] = []string{bobID, carolID}
	e.temporal.mu.Unlock()

	dir.down.Store(true)
	r = e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "problem detail", r.problem(t).Detail, "could not be checked", "try again")
	dir.down.Store(false)

	dir.remove(leadsID, bobID)
	r = e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
	wantStatus(t, r, http.StatusForbidden)
	wantContains(t, "problem detail", r.problem(t).Detail, "you may not decide request "+id+" now")
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("%d decisions reached the workflow", n)
	}

	// A new policy: reader is for everyone in leads now.
	next := entraReader(t)
	rr, _ := next.Role("reader")
	rr.Requesters = policies.Subjects{GroupIDs: []string{leadsID}}
	src.p.Store(next)
	wantStatus(t, e.call(http.MethodPost, "/api/v1/requests", "alice", `{"role":"reader","duration":"2h","justification":"after the change"}`), http.StatusForbidden)
	if got := e.create("carol", readerBody); !strings.HasPrefix(got, "req-") {
		t.Errorf("carol's request id %q", got)
	}
}

// A policy with Entra references needs a directory, at start and on
// reload: without one the server refuses it.
func TestEntraPolicyNeedsADirectory(t *testing.T) {
	_, err := New(Config{Temporal: newFakeTemporal(), Policy: entraReader(t), Verifier: &TokenVerifier{}, Proofs: testProofs})
	if !errors.Is(err, policies.ErrNoDirectory) {
		t.Fatalf("New without a directory = %v, want ErrNoDirectory", err)
	}
	e := newEnv(t)
	if err := e.server.CheckPolicy(entraReader(t)); !errors.Is(err, policies.ErrNoDirectory) {
		t.Fatalf("CheckPolicy = %v, want ErrNoDirectory", err)
	}
}
