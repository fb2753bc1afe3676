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

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// The dev tenant's groups by object id (see devGroups).
const (
	engineersGroup = "22222222-2222-4222-8222-000000000001"
	oncallGroup    = "22222222-2222-4222-8222-000000000002"
	teamLeadsGroup = "22222222-2222-4222-8222-000000000003"
	approversGroup = "22222222-2222-4222-8222-000000000005"
	emptyGroup     = "22222222-2222-4222-8222-0000000000ff"
)

// entraPolicy names nobody by a short name: requesters and approvers come
// from the directory's groups and manager chain.
func entraPolicy(readerRequesters string) string {
	return `tenant_id: 00000000-0000-4000-8000-000000000001
operators: {groups: [22222222-2222-4222-8222-000000000004]}
roles:
  - name: reader
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [` + readerRequesters + `]}
    duration: {min: 10s, max: 8h, default: 1h}
    approval:
      stages:
        - name: approvers
          tiers:
            - approvers: {groups: [` + approversGroup + `]}
              timeout: 10m
  - name: admin
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {groups: [` + engineersGroup + `]}
    duration: {min: 10s, max: 2h, default: 30m}
    approval:
      stages:
        - name: manager
          tiers:
            - approvers: {manager: 1}
              timeout: 10m
        - name: skip-level
          tiers:
            - approvers: {manager: 2}
              timeout: 10m
  - name: orphan
    role_definition_id: 88d8e3e3-8f55-4a1e-953a-9b9898b8876b
    requesters: {groups: [` + engineersGroup + `]}
    duration: {min: 10s, max: 1h, default: 30m}
    approval:
      stages:
        - name: nobody
          tiers:
            - approvers: {groups: [` + emptyGroup + `]}
              timeout: 10m
`
}

