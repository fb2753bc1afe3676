package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
)

// fakeEligibility answers from a set of "principal target" keys.
type fakeEligibility struct {
	mu    sync.Mutex
	held  map[string]bool
	err   error
	asked []graph.Assignment
}

func (f *fakeEligibility) Eligible(_ context.Context, a graph.Assignment) (graph.EligibilityResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, a)
	if f.err != nil {
		return graph.EligibilityResult{}, f.err
	}
	return graph.EligibilityResult{Eligible: f.held[a.PrincipalID+" "+a.TargetString()]}, nil
}

// requireEligibility makes the dev reader role a PIM for Groups membership
// that needs an eligibility.
func requireEligibility(elig *fakeEligibility) func(*env) {
	return func(e *env) {
		r, _ := e.policy.Role("reader")
		r.RoleDefinitionID, r.DirectoryScopeID = "", ""
		r.GroupID, r.GroupAccess = "22222222-2222-4222-8222-000000000001", policies.GroupMember
		r.RequireEligibility = true
		e.eligibility = elig
	}
}

func TestCreateChecksEligibility(t *testing.T) {
	elig := &fakeEligibility{held: map[string]bool{aliceID + " member of group 22222222-2222-4222-8222-000000000001": true}}
	e := newEnv(t, requireEligibility(elig))

	id := e.create("alice", readerBody)
	in := e.temporal.wfs[id].input
	if !in.RequireEligibility || in.Target.GroupID != "22222222-2222-4222-8222-000000000001" || in.Target.AccessID != "member" {
		t.Errorf("workflow input does not carry the group target and the eligibility rule: %+v", in)
	}

	r := e.call(http.MethodPost, "/api/v1/requests", "erin", readerBody)
	wantStatus(t, r, http.StatusForbidden)
	p := r.problem(t)
	wantContains(t, "detail", p.Detail, `role "reader" requires a PIM eligibility`, "member of group 22222222-2222-4222-8222-000000000001")
	if p.Field != "role" {
		t.Errorf("field = %q, want role", p.Field)
	}
	if len(e.temporal.starts) != 1 {
		t.Errorf("%d workflows started, want only alice's", len(e.temporal.starts))
	}

	elig.mu.Lock()
	elig.err = errors.New("graph: HTTP 503")
	elig.mu.Unlock()
	r = e.call(http.MethodPost, "/api/v1/requests", "alice", readerBody)
	wantStatus(t, r, http.StatusServiceUnavailable)
	if d := r.problem(t).Detail; strings.Contains(d, "503") {
		t.Errorf("detail %q leaks Graph's answer", d)
	}
}

func TestRolesWithoutEligibilityAskNobody(t *testing.T) {
	elig := &fakeEligibility{}
	e := newEnv(t, func(e *env) { e.eligibility = elig })
	e.create("alice", readerBody)
	if len(elig.asked) != 0 {
		t.Errorf("asked Entra %d times for a role without require_eligibility", len(elig.asked))
	}
}

func TestServerNeedsEligibilityForRolesThatRequireIt(t *testing.T) {
	pol := policies.Dev()
	r, _ := pol.Role("admin")
	r.RequireEligibility = true
	_, err := New(Config{Temporal: newFakeTemporal(), Policy: pol, Verifier: &TokenVerifier{}, Proofs: testProofs})
	if err == nil || !strings.Contains(err.Error(), `Eligibility (role "admin" sets require_eligibility)`) {
		t.Fatalf("New = %v, want it to ask for Eligibility", err)
	}
}
