package devstack

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

const globalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"

// session is one test's stack and API client, with helpers that fail the
// test on anything unexpected.
type session struct {
	t   *testing.T
	st  *Stack
	api apiClient
}

func newSession(t *testing.T, pol *policies.Policy, opts ...func(*Options)) *session {
	t.Helper()
	st := startStackWith(t, t.TempDir(), pol, opts...)
	t.Cleanup(st.Stop)
	return &session{t: t, st: st, api: apiClient{t: t, base: st.APIURL}}
}

func (s *session) create(user, body string) workflows.Request {
	s.t.Helper()
	var req workflows.Request
	if status := s.api.do("POST", "/api/v1/requests", s.api.token(user), body, &req); status != http.StatusCreated {
		s.t.Fatalf("create by %s: status %d", user, status)
	}
	return req
}

func (s *session) act(user, id, action, body string) workflows.Request {
	s.t.Helper()
	var req workflows.Request
	if status := s.api.do("POST", "/api/v1/requests/"+id+"/"+action, s.api.token(user), body, &req); status != http.StatusOK {
		s.t.Fatalf("%s by %s: status %d", action, user, status)
	}
	return req
}

func (s *session) get(id string) workflows.Request {
	s.t.Helper()
	var req workflows.Request
	s.api.do("GET", "/api/v1/requests/"+id, s.api.token("dave"), "", &req)
	return req
}

func (s *session) wait(id string, want workflows.Status, limit time.Duration) workflows.Request {
	s.t.Helper()
	var req workflows.Request
	waitFor(s.t, limit, "request "+id+" "+string(want), func() bool {
		req = s.get(id)
		if req.Status.Terminal() && req.Status != want {
			s.t.Fatalf("request %s ended %s (%s), want %s", id, req.Status, req.Reason, want)
		}
		return req.Status == want
	})
	return req
}

// active approves a reader request by alice and waits until it is active.
// bob approves once his email asked him to, as a person would: a decision
// that reached the workflow before it first ran would leave him out of the
// email (tests read links from it).
func (s *session) active(duration string) workflows.Request {
	s.t.Helper()
	req := s.create("alice", `{"role":"reader","duration":"`+duration+`","justification":"end-to-end"}`)
	waitFor(s.t, 30*time.Second, "bob asked by email", func() bool {
		for _, e := range s.st.Outbox.Emails() {
			if slices.Contains(e.To, "bob@example.com") && strings.Contains(e.Text, req.ID) {
				return true
			}
		}
		return false
	})
	s.act("bob", req.ID, "approve", `{}`)
	return s.wait(req.ID, apitypes.StatusActive, 30*time.Second)
}

// readerInstances lists alice's Global Reader instances in the emulator.
func (s *session) readerInstances(principal string) []graphemu.Instance {
	var out []graphemu.Instance
	for _, in := range s.st.Graph.Instances() {
		if in.PrincipalID == principal && in.RoleDefinitionID == globalReader {
			out = append(out, in)
		}
	}
	return out
}

func (s *session) auditTypes(id string) []string {
	s.t.Helper()
	var audit struct {
		Events []workflows.AuditEvent `json:"events"`
	}
	s.api.do("GET", "/api/v1/requests/"+id+"/audit", s.api.token("dave"), "", &audit)
	var types []string
	for _, ev := range audit.Events {
		types = append(types, ev.Type)
	}
	return types
}

func userID(t *testing.T, pol *policies.Policy, name string) string {
	t.Helper()
	u, ok := pol.UserByName(name)
	if !ok {
		t.Fatalf("no user %s", name)
	}
	return u.ID
}