// A policy with only group ids and managers drives requests end to end:
// approvers come from the emulator's nested groups and manager chain, the
// audit shows who was asked, someone removed from the group mid-request
// cannot decide, a stage with nobody to ask fails loudly, and a reloaded
// policy applies to the next request without a restart.
func TestEntraPolicyEndToEnd(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(entraPolicy(engineersGroup)), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := policies.NewLive(file, policies.LiveOptions{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go live.Watch(ctx)
	s := newSession(t, nil, func(o *Options) {
		o.Policies = live
		// Membership changes reach jitflow as soon as the test makes them.
		o.DirectoryCacheFor = time.Millisecond
	})
	api := s.api

	// Nested group: approvers holds team-leads (bob) and carol.
	req := s.create("alice", `{"role":"reader","duration":"1h","justification":"entra groups"}`)
	waitFor(t, 30*time.Second, "approvers resolved", func() bool {
		return slices.Contains(s.auditTypes(req.ID), "approvers_resolved")
	})
	got := s.get(req.ID)
	var asked []string
	for _, a := range got.Approvers {
		asked = append(asked, a.Approver)
	}
	slices.Sort(asked)
	if want := []string{"bob@example.com", "carol@example.com"}; !slices.Equal(asked, want) {
		t.Fatalf("asked %v, want %v (the nested group's members)", asked, want)
	}
	// bob leaves team-leads: he was asked, and may no longer decide.
	if err := s.st.Graph.RemoveMember(teamLeadsGroup, userID(t, policies.Dev(), "bob")); err != nil {
		t.Fatal(err)
	}
	status, _, body := api.raw("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("bob"), `{}`)
	if status != http.StatusForbidden {
		t.Fatalf("bob, removed from the group, approved: status %d, want 403", status)
	}
	if !strings.Contains(body, "not a member of Entra group "+approversGroup) {
		t.Errorf("refusal %s does not name the group", body)
	}
	s.act("carol", req.ID, "approve", `{}`)
	s.wait(req.ID, apitypes.StatusActive, 30*time.Second)

	// Manager chain: alice's manager (bob), then bob's manager (carol).
	adm := s.create("alice", `{"role":"admin","duration":"30m","justification":"managers"}`)
	waitFor(t, 30*time.Second, "bob asked", func() bool { return asks(s.get(adm.ID), "bob@example.com") })
	if status := api.do("POST", "/api/v1/requests/"+adm.ID+"/approve", api.token("carol"), `{}`, nil); status != http.StatusForbidden {
		t.Fatalf("carol approved stage 1 (alice's manager is bob): status %d, want 403", status)
	}
	s.act("bob", adm.ID, "approve", `{}`)
	waitFor(t, 30*time.Second, "carol asked", func() bool { return asks(s.get(adm.ID), "carol@example.com") })
	s.act("carol", adm.ID, "approve", `{}`)
	s.wait(adm.ID, apitypes.StatusActive, 30*time.Second)

	// A stage with nobody to ask ends the request failed, saying why.
	orphan := s.create("alice", `{"role":"orphan","justification":"nobody"}`)
	failed := s.wait(orphan.ID, apitypes.StatusFailed, 30*time.Second)
	if !strings.Contains(failed.Reason, emptyGroup) {
		t.Errorf("failure reason %q does not name the empty group", failed.Reason)
	}

	// Someone outside the requesters' group may not ask.
	if status := api.do("POST", "/api/v1/requests", api.token("dave"), `{"role":"reader","justification":"not an engineer"}`, nil); status != http.StatusForbidden {
		t.Fatalf("dave (not in engineers) requested reader: status %d, want 403", status)
	}

	// Reload: reader is now for on-call only. The running reader request
	// keeps its plan; the next request follows the new policy.
	if err := os.WriteFile(file, []byte(entraPolicy(oncallGroup)), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "policy reloaded", func() bool {
		r, _ := live.Current().Role("reader")
		return r != nil && slices.Contains(r.Requesters.GroupIDs, oncallGroup)
	})
	if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","justification":"after reload"}`, nil); status != http.StatusForbidden {
		t.Fatalf("alice requested reader after the reload moved it to on-call: status %d, want 403", status)
	}
	s.create("erin", `{"role":"reader","justification":"on call"}`)
	if got := s.get(req.ID); got.Status != apitypes.StatusActive {
		t.Errorf("the request made before the reload is %s, want still active", got.Status)
	}
	// A broken file is refused; the policy in force stays.
	if err := os.WriteFile(file, []byte("tenant_id: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(); err == nil {
		t.Fatal("a broken policy file was applied")
	}
	if _, ok := live.Current().Role("orphan"); !ok {
		t.Error("the policy in force changed after a refused reload")
	}
}

func asks(r workflows.Request, upn string) bool {
	for _, a := range r.Approvers {
		if a.Approver == upn {
			return true
		}
	}
	return false
}

// TestRecordDirectoryHistories records the histories of requests whose
// approvers the directory names (see TestRecordHistories):
//
//	JITFLOW_RECORD_HISTORIES=i18- go test -run TestRecordDirectoryHistories ./internal/devstack/
func TestRecordDirectoryHistories(t *testing.T) {
	only := os.Getenv("JITFLOW_RECORD_HISTORIES")
	if only == "" {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 (or i18-) to record new histories")
	}
	if only != "1" && !strings.HasPrefix("i18-", only) {
		t.Skip("not asked for")
	}
	file := filepath.Join(t.TempDir(), "policy.yaml")
	pol := strings.ReplaceAll(entraPolicy(engineersGroup), "min: 10s", "min: 1s")
	if err := os.WriteFile(file, []byte(pol), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := policies.NewLive(file, policies.LiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, nil, func(o *Options) { o.Policies = live })
	out := filepath.Join("..", "..", "workflows", "testdata", "histories")
	asked := func(id, upn string) {
		waitFor(t, 30*time.Second, upn+" asked", func() bool { return asks(s.get(id), upn) })
	}
	// Stage 1 by the nested group, then (admin) two stages by the manager chain.
	reader := s.create("alice", `{"role":"reader","duration":"1s","justification":"recorded history"}`).ID
	asked(reader, "carol@example.com")
	s.act("carol", reader, "approve", `{"comment":"recorded"}`)
	s.wait(reader, apitypes.StatusExpired, 30*time.Second)
	saveHistory(t, s.st, reader, filepath.Join(out, "i18-group_approvers_expired.json"))

	admin := s.create("alice", `{"role":"admin","duration":"1s","justification":"recorded history"}`).ID
	asked(admin, "bob@example.com")
	s.act("bob", admin, "approve", `{"comment":"recorded"}`)
	asked(admin, "carol@example.com")
	s.act("carol", admin, "approve", `{"comment":"recorded"}`)
	s.wait(admin, apitypes.StatusExpired, 30*time.Second)
	saveHistory(t, s.st, admin, filepath.Join(out, "i18-manager_chain_expired.json"))

	orphan := s.create("alice", `{"role":"orphan","duration":"1s","justification":"recorded history"}`).ID
	s.wait(orphan, apitypes.StatusFailed, 30*time.Second)
	saveHistory(t, s.st, orphan, filepath.Join(out, "i18-nobody_to_ask_failed.json"))
}
