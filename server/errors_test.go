package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/workflows"
)

func TestRouterErrorsAreProblems(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		fragment     string
	}{
		{http.MethodGet, "/nope", 404, "/nope"},
		{http.MethodGet, "/api/v2/requests", 404, "/api/v2/requests"},
		{http.MethodDelete, "/api/v1/requests", 405, "DELETE"},
		{http.MethodPut, "/api/v1/requests/req-00000000", 405, "PUT"},
		{http.MethodGet, "/api/v1/requests/req-00000000/approve", 405, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.call(tt.method, tt.path, "alice", "")
			wantStatus(t, r, tt.status)
			p := r.problem(t)
			wantContains(t, "detail", p.Detail, tt.fragment)
			if p.Instance != tt.path {
				t.Errorf("instance = %q, want %q", p.Instance, tt.path)
			}
			if tt.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
		})
	}
}

func TestRequestIDGenerated(t *testing.T) {
	e := newEnv(t)
	for _, sent := range []string{"", "has space", strings.Repeat("r", 200)} {
		var headers []string
		if sent != "" {
			headers = append(headers, "X-Request-Id: "+sent)
		}
		r := e.call(http.MethodGet, "/healthz", "", "", headers...)
		if got := r.header.Get("X-Request-Id"); got == "" || got == sent {
			t.Errorf("sent %q, got X-Request-Id %q; want a fresh one", sent, got)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodGet, "/healthz", "", "")
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("body = %q", r.body)
	}
	e.ready = errors.New("no worker polls task queue jitflow")
	r = e.call(http.MethodGet, "/healthz", "", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "detail", r.problem(t).Detail, "no worker polls")
}

func TestHealthDefaultsToTemporal(t *testing.T) {
	e := newEnv(t)
	e.server.ready = e.server.temporalHealthy
	wantStatus(t, e.call(http.MethodGet, "/healthz", "", ""), http.StatusOK)
	e.temporal.healthErr = errors.New("connection refused")
	wantStatus(t, e.call(http.MethodGet, "/healthz", "", ""), http.StatusServiceUnavailable)
}

func TestPanicIsProblem(t *testing.T) {
	e := newEnv(t)
	e.temporal.update = func(client.UpdateWorkflowOptions) (workflows.Request, error) {
		panic("bug")
	}
	id := e.create("alice", readerBody)
	r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
	wantStatus(t, r, http.StatusInternalServerError)
	p := r.problem(t)
	wantContains(t, "detail", p.Detail, r.header.Get("X-Request-Id"))
	wantContains(t, "log", e.logs.String(), "handler panic")
}

func TestNewNeedsConfig(t *testing.T) {
	_, err := New(Config{})
	if err == nil {
		t.Fatal("New with an empty config succeeded")
	}
	wantContains(t, "error", err.Error(), "Temporal", "Policy", "Verifier")
}
