package graphemu

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

const (
	groupsPath       = "/v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleRequests"
	groupInstPath    = "/v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleInstances"
	groupEligPath    = "/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances"
	roleEligPath     = "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances"
	engineersGroup   = "55555555-5555-4555-8555-555555555555"
	groupFilterAlice = "groupId eq '" + engineersGroup + "' and principalId eq '" + alice + "'"
)

func groupAssign(principal, access, duration string) request {
	return request{
		"action":        ActionAdminAssign,
		"principalId":   principal,
		"groupId":       engineersGroup,
		"accessId":      access,
		"justification": "on call",
		"scheduleInfo":  map[string]any{"expiration": map[string]any{"type": ExpirationAfterDuration, "duration": duration}},
	}
}

func withFilter(path, filter string) string { return path + "?%24filter=" + url.QueryEscape(filter) }

func TestGroupAssignmentsLiveBesideRoles(t *testing.T) {
	e, _ := newEmu(t, Options{})
	got := decode[groupRequestView](t, call(t, e, http.MethodPost, groupsPath, groupAssign(alice, "member", "PT1H")), http.StatusCreated)
	if got.Status != StatusProvisioned || got.AccessID != "member" || got.GroupID != engineersGroup || got.TargetScheduleID == "" {
		t.Errorf("group request answer %+v", got)
	}
	decode[groupRequestView](t, call(t, e, http.MethodPost, groupsPath, groupAssign(alice, "Owner", "PT1H")), http.StatusCreated)
	wantGraphError(t, call(t, e, http.MethodPost, groupsPath, groupAssign(alice, "member", "PT1H")), http.StatusBadRequest, CodeRoleAssignmentExists, "already exists")

	insts := decode[collection[groupInstanceView]](t, call(t, e, http.MethodGet, withFilter(groupInstPath, groupFilterAlice), nil), http.StatusOK).Value
	if len(insts) != 2 || insts[0].AssignmentType != "assigned" || insts[0].MemberType != "direct" || insts[0].AssignmentScheduleID != got.TargetScheduleID {
		t.Fatalf("group instances %+v", insts)
	}
	if roles := listInstances(t, e, ""); len(roles) != 0 {
		t.Errorf("group assignments listed as roles: %+v", roles)
	}
	reqs := decode[collection[groupRequestView]](t, call(t, e, http.MethodGet, withFilter(groupsPath, "principalId eq '"+alice+"' and accessId eq 'member'"), nil), http.StatusOK).Value
	if len(reqs) != 1 || reqs[0].ID != got.ID {
		t.Errorf("group requests %+v", reqs)
	}

	decode[groupRequestView](t, call(t, e, http.MethodPost, groupsPath, request{"action": ActionAdminRemove, "principalId": alice, "groupId": engineersGroup, "accessId": "member"}), http.StatusCreated)
	insts = decode[collection[groupInstanceView]](t, call(t, e, http.MethodGet, withFilter(groupInstPath, groupFilterAlice), nil), http.StatusOK).Value
	if len(insts) != 1 || insts[0].AccessID != "owner" {
		t.Errorf("after removing the membership: %+v", insts)
	}
}

func TestGroupRequestRefusals(t *testing.T) {
	e, _ := newEmu(t, Options{})
	tests := []struct {
		name string
		body request
		want string
	}{
		{"no group", groupAssign(alice, "member", "PT1H").with("groupId", nil), "groupId is required"},
		{"group not a guid", groupAssign(alice, "member", "PT1H").with("groupId", "engineers"), "groupId 'engineers'"},
		{"bad access", groupAssign(alice, "admin", "PT1H"), "accessId 'admin' is not valid: member or owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantGraphError(t, call(t, e, http.MethodPost, groupsPath, tt.body), http.StatusBadRequest, CodeBadRequest, tt.want)
		})
	}
	wantGraphError(t, call(t, e, http.MethodGet, groupInstPath, nil), http.StatusBadRequest, CodeUnsupportedQuery, "need a $filter on groupId or principalId")
}

