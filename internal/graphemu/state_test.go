package graphemu

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/internal/testclock"
)

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "graph.json")
	c := testclock.New(t0)
	e1, err := New(Options{StatePath: path, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	made := decode[ScheduleRequest](t, post(t, e1, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	if err := e1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e1.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	e2, _ := newEmu(t, Options{StatePath: path, Now: c.Now})
	insts := e2.Instances()
	if len(insts) != 1 || insts[0].PrincipalID != alice || !insts[0].EndDateTime.Equal(t0.Add(time.Hour)) {
		t.Fatalf("reloaded instances %+v", insts)
	}
	decode[ScheduleRequest](t, call(t, e2, http.MethodGet, requestsPath+"/"+made.ID, nil), http.StatusOK)
	wantGraphError(t, post(t, e2, assign(alice, globalReader, "PT1H")), http.StatusBadRequest, CodeRoleAssignmentExists, "exists")

	// Only the state file is left behind, no temporary files.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "graph.json" {
		t.Errorf("data dir holds %v", entries)
	}
}

func TestStateIsSavedAfterEveryChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.json")
	e, _ := newEmu(t, Options{StatePath: path})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	st, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Instances) != 1 || len(st.Requests) != 1 {
		t.Errorf("saved %d instances, %d requests; want 1 and 1", len(st.Instances), len(st.Requests))
	}
}

func TestBadStateFileFailsNew(t *testing.T) {
	tests := []struct{ content, want string }{
		{"{not json", "not valid JSON"},
		{`{"version":99}`, "version 99"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "graph.json")
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := New(Options{StatePath: path})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("New with %q: %v", tt.content, err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, opts := range []Options{{ExpiryInterval: -time.Second}, {MaxDuration: -time.Hour}} {
		if _, err := New(opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
}

func TestExpiredAssignmentsAreGoneOnNextCall(t *testing.T) {
	e, c := newEmu(t, Options{ExpiryInterval: time.Hour}) // the loop stays out of it
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT30S")), http.StatusCreated)
	decode[ScheduleRequest](t, post(t, e, assign(bob, globalReader, "PT0.5S")), http.StatusCreated)
	c.Advance(500 * time.Millisecond)
	if got := listInstances(t, e, ""); len(got) != 1 || got[0].PrincipalID != alice {
		t.Fatalf("after 0.5s: %+v", got)
	}
	c.Advance(29*time.Second + 499*time.Millisecond)
	if got := listInstances(t, e, ""); len(got) != 1 {
		t.Fatalf("1ms before the end: %+v", got)
	}
	c.Advance(time.Millisecond)
	if got := listInstances(t, e, ""); len(got) != 0 {
		t.Fatalf("at the end: %+v", got)
	}
	// Gone means a new assignment can be made and a remove finds nothing.
	wantGraphError(t, post(t, e, remove(alice, globalReader)), http.StatusBadRequest, CodeRoleAssignmentDoesNotExist, "does not exist")
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT30S")), http.StatusCreated)
}

func TestExpiryLoopRemovesWithoutCalls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.json")
	e, c := newEmu(t, Options{StatePath: path, ExpiryInterval: time.Millisecond})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1M")), http.StatusCreated)
	c.Advance(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.Instances()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expiry loop did not remove the assignment")
		}
		time.Sleep(time.Millisecond)
	}
	st, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Instances) != 0 {
		t.Errorf("state file still holds %+v", st.Instances)
	}
}