// With Graph throttling the activation (429 with Retry-After) and failing
// the removal (503), the request still activates and the role is still
// removed: nothing is left assigned.
func TestGraphMisbehavingEndToEnd(t *testing.T) {
	pol := fastPolicy(t)
	alice := userID(t, pol, "alice")
	s := newSession(t, pol)
	one := 1
	faults := []graphemu.Fault{
		{Status: http.StatusTooManyRequests, Count: 6, RetryAfterSeconds: &one, Action: "adminAssign"},
		{Status: http.StatusServiceUnavailable, Count: 6, RetryAfterSeconds: &one, Action: "adminRemove"},
	}
	for _, f := range faults {
		if err := s.st.Graph.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	req := s.create("alice", `{"role":"reader","duration":"3s","justification":"graph misbehaving"}`)
	s.act("bob", req.ID, "approve", `{}`)
	s.wait(req.ID, apitypes.StatusActive, 60*time.Second)
	if len(s.readerInstances(alice)) != 1 {
		t.Fatalf("alice holds %d reader assignments while active, want 1", len(s.readerInstances(alice)))
	}
	s.wait(req.ID, apitypes.StatusExpired, 90*time.Second)
	if left := s.readerInstances(alice); len(left) != 0 {
		t.Fatalf("assignments left after expiry: %+v", left)
	}
	var assigns, removes int
	for _, r := range s.st.Graph.Requests() {
		switch r.Action {
		case "adminAssign":
			assigns++
		case "adminRemove":
			removes++
		}
	}
	if assigns != 1 || removes != 1 {
		t.Errorf("Graph accepted %d assignments and %d removals, want one of each (throttled calls are not accepted)", assigns, removes)
	}
}

// A standing assignment the requester held before jitflow survives a
// jitflow grant of the same role, a revoke included.
func TestStandingAssignmentSurvives(t *testing.T) {
	pol := fastPolicy(t)
	alice := userID(t, pol, "alice")
	s := newSession(t, pol)
	standing, err := s.st.Graph.SeedAssignment(graphemu.Target{PrincipalID: alice, RoleDefinitionID: globalReader, DirectoryScopeID: "/"})
	if err != nil {
		t.Fatal(err)
	}
	req := s.active("1h")
	if !req.AlreadyHeld {
		t.Errorf("request does not say the role was already held: %+v", req)
	}
	s.act("alice", req.ID, "revoke", `{"reason":"done"}`)
	s.wait(req.ID, apitypes.StatusRevoked, 30*time.Second)
	left := s.readerInstances(alice)
	if len(left) != 1 || left[0].ID != standing.ID || left[0].EndDateTime != nil {
		t.Fatalf("the standing assignment did not survive: %+v", left)
	}
	if types := s.auditTypes(req.ID); !slices.Contains(types, apitypes.EventAlreadyHeld) {
		t.Errorf("audit lacks %s: %v", apitypes.EventAlreadyHeld, types)
	}
	for _, r := range s.st.Graph.Requests() {
		if r.Action == "adminAssign" || r.Action == "adminRemove" {
			t.Errorf("jitflow sent %s for a role the requester already held", r.Action)
		}
	}
}

// Two overlapping requests for one role: revoking the earlier leaves the
// role in place; it goes when the later one ends.
func TestOverlappingRequestsEndToEnd(t *testing.T) {
	pol := fastPolicy(t)
	alice := userID(t, pol, "alice")
	s := newSession(t, pol)

	first := s.active("1h")
	second := s.active("6s")
	if second.ExpiresAt == nil || first.ExpiresAt == nil {
		t.Fatal("active requests without expires_at")
	}
	s.act("alice", first.ID, "revoke", `{"reason":"the other one is enough"}`)
	s.wait(first.ID, apitypes.StatusRevoked, 30*time.Second)
	if len(s.readerInstances(alice)) != 1 {
		t.Fatal("revoking the earlier request took the role from the later one")
	}
	if got := s.get(second.ID).Status; got != apitypes.StatusActive {
		t.Fatalf("the later request is %s after the earlier was revoked", got)
	}
	s.wait(second.ID, apitypes.StatusExpired, 30*time.Second)
	if left := s.readerInstances(alice); len(left) != 0 {
		t.Fatalf("assignments left after both ended: %+v", left)
	}

	// The role stays until the later of two grants ends, Entra's own end
	// moved to it.
	short := s.active("3s")
	long := s.active("9s")
	inst := s.readerInstances(alice)
	if len(inst) != 1 || inst[0].EndDateTime == nil || inst[0].EndDateTime.Before(long.ExpiresAt.Add(-time.Second)) {
		t.Fatalf("Entra's end is not moved to the later grant (%s): %+v", long.ExpiresAt, inst)
	}
	s.wait(short.ID, apitypes.StatusExpired, 30*time.Second)
	if len(s.readerInstances(alice)) != 1 {
		t.Fatal("the role went when the shorter grant ended")
	}
	s.wait(long.ID, apitypes.StatusExpired, 30*time.Second)
	if left := s.readerInstances(alice); len(left) != 0 {
		t.Fatalf("assignments left after both ended: %+v", left)
	}
}

// An extension goes through approval again, then moves expires_at and
// Entra's end; the audit records it.
func TestExtendEndToEnd(t *testing.T) {
	pol := fastPolicy(t)
	alice := userID(t, pol, "alice")
	s := newSession(t, pol)
	req := s.active("1h")
	asked := s.act("alice", req.ID, "extend", `{"duration":"30m","justification":"the incident goes on"}`)
	if asked.Extension == nil || asked.Extension.Status != apitypes.StatusPending {
		t.Fatalf("extension not pending approval: %+v", asked.Extension)
	}
	s.act("bob", req.ID, "approve", `{"comment":"fine"}`)
	var got workflows.Request
	waitFor(t, 20*time.Second, "extension applied", func() bool {
		got = s.get(req.ID)
		return got.Extensions == 1
	})
	if want := req.ExpiresAt.Add(30 * time.Minute); !got.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at %s, want %s", got.ExpiresAt, want)
	}
	inst := s.readerInstances(alice)
	if len(inst) != 1 || inst[0].EndDateTime == nil || inst[0].EndDateTime.Sub(*got.ExpiresAt).Abs() > time.Second {
		t.Fatalf("Entra's end is not the new expires_at %s: %+v", got.ExpiresAt, inst)
	}
	types := s.auditTypes(req.ID)
	for _, want := range []string{apitypes.EventExtensionRequested, apitypes.EventExtended} {
		if !slices.Contains(types, want) {
			t.Errorf("audit lacks %s: %v", want, types)
		}
	}
	s.act("alice", req.ID, "revoke", `{}`)
	s.wait(req.ID, apitypes.StatusRevoked, 30*time.Second)
	if left := s.readerInstances(alice); len(left) != 0 {
		t.Fatalf("assignments left after revoke: %+v", left)
	}
}

