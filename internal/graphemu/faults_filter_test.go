package graphemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"testing"
)

func TestFaultsNarrowedByMethodPathAndAction(t *testing.T) {
	e, _ := newEmu(t, Options{})
	decode[faultList](t, call(t, e, http.MethodPost, faultsPath, `{"status":503,"count":1,"action":"adminRemove"}`), http.StatusOK)
	decode[faultList](t, call(t, e, http.MethodPost, faultsPath, `{"status":429,"count":1,"method":"GET","path":"roleAssignmentScheduleInstances","retry_after_seconds":2}`), http.StatusOK)

	// Neither fault matches an assign.
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	// Listing requests is a GET on another path: untouched.
	decode[collection[ScheduleRequest]](t, call(t, e, http.MethodGet, requestsPath, nil), http.StatusOK)
	w := call(t, e, http.MethodGet, instancesPath, nil)
	wantGraphError(t, w, http.StatusTooManyRequests, "TooManyRequests", "injected")
	if w.Header().Get("Retry-After") != "2" {
		t.Errorf("Retry-After %q, want 2", w.Header().Get("Retry-After"))
	}
	wantGraphError(t, post(t, e, remove(alice, globalReader)), http.StatusServiceUnavailable, "ServiceUnavailable", "injected")
	// The body the fault peeked at still reaches the handler.
	decode[ScheduleRequest](t, post(t, e, remove(alice, globalReader)), http.StatusCreated)
	if got := decode[faultList](t, call(t, e, http.MethodGet, faultsPath, nil), http.StatusOK); len(got.Faults) != 0 {
		t.Errorf("faults left: %+v", got)
	}
}

func TestFaultActionMatchesGzippedBody(t *testing.T) {
	e, _ := newEmu(t, Options{})
	if err := e.InjectFault(Fault{Status: 503, Count: 1, Action: "adminAssign"}); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if err := json.NewEncoder(zw).Encode(assign(alice, globalReader, "PT1H")); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	w := call(t, e, http.MethodPost, requestsPath, gz.Bytes(), "Content-Encoding", "gzip")
	wantGraphError(t, w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected")
	decode[ScheduleRequest](t, call(t, e, http.MethodPost, requestsPath, gz.Bytes(), "Content-Encoding", "gzip"), http.StatusCreated)
}
