package graphemu

import (
	"net/http"
	"testing"
	"time"
)

func TestPolicyRules(t *testing.T) {
	e, _ := newEmu(t, Options{Rules: []Rule{
		{RoleDefinitionID: securityAdm, RequireJustification: true, RequireTicket: true, MaxDuration: 2 * time.Hour},
		{GroupID: engineersGroup, MaxDuration: time.Hour},
	}})
	ticket := map[string]any{"ticketNumber": "CHG-1"}
	tests := []struct {
		name   string
		path   string
		body   request
		status int
		want   string
	}{
		{"all rules met", requestsPath, assign(alice, securityAdm, "PT2H").with("ticketInfo", ticket), http.StatusCreated, ""},
		{"no justification nor ticket", requestsPath, assign(bob, securityAdm, "PT1H").with("justification", nil), http.StatusBadRequest,
			`The following policy rules failed: ["JustificationRule","TicketingRule"]`},
		{"too long", requestsPath, assign(bob, securityAdm, "PT3H").with("ticketInfo", ticket), http.StatusBadRequest, `["ExpirationRule"]. The maximum duration of an active assignment is PT2H; the request asks for PT3H`},
		{"permanent", requestsPath, assign(bob, securityAdm, "PT1H").with("ticketInfo", ticket).with("scheduleInfo", map[string]any{"expiration": map[string]any{"type": "noExpiration"}}),
			http.StatusBadRequest, "asks for no expiration"},
		{"other role unaffected", requestsPath, assign(bob, globalReader, "PT5H").with("justification", nil), http.StatusCreated, ""},
		{"group maximum", groupsPath, groupAssign(bob, "member", "PT2H"), http.StatusBadRequest, `["ExpirationRule"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call(t, e, http.MethodPost, tt.path, tt.body)
			if tt.status == http.StatusCreated {
				if w.Code != tt.status {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				return
			}
			wantGraphError(t, w, tt.status, CodePolicyValidationFailed, tt.want)
		})
	}
	// An update counts the maximum from the assignment's start.
	c := e.now()
	end := c.Add(2*time.Hour + time.Minute)
	wantGraphError(t, post(t, e, request{"action": ActionAdminUpdate, "principalId": alice, "roleDefinitionId": securityAdm, "directoryScopeId": "/",
		"justification": "more", "ticketInfo": ticket, "scheduleInfo": map[string]any{"expiration": map[string]any{"type": "afterDateTime", "endDateTime": end}}}),
		http.StatusBadRequest, CodePolicyValidationFailed, "ExpirationRule")
}

func TestMinimumActiveTimeBeforeRemoval(t *testing.T) {
	e, c := newEmu(t, Options{MinActiveTime: EntraMinActiveTime})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	c.Advance(4*time.Minute + 59*time.Second)
	wantGraphError(t, post(t, e, remove(alice, globalReader)), http.StatusBadRequest, CodeActiveDurationTooShort, "from 2026-11-26T06:05:00Z")
	if len(e.Instances()) != 1 {
		t.Fatal("the refused removal removed")
	}
	c.Advance(time.Second)
	decode[ScheduleRequest](t, post(t, e, remove(alice, globalReader)), http.StatusCreated)
}

func TestListDelayHidesNewAssignments(t *testing.T) {
	e, c := newEmu(t, Options{ListDelay: 30 * time.Second})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	if got := listInstances(t, e, ""); len(got) != 0 {
		t.Errorf("listed at once: %+v", got)
	}
	wantGraphError(t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusBadRequest, CodeRoleAssignmentExists, "already exists")
	c.Advance(30 * time.Second)
	if got := listInstances(t, e, ""); len(got) != 1 {
		t.Errorf("not listed after the delay: %+v", got)
	}
}

func TestBadRuleOptions(t *testing.T) {
	for _, opts := range []Options{
		{Rules: []Rule{{MaxDuration: time.Hour}}},
		{Rules: []Rule{{RoleDefinitionID: globalReader, GroupID: engineersGroup}}},
		{MinActiveTime: -time.Second},
		{ListDelay: -time.Second},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) accepted", opts)
		}
	}
}
