package graphemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/internal/testclock"
)

// Ids used across the tests.
const (
	alice        = "11111111-1111-1111-1111-111111111111"
	bob          = "22222222-2222-2222-2222-222222222222"
	globalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	securityAdm  = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	unknownRole  = "00000000-0000-0000-0000-0000000000aa"
)

var t0 = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

// newEmu starts an emulator on a fake clock at t0 and closes it after the test.
func newEmu(t *testing.T, opts Options) (*Emulator, *testclock.Clock) {
	t.Helper()
	c := testclock.New(t0)
	if opts.Now == nil {
		opts.Now = c.Now
	}
	e, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e, c
}

// call sends one request to the handler; body may be a string (sent as is),
// []byte, or a value to encode as JSON.
func call(t *testing.T, e *Emulator, method, path string, body any, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	r := httptest.NewRequest(method, path, bytes.NewReader(data))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.Handler().ServeHTTP(w, r)
	return w
}

// decode reads a JSON answer, failing the test on a wrong status.
func decode[T any](t *testing.T, w *httptest.ResponseRecorder, wantStatus int) T {
	t.Helper()
	if w.Code != wantStatus {
		t.Fatalf("status %d, want %d; body %s", w.Code, wantStatus, w.Body)
	}
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

// wantGraphError checks Graph's error envelope: status, code, a message
// containing want, and the inner error's ids matching the headers.
func wantGraphError(t *testing.T, w *httptest.ResponseRecorder, status int, code, want string) {
	t.Helper()
	got := decode[graphErrorBody](t, w, status)
	if got.Error.Code != code {
		t.Errorf("code %q, want %q (message %q)", got.Error.Code, code, got.Error.Message)
	}
	if got.Error.Message == "" || !strings.Contains(got.Error.Message, want) {
		t.Errorf("message %q, want it to contain %q", got.Error.Message, want)
	}
	inner := got.Error.InnerError
	if inner.RequestID == "" || inner.RequestID != w.Header().Get("request-id") {
		t.Errorf("innerError request-id %q, header %q", inner.RequestID, w.Header().Get("request-id"))
	}
	if inner.ClientRequestID == "" || inner.ClientRequestID != w.Header().Get("client-request-id") {
		t.Errorf("innerError client-request-id %q, header %q", inner.ClientRequestID, w.Header().Get("client-request-id"))
	}
	if _, err := time.Parse("2006-01-02T15:04:05", inner.Date); err != nil {
		t.Errorf("innerError date %q: %v", inner.Date, err)
	}
}

// request is a schedule request body; fields left zero are left out.
type request map[string]any

func assign(principal, role, duration string) request {
	return request{
		"action":           ActionAdminAssign,
		"principalId":      principal,
		"roleDefinitionId": role,
		"directoryScopeId": "/",
		"justification":    "incident 42",
		"scheduleInfo":     map[string]any{"expiration": map[string]any{"type": ExpirationAfterDuration, "duration": duration}},
	}
}

func remove(principal, role string) request {
	return request{"action": ActionAdminRemove, "principalId": principal, "roleDefinitionId": role, "directoryScopeId": "/"}
}

// with returns a copy of r with key set (or deleted when v is nil).
func (r request) with(key string, v any) request {
	out := request{}
	for k, x := range r {
		out[k] = x
	}
	if v == nil {
		delete(out, key)
	} else {
		out[key] = v
	}
	return out
}

const (
	requestsPath  = "/v1.0/roleManagement/directory/roleAssignmentScheduleRequests"
	instancesPath = "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances"
	faultsPath    = "/_emulator/faults"
)

func post(t *testing.T, e *Emulator, body any) *httptest.ResponseRecorder {
	t.Helper()
	return call(t, e, http.MethodPost, requestsPath, body)
}

// listInstances gets the instances matching an OData filter ("" for all).
func listInstances(t *testing.T, e *Emulator, filter string) []Instance {
	t.Helper()
	path := instancesPath
	if filter != "" {
		path += "?%24filter=" + url.QueryEscape(filter)
	}
	return decode[collection[Instance]](t, call(t, e, http.MethodGet, path, nil), http.StatusOK).Value
}
