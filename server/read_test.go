package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
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

// getAsSubmitted reads request id as user and checks that it came as
// submitted: the marker in the body and in the header, and the fields of
// readerBody that only the start holds.
func getAsSubmitted(t *testing.T, e *env, user, id string) workflows.Request {
	t.Helper()
	r := e.call(http.MethodGet, "/api/v1/requests/"+id, user, "")
	wantStatus(t, r, http.StatusOK)
	got := r.request(t)
	if got.View != api.ViewSubmitted || r.header.Get(HeaderView) != api.ViewSubmitted {
		t.Errorf("view = %q, header %s = %q; want %q in both", got.View, HeaderView, r.header.Get(HeaderView), api.ViewSubmitted)
	}
	if got.ID != id || got.Role != "reader" || got.Justification != "investigate incident 42" || got.Duration != "1h0m0s" ||
		got.RequesterID != aliceID || got.Decisions == nil || len(got.Decisions) != 0 || got.ActivatedAt != nil || got.ExpiresAt != nil {
		t.Errorf("submitted view = %+v", got)
	}
	return got
}

// A workflow that has not answered its query within readWait (its first
// task still waiting behind a burst) is read at once as submitted, from
// this server's recent starts, with no call to its history.
func TestGetRequestQueryBlocked(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	gate := make(chan struct{})
	defer close(gate)
	e.temporal.wfs[id].queryGate = gate
	start := time.Now()
	got := getAsSubmitted(t, e, "bob", id)
	if waited := time.Since(start); waited >= queryTimeout {
		t.Errorf("answered after %s, not within the read's own wait (%s)", waited, readWait)
	}
	if got.Status != api.StatusPending || len(got.Approvers) == 0 {
		t.Errorf("submitted view of a pending request = %+v", got)
	}
	if _, calls := e.temporal.callCount(); calls["GetWorkflowHistory"] != 0 {
		t.Errorf("history read %d times, want the recent start used", calls["GetWorkflowHistory"])
	}
	// The header is only for the submitted view.
	e.temporal.wfs[id].queryGate = nil
	r := e.call(http.MethodGet, "/api/v1/requests/"+id, "bob", "")
	wantStatus(t, r, http.StatusOK)
	if v := r.header.Get(HeaderView); v != "" || r.request(t).View != "" {
		t.Errorf("current view marked %q / %q", v, r.request(t).View)
	}
}

// Past the recent starts' window, the submitted view comes from the start
// event in the history.
func TestGetRequestFromHistory(t *testing.T) {
	for name, err := range map[string]error{
		"not ready": serviceerror.NewWorkflowNotReady("workflow task not completed"),
		"deadline":  serviceerror.NewDeadlineExceeded("context deadline exceeded"),
		"failed":    serviceerror.NewQueryFailed("query handler failed"),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			id := e.create("alice", readerBody)
			e.server.recent.starts = nil
			e.temporal.wfs[id].queryErr = err
			getAsSubmitted(t, e, "alice", id)
			if _, calls := e.temporal.callCount(); calls["GetWorkflowHistory"] != 1 {
				t.Errorf("history read %d times, want 1", calls["GetWorkflowHistory"])
			}
		})
	}
}

// A workflow whose first task has not completed cannot answer: the read
// does not ask it.
func TestGetRequestBeforeFirstTask(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.wfs[id].historyLength = 2
	getAsSubmitted(t, e, "alice", id)
	if _, calls := e.temporal.callCount(); calls["QueryWorkflow"] != 0 {
		t.Errorf("%d queries to a workflow that has not run its first task", calls["QueryWorkflow"])
	}
	e.temporal.wfs[id].historyLength = 4
	e.temporal.wfs[id].view.Tier = 2
	if got := e.call(http.MethodGet, "/api/v1/requests/"+id, "alice", "").request(t); got.View != "" || got.Tier != 2 {
		t.Errorf("after the first task: %+v, want the workflow's view", got)
	}
}

// The submitted view carries the status the workflow recorded since, and
// nothing it did not record: no decision, and no approvers once approval
// is over.
func TestGetRequestSubmittedWithRecordedStatus(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.close(id, api.StatusDenied)
	e.temporal.wfs[id].queryErr = serviceerror.NewDeadlineExceeded("no worker")
	got := getAsSubmitted(t, e, "alice", id)
	if got.Status != api.StatusDenied || got.EndedAt == nil || len(got.Approvers) != 0 || got.Approvers == nil || got.EscalatesAt != nil {
		t.Errorf("denied request as submitted = %+v", got)
	}
}

// Temporal itself out of reach is still a 503: there is nothing to answer
// from. The audit trail, read from history, needs no worker.
func TestGetRequestTemporalUnreachable(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.queryErr = serviceerror.NewUnavailable("connection refused")

	r := e.call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "alice", "")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"request_id":"`+id+`"`) {
		t.Errorf("audit without a worker = %s", r.body)
	}

	e.server.recent.starts = nil
	e.temporal.historyErr = serviceerror.NewUnavailable("connection refused")
	r = e.call(http.MethodGet, "/api/v1/requests/"+id, "alice", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, "detail", r.problem(t).Detail, "unavailable")

	e.temporal.describeErr = serviceerror.NewUnavailable("connection refused")
	for _, path := range []string{"/api/v1/requests/" + id, "/api/v1/requests/" + id + "/audit"} {
		r := e.call(http.MethodGet, path, "alice", "")
		wantStatus(t, r, http.StatusServiceUnavailable)
		r.problem(t)
	}
}