// A role that requires a PIM eligibility: a requester without one gets 403
// naming it; one with it is activated.
func TestEligibilityEndToEnd(t *testing.T) {
	pol := fastPolicy(t)
	reader, _ := pol.Role("reader")
	reader.RequireEligibility = true
	erin := userID(t, pol, "erin")
	s := newSession(t, pol, func(o *Options) {
		o.ConfigureGraph = func(g *graphemu.Options) {
			g.Eligibilities = slices.DeleteFunc(g.Eligibilities, func(e graphemu.Target) bool { return e.PrincipalID == erin })
		}
	})
	status := s.api.do("POST", "/api/v1/requests", s.api.token("erin"), `{"role":"reader","duration":"1h","justification":"no eligibility"}`, nil)
	if status != http.StatusForbidden {
		t.Fatalf("erin without eligibility: status %d, want 403", status)
	}
	req := s.active("1h")
	s.act("alice", req.ID, "revoke", `{}`)
	s.wait(req.ID, apitypes.StatusRevoked, 30*time.Second)

	// An eligibility that ends between the request and its approval: the
	// workflow checks again before activating and fails the request.
	end := time.Now().Add(2 * time.Second)
	if _, err := s.st.Graph.SeedEligibility(graphemu.Target{PrincipalID: erin, RoleDefinitionID: globalReader, DirectoryScopeID: "/", EndDateTime: &end}); err != nil {
		t.Fatal(err)
	}
	late := s.create("erin", `{"role":"reader","duration":"1h","justification":"eligible for two seconds"}`)
	waitFor(t, 10*time.Second, "erin's eligibility to end", func() bool { return time.Now().After(end) })
	s.act("bob", late.ID, "approve", `{}`)
	failed := s.wait(late.ID, apitypes.StatusFailed, 30*time.Second)
	if !strings.Contains(failed.Reason, "no longer holds a PIM eligibility") {
		t.Errorf("reason %q does not say the eligibility is gone", failed.Reason)
	}
	for _, in := range s.st.Graph.Instances() {
		if in.PrincipalID == erin {
			t.Errorf("erin was assigned %+v without an eligibility", in)
		}
	}
}

