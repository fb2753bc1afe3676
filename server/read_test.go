package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

func TestGetRequestAccess(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	tests := []struct {
		user   string
		status int
	}{
		{"alice", 200}, // requester
		{"bob", 200},   // first-tier approver
		{"carol", 200}, // escalation approver
		{"dave", 200},  // operator
		{"erin", 403},  // none of these
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			r := e.call(http.MethodGet, "/api/v1/requests/"+id, tt.user, "")
			wantStatus(t, r, tt.status)
			if tt.status == 200 {
				if got := r.request(t); got.ID != id || got.Status != api.StatusPending {
					t.Errorf("request = %+v", got)
				}
			} else {
				r.problem(t)
			}
		})
	}
}

func TestGetRequestNotFound(t *testing.T) {
	e := newEnv(t)
	e.create("alice", readerBody)
	for _, path := range []string{
		"/api/v1/requests/req-00000000-0000-4000-8000-000000000000",
		"/api/v1/requests/req-XYZ",
		"/api/v1/requests/other-workflow",
		"/api/v1/requests/req-..",
		"/api/v1/requests/%27%20OR%201=1",
	} {
		t.Run(path, func(t *testing.T) {
			r := e.call(http.MethodGet, path, "alice", "")
			wantStatus(t, r, http.StatusNotFound)
			r.problem(t)
		})
	}
}

func TestGetRequestOfAnotherWorkflowType(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.wfs[id].typ = "SomethingElse"
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/"+id, "dave", ""), http.StatusNotFound)
}

func auditMarker(t *testing.T, eventID int64, ev workflows.AuditEvent) *historypb.HistoryEvent {
	t.Helper()
	data, err := converter.GetDefaultDataConverter().ToPayloads(ev)
	if err != nil {
		t.Fatal(err)
	}
	return &historypb.HistoryEvent{
		EventId:   eventID,
		EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
		Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
			MarkerName: "SideEffect",
			Details:    map[string]*commonpb.Payloads{"data": data},
		}},
	}
}

func TestAudit(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	at := time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC)
	e.temporal.history = []*historypb.HistoryEvent{
		{EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED},
		auditMarker(t, 2, workflows.AuditEvent{Time: at, Type: api.EventRequested, Actor: "alice@example.com", ActorID: aliceID, Detail: "reader for 1h"}),
		auditMarker(t, 3, workflows.AuditEvent{Time: at.Add(time.Second), Type: api.EventApproved, Actor: "bob@example.com", ActorID: bobID, Stage: 1}),
	}
	r := e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "bob", "")
	wantStatus(t, r, http.StatusOK)
	var body struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Events) != 2 {
		t.Fatalf("events = %v", body.Events)
	}
	first := body.Events[0]
	if first["type"] != "requested" || first["actor"] != "alice@example.com" || first["detail"] != "reader for 1h" || first["time"] != "2030-01-01T00:00:01Z" {
		t.Errorf("first event = %v", first)
	}

	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "erin", ""), http.StatusForbidden)
	wantStatus(t, e.call(http.MethodGet, "/api/v1/requests/req-00000000/audit", "alice", ""), http.StatusNotFound)

	e.temporal.history = []*historypb.HistoryEvent{}
	r = e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "alice", "")
	wantStatus(t, r, http.StatusOK)
	if got := string(r.body); got != "{\"events\":[]}\n" {
		t.Errorf("empty trail = %q", got)
	}
}
