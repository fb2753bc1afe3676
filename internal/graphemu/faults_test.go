package graphemu

import (
	"net/http"
	"strings"
	"testing"
)

func TestFaultsFailTheNextGraphCalls(t *testing.T) {
	e, _ := newEmu(t, Options{})
	pending := decode[faultList](t, call(t, e, http.MethodPost, faultsPath, `{"status":429,"count":2,"retry_after_seconds":1}`), http.StatusOK)
	if len(pending.Faults) != 1 || pending.Faults[0].Count != 2 {
		t.Fatalf("pending %+v", pending)
	}
	if err := e.InjectFault(Fault{Status: 503, Count: 1}); err != nil {
		t.Fatal(err)
	}

	// The emulator's own controls are not Graph calls: no fault applies.
	if got := decode[faultList](t, call(t, e, http.MethodGet, faultsPath, nil), http.StatusOK); len(got.Faults) != 2 {
		t.Fatalf("GET faults: %+v", got)
	}

	for i := range 2 {
		w := post(t, e, assign(alice, globalReader, "PT1H"))
		wantGraphError(t, w, http.StatusTooManyRequests, "TooManyRequests", "Too Many Requests")
		if ra := w.Header().Get("Retry-After"); ra != "1" {
			t.Errorf("call %d: Retry-After %q", i, ra)
		}
	}
	w := call(t, e, http.MethodGet, instancesPath, nil)
	wantGraphError(t, w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected")
	if ra, ok := w.Header()["Retry-After"]; ok {
		t.Errorf("Retry-After %q sent though none was asked for", ra)
	}
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	if n := len(e.Requests()); n != 1 {
		t.Errorf("%d requests reached PIM, want only the one after the faults", n)
	}
}

func TestFaultsClear(t *testing.T) {
	e, _ := newEmu(t, Options{})
	decode[faultList](t, call(t, e, http.MethodPost, faultsPath, `{"status":500,"count":5}`), http.StatusOK)
	got := decode[faultList](t, call(t, e, http.MethodDelete, faultsPath, nil), http.StatusOK)
	if len(got.Faults) != 0 {
		t.Errorf("after DELETE: %+v", got)
	}
	decode[collection[Instance]](t, call(t, e, http.MethodGet, instancesPath, nil), http.StatusOK)
	// A zero Retry-After is sent when asked for, so clients retry at once.
	decode[faultList](t, call(t, e, http.MethodPost, faultsPath, `{"status":504,"count":1,"retry_after_seconds":0}`), http.StatusOK)
	if ra := call(t, e, http.MethodGet, instancesPath, nil).Header().Get("Retry-After"); ra != "0" {
		t.Errorf("Retry-After %q, want 0", ra)
	}
}

func TestBadFaultsAreRefused(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"status":200,"count":1}`, "status must be an HTTP error status from 400 to 599, got 200"},
		{`{"status":600,"count":1}`, "got 600"},
		{`{"status":429}`, "count must be at least 1, got 0"},
		{`{"status":429,"count":-2}`, "got -2"},
		{`{"status":429,"count":1,"retry_after_seconds":-1}`, "retry_after_seconds must be 0 or more"},
		{`{"status":429,"count":1,"retry_after":1}`, "unknown field"},
		{`{"status":"429","count":1}`, "cannot unmarshal"},
		{`nope`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			e, _ := newEmu(t, Options{})
			wantGraphError(t, call(t, e, http.MethodPost, faultsPath, tt.body), http.StatusBadRequest, CodeMalformedBody, tt.want)
			if len(e.pendingFaults().Faults) != 0 {
				t.Error("a refused fault was queued")
			}
		})
	}
	e, _ := newEmu(t, Options{})
	if err := e.InjectFault(Fault{Status: 302, Count: 1}); err == nil || !strings.Contains(err.Error(), "status") {
		t.Errorf("InjectFault(302): %v", err)
	}
}