// Entra refuses to remove an assignment in its first minutes
// (ActiveDurationTooShort): a revoke answers at once with deactivating, the
// removal waits until Entra allows it, and then the request is revoked with
// nothing left assigned.
func TestRevokeWaitsForEntrasMinimum(t *testing.T) {
	pol := fastPolicy(t)
	alice := userID(t, pol, "alice")
	s := newSession(t, pol, func(o *Options) {
		o.ConfigureGraph = func(g *graphemu.Options) { g.MinActiveTime = 4 * time.Second }
	})
	req := s.active("1h")
	// Entra allows the removal 4s after activation, well within the
	// revoke's own wait: answering deactivating means it did not wait.
	answered := s.act("alice", req.ID, "revoke", `{"reason":"done early"}`)
	if answered.Status != apitypes.StatusDeactivating {
		t.Fatalf("revoke answered %s, want deactivating at once", answered.Status)
	}
	s.wait(req.ID, apitypes.StatusRevoked, 30*time.Second)
	if left := s.readerInstances(alice); len(left) != 0 {
		t.Fatalf("assignments left after the revoke: %+v", left)
	}
	types := s.auditTypes(req.ID)
	if !slices.Contains(types, apitypes.EventDeactivating) || !slices.Contains(types, apitypes.EventRevoked) {
		t.Errorf("audit lacks %s or %s: %v", apitypes.EventDeactivating, apitypes.EventRevoked, types)
	}
}

// A PIM for Groups target goes the same way: membership assigned in the
// emulator while active, removed on revoke.
func TestGroupMembershipEndToEnd(t *testing.T) {
	const group = "22222222-2222-4222-8222-000000000001"
	pol := fastPolicy(t)
	reader, _ := pol.Role("reader")
	reader.RoleDefinitionID, reader.DirectoryScopeID = "", ""
	reader.GroupID, reader.GroupAccess = group, policies.GroupMember
	alice := userID(t, pol, "alice")
	s := newSession(t, pol)
	member := func() int {
		n := 0
		for _, in := range s.st.Graph.Instances() {
			if in.PrincipalID == alice && in.GroupID == group && in.AccessID == graphemu.AccessMember {
				n++
			}
		}
		return n
	}
	req := s.active("1h")
	if req.GroupID != group || req.AccessID != "member" {
		t.Errorf("request does not show the group target: %+v", req)
	}
	if member() != 1 {
		t.Fatalf("alice is not a member of the group while active: %+v", s.st.Graph.Instances())
	}
	s.act("alice", req.ID, "revoke", `{}`)
	s.wait(req.ID, apitypes.StatusRevoked, 30*time.Second)
	if member() != 0 {
		t.Fatalf("membership left after the revoke: %+v", s.st.Graph.Instances())
	}
}

