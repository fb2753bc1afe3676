package graphemu

import (
	"net/http"
	"testing"
	"time"
)

// A removal is recorded when it arrives, also when Entra's own expiry got
// there first and the request fails: that arrival is jitflow's removal.
func TestRemovalsRecordEveryAdminRemove(t *testing.T) {
	e, c := newEmu(t, Options{})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	decode[ScheduleRequest](t, post(t, e, assign(bob, globalReader, "PT1M")), http.StatusCreated)
	c.Advance(10 * time.Second)
	decode[ScheduleRequest](t, post(t, e, remove(alice, globalReader).with("isValidationOnly", true)), http.StatusCreated)
	decode[ScheduleRequest](t, post(t, e, remove(alice, globalReader)), http.StatusCreated)
	c.Advance(time.Minute)
	wantGraphError(t, post(t, e, remove(bob, globalReader)), http.StatusBadRequest, CodeRoleAssignmentDoesNotExist, "does not exist")

	got := decode[map[string][]Removal](t, call(t, e, http.MethodGet, "/_emulator/removals", nil), http.StatusOK)["value"]
	want := []Removal{
		{PrincipalID: alice, RoleDefinitionID: globalReader, DirectoryScopeID: "/", ReceivedAt: t0.Add(10 * time.Second), Status: StatusRevoked},
		{PrincipalID: bob, RoleDefinitionID: globalReader, DirectoryScopeID: "/", ReceivedAt: t0.Add(70 * time.Second), Status: StatusFailed},
	}
	if len(got) != len(want) {
		t.Fatalf("removals %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].ReceivedAt.Equal(want[i].ReceivedAt) {
			t.Errorf("removal %d received at %s, want %s", i, got[i].ReceivedAt, want[i].ReceivedAt)
		}
		got[i].ReceivedAt = want[i].ReceivedAt
		if got[i] != want[i] {
			t.Errorf("removal %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRemovalsEmptyListIsAnArray(t *testing.T) {
	e, _ := newEmu(t, Options{})
	w := call(t, e, http.MethodGet, "/_emulator/removals", nil)
	if w.Code != http.StatusOK || w.Body.String() != "{\"value\":[]}\n" {
		t.Fatalf("GET /_emulator/removals: %d %q", w.Code, w.Body)
	}
}