func TestEligibilitiesAreSeededAndListed(t *testing.T) {
	until := t0.Add(time.Hour)
	e, c := newEmu(t, Options{Eligibilities: []Target{
		{PrincipalID: alice, RoleDefinitionID: globalReader},
		{PrincipalID: alice, RoleDefinitionID: securityAdm, DirectoryScopeID: "/administrativeUnits/x", EndDateTime: &until},
		{PrincipalID: bob, GroupID: engineersGroup, AccessID: "Owner"},
	}})
	roles := decode[collection[roleEligibilityView]](t, call(t, e, http.MethodGet, withFilter(roleEligPath, "principalId eq '"+alice+"'"), nil), http.StatusOK).Value
	if len(roles) != 2 || roles[0].DirectoryScopeID != "/" || roles[0].EndDateTime != nil || roles[0].RoleEligibilityScheduleID == "" {
		t.Fatalf("role eligibilities %+v", roles)
	}
	groups := decode[collection[groupEligibilityView]](t, call(t, e, http.MethodGet, withFilter(groupEligPath, "groupId eq '"+engineersGroup+"'"), nil), http.StatusOK).Value
	if len(groups) != 1 || groups[0].PrincipalID != bob || groups[0].AccessID != "owner" || groups[0].MemberType != "direct" {
		t.Fatalf("group eligibilities %+v", groups)
	}
	c.Advance(time.Hour)
	roles = decode[collection[roleEligibilityView]](t, call(t, e, http.MethodGet, withFilter(roleEligPath, "principalId eq '"+alice+"'"), nil), http.StatusOK).Value
	if len(roles) != 1 {
		t.Errorf("an ended eligibility is still listed: %+v", roles)
	}
	// POST adds one; seeding it again changes nothing.
	for range 2 {
		decode[Eligibility](t, call(t, e, http.MethodPost, "/_emulator/eligibilities", `{"principalId":"`+bob+`","roleDefinitionId":"`+globalReader+`"}`), http.StatusCreated)
	}
	if n := len(e.Eligibilities()); n != 4 {
		t.Errorf("%d eligibilities, want 4", n)
	}
}

func TestSeededStandingAssignment(t *testing.T) {
	e, _ := newEmu(t, Options{Assignments: []Target{{PrincipalID: alice, RoleDefinitionID: globalReader}}})
	insts := listInstances(t, e, "")
	if len(insts) != 1 || insts[0].EndDateTime != nil {
		t.Fatalf("seeded instances %+v, want one standing", insts)
	}
	wantGraphError(t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusBadRequest, CodeRoleAssignmentExists, "already exists")
	inst := decode[Instance](t, call(t, e, http.MethodPost, "/_emulator/assignments", `{"principalId":"`+bob+`","groupId":"`+engineersGroup+`","accessId":"member"}`), http.StatusCreated)
	if inst.GroupID != engineersGroup || inst.EndDateTime != nil {
		t.Errorf("seeded group assignment %+v", inst)
	}
}

// A principal's own PIM activation, seeded with its end, lists as
// Activated and goes by itself when its end passes, as in Entra.
func TestSeededOwnActivationExpires(t *testing.T) {
	e, clk := newEmu(t, Options{})
	end := t0.Add(30 * time.Minute)
	body := `{"principalId":"` + alice + `","roleDefinitionId":"` + globalReader + `","directoryScopeId":"/","endDateTime":"` + end.Format(time.RFC3339) + `","assignmentType":"Activated"}`
	inst := decode[Instance](t, call(t, e, http.MethodPost, "/_emulator/assignments", body), http.StatusCreated)
	if inst.AssignmentType != AssignmentTypeActivated || inst.EndDateTime == nil || !inst.EndDateTime.Equal(end) {
		t.Fatalf("seeded %+v, want Activated until %s", inst, end)
	}
	clk.Advance(30*time.Minute - time.Second)
	if insts := listInstances(t, e, ""); len(insts) != 1 {
		t.Fatalf("%d instances before the end, want 1", len(insts))
	}
	clk.Advance(time.Second)
	if insts := listInstances(t, e, ""); len(insts) != 0 {
		t.Fatalf("instances left at the end: %+v", insts)
	}
}

func TestBadSeedsAreRefused(t *testing.T) {
	e, _ := newEmu(t, Options{})
	tests := []struct{ body, want string }{
		{`{"principalId":"alice"}`, "principalId must be a GUID"},
		{`{"principalId":"` + alice + `"}`, "roleDefinitionId must be a GUID"},
		{`{"principalId":"` + alice + `","roleDefinitionId":"` + globalReader + `","groupId":"` + engineersGroup + `"}`, "not both"},
		{`{"principalId":"` + alice + `","groupId":"` + engineersGroup + `","accessId":"boss"}`, "accessId must be member or owner"},
		{`{"principalId":"` + alice + `","roleDefinitionId":"` + globalReader + `","scope":"/"}`, "unknown field"},
		{`{"principalId":"` + alice + `","roleDefinitionId":"` + globalReader + `","assignmentType":"Eligible"}`, "assignmentType must be Assigned or Activated"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/_emulator/assignments", "/_emulator/eligibilities"} {
			wantGraphError(t, call(t, e, http.MethodPost, path, tt.body), http.StatusBadRequest, CodeMalformedBody, tt.want)
		}
	}
	activated := `{"principalId":"` + alice + `","roleDefinitionId":"` + globalReader + `","assignmentType":"Activated"}`
	wantGraphError(t, call(t, e, http.MethodPost, "/_emulator/eligibilities", activated), http.StatusBadRequest, CodeMalformedBody, "assignmentType applies to assignments only")
	if _, err := New(Options{Eligibilities: []Target{{PrincipalID: "x"}}}); err == nil {
		t.Error("New accepted a bad eligibility seed")
	}
}