// The requester's own PIM activation ends half-way through a jitflow grant
// that rides on it: jitflow assigns the role again at that end, holds it
// until the grant's end and removes it then; the API and the CLI show the
// reassignment.
func TestOwnActivationEndsMidGrant(t *testing.T) {
	pol := fastPolicy(t)
	alice := userID(t, pol, "alice")
	s := newSession(t, pol)
	t.Setenv("JITFLOW_API", s.st.APIURL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")
	ownEnd := time.Now().Add(8 * time.Second).UTC()
	own, err := s.st.Graph.SeedAssignment(graphemu.Target{PrincipalID: alice, RoleDefinitionID: globalReader, DirectoryScopeID: "/",
		EndDateTime: &ownEnd, AssignmentType: graphemu.AssignmentTypeActivated})
	if err != nil {
		t.Fatal(err)
	}
	req := s.active("20s")
	if !req.AlreadyHeld || req.ExpiresAt == nil || !req.ExpiresAt.After(ownEnd) {
		t.Fatalf("request does not ride on the own activation ending at %s: %+v", ownEnd, req)
	}

	var again graphemu.Instance
	waitFor(t, 15*time.Second, "the role assigned again", func() bool {
		insts := s.readerInstances(alice)
		if len(insts) == 1 && insts[0].ID != own.ID {
			again = insts[0]
			return true
		}
		return false
	})
	gap := again.StartDateTime.Sub(ownEnd)
	t.Logf("own activation ended at %s; role assigned again at %s (gap %s), until %s", ownEnd.Format(time.RFC3339Nano),
		again.StartDateTime.Format(time.RFC3339Nano), gap, again.EndDateTime)
	if gap < 0 || gap > 5*time.Second {
		t.Errorf("role assigned again %s after the own activation ended, want within 5s of it", gap)
	}
	if again.EndDateTime == nil || again.EndDateTime.Before(*req.ExpiresAt) {
		t.Errorf("the new assignment ends at %v, before the grant's end %s", again.EndDateTime, req.ExpiresAt)
	}
	now := s.get(req.ID)
	if now.Status != apitypes.StatusActive || now.AlreadyHeld {
		t.Errorf("after the reassignment the request is %s (already_held %v), want active and jitflow's", now.Status, now.AlreadyHeld)
	}
	if types := s.auditTypes(req.ID); !slices.Contains(types, apitypes.EventReassigned) {
		t.Errorf("audit lacks %s: %v", apitypes.EventReassigned, types)
	}
	res := runCLI(t, "audit", req.ID, "--as", "alice")
	if res.code != 0 || !strings.Contains(res.stdout, "reassigned") || !strings.Contains(res.stdout, "instance "+own.ID) {
		t.Errorf("jitflow audit: exit %d (%v)\n%s%s", res.code, res.err, res.stdout, res.stderr)
	}

	end := s.wait(req.ID, apitypes.StatusExpired, 30*time.Second)
	if left := s.readerInstances(alice); len(left) != 0 {
		t.Fatalf("assignments left after the grant: %+v", left)
	}
	// Present from the reassignment until the grant's end: the new
	// assignment ends no earlier, and jitflow asked for no removal before.
	removals := s.st.Graph.Removals()
	if len(removals) != 1 || removals[0].ReceivedAt.Before(*req.ExpiresAt) {
		t.Fatalf("removals %+v, want one, at or after the grant's end %s", removals, req.ExpiresAt)
	}
	types := s.auditTypes(end.ID)
	re, gone := slices.Index(types, apitypes.EventReassigned), slices.Index(types, apitypes.EventDeactivated)
	if end.AlreadyHeld || re < 0 || gone < re || !slices.Contains(types, apitypes.EventExpired) {
		t.Errorf("at the end (already_held %v) the audit is %v, want reassigned, then deactivated and expired", end.AlreadyHeld, types)
	}
}

// TestDrainQuery: the query docs/workflow-changes.md gives operators, to
// find running requests that the removed grant path activated, is accepted
// by Temporal's visibility and lists no request activated by the current
// path, while the same query without its version clause lists it.
func TestDrainQuery(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "workflow-changes.md"))
	if err != nil {
		t.Fatal(err)
	}
	const running = "WorkflowType = 'AccessRequest' AND ExecutionStatus = 'Running' AND JitflowStatus IN ('activating', 'active', 'deactivating')"
	const oldPath = "(TemporalChangeVersion IS NULL OR TemporalChangeVersion NOT IN ('assignment-workflow-1', 'start-proof-2', 'start-proof-3'))"
	flat := strings.Join(strings.Fields(strings.ReplaceAll(string(doc), "\\\n", " ")), " ")
	if !strings.Contains(flat, running+" AND "+oldPath) {
		t.Fatalf("docs/workflow-changes.md no longer gives the query %q", running+" AND "+oldPath)
	}
	s := newSession(t, fastPolicy(t))
	req := s.active("1h")
	list := func(query string) []string {
		resp, err := s.st.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.st.Namespace, Query: query})
		if err != nil {
			t.Fatalf("list %q: %v", query, err)
		}
		var ids []string
		for _, e := range resp.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
		return ids
	}
	waitFor(t, 20*time.Second, "visibility lists the active request", func() bool { return slices.Contains(list(running), req.ID) })
	if got := list(running + " AND " + oldPath); len(got) != 0 {
		t.Fatalf("the drain query lists %v, activated by the current path", got)
	}
}
