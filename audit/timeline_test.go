package audit_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/internal/historytest"
	"github.com/jitflow/jitflow/workflows"
)

// histories are the saved histories: those that replay, and the drained
// ones of requests that held the role themselves, whose trails still read.
var histories = filepath.Join("..", "workflows", "testdata", "histories")

func loadHistory(t *testing.T, name string) []*historypb.HistoryEvent {
	t.Helper()
	path := filepath.Join(histories, name)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		path = filepath.Join(histories, "drained", name)
	}
	return historytest.Load(t, path).GetEvents()
}

func byType(trail audit.Trail, typ string) []audit.Event {
	var out []audit.Event
	for _, ev := range trail.Events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// TestReadRevokedHistory reads a history the real server wrote: the
// decision and the revoke carry their update, comment and actor; the
// activation and removal carry Graph's request ids.
func TestReadRevokedHistory(t *testing.T) {
	trail, err := audit.Read(loadHistory(t, "revoked.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req := trail.Request
	if req.ID == "" || req.Role != "reader" || req.Requester != "alice@example.com" || req.RequesterID == "" {
		t.Fatalf("request = %+v", req)
	}
	approved := byType(trail, api.EventApproved)
	if len(approved) != 1 {
		t.Fatalf("approved events: %+v", approved)
	}
	a := approved[0]
	if a.Actor != "bob@example.com" || a.ActorID == "" || a.Comment != "recorded" || a.UpdateID == "" || a.ClientIdentity == "" {
		t.Errorf("approved = %+v; want bob with comment, update id and client identity", a)
	}
	revoked := byType(trail, api.EventRevoked)
	if len(revoked) != 1 || revoked[0].Actor != "alice@example.com" || revoked[0].Comment != "recorded" || revoked[0].UpdateID == "" {
		t.Errorf("revoked = %+v", revoked)
	}
	for _, typ := range []string{api.EventActivated, api.EventDeactivated} {
		evs := byType(trail, typ)
		if len(evs) != 1 || evs[0].GraphRequestID == "" || !strings.Contains(evs[0].Detail, evs[0].GraphRequestID) {
			t.Errorf("%s = %+v; want the Graph request id the detail names", typ, evs)
		}
	}
	seen := map[string]bool{}
	for i, ev := range trail.Events {
		if !strings.HasPrefix(ev.ID, req.ID+"/") || seen[ev.ID] || ev.Time.IsZero() {
			t.Errorf("event %d: id %q (seen %v), time %v", i, ev.ID, seen[ev.ID], ev.Time)
		}
		seen[ev.ID] = true
		if i > 0 && ev.HistoryEventID <= trail.Events[i-1].HistoryEventID {
			t.Errorf("event %d out of history order", i)
		}
	}
}

// TestReadEveryPath: every saved path reads, starts with requested and
// holds the same events the workflow package reads from its markers.
func TestReadEveryPath(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(histories, "*.json"))
	drained, _ := filepath.Glob(filepath.Join(histories, "drained", "*.json"))
	files = append(files, drained...)
	if err != nil || len(files) == 0 {
		t.Fatalf("no histories: %v", err)
	}
	for _, file := range files {
		rel, _ := filepath.Rel(histories, file)
		t.Run(rel, func(t *testing.T) {
			events := loadHistory(t, rel)
			trail, err := audit.Read(events, nil)
			if typ := events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName(); typ != workflows.WorkflowName {
				// An assignment workflow's history holds no request's trail.
				if err == nil {
					t.Fatalf("Read accepted a %s history", typ)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			markers, err := workflows.AuditEvents(events, nil)
			if err != nil {
				t.Fatal(err)
			}
			var fromMarkers []audit.Event
			for _, ev := range trail.Events {
				switch ev.Type {
				// Temporal-level acts, and who the directory named (read
				// from the ResolveApprovers activity), have no marker.
				case api.EventCancelRequested, api.EventTerminated, api.EventWorkflowFailed, api.EventWorkflowTimeout, api.EventApproversResolved:
				default:
					fromMarkers = append(fromMarkers, ev)
				}
			}
			// The workflow's first record is requested (Temporal-level
			// acts, a cancel, may come before it); a request refused at
			// its start (no server's proof) records only its failure.
			first := fromMarkers[0]
			refused := first.Type == api.EventFailed && strings.Contains(first.Detail, workflows.NotIssued)
			if len(fromMarkers) != len(markers) || (first.Type != api.EventRequested && !refused) {
				t.Fatalf("trail has %d workflow events (first %q), markers %d", len(fromMarkers), first.Type, len(markers))
			}
			for i, m := range markers {
				ev := fromMarkers[i]
				if ev.Type != m.Type || ev.Actor != m.Actor || ev.Detail != m.Detail || !ev.Time.Equal(m.Time) {
					t.Errorf("event %d = %+v, marker %+v", i, ev, m)
				}
			}
		})
	}
}

// TestReadTemporalLevelActs: cancelling or terminating a request's workflow
// from the Temporal CLI or Web UI shows in the trail, with the client that
// did it.
func TestReadTemporalLevelActs(t *testing.T) {
	tests := []struct {
		file     string
		want     string
		then     []string
		notAfter string
	}{
		{"i6-temporal_cancel_pending.json", api.EventCancelRequested, []string{api.EventCanceled}, ""},
		{"i6-temporal_cancel_active.json", api.EventCancelRequested, []string{api.EventRevoked, api.EventDeactivated}, ""},
		{"i6-terminated_active.json", api.EventTerminated, nil, api.EventDeactivated},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			trail, err := audit.Read(loadHistory(t, tt.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			at := -1
			for i, ev := range trail.Events {
				if ev.Type == tt.want {
					at = i
					if ev.ClientIdentity == "" || ev.Actor != api.ActorSystem || ev.Time.IsZero() {
						t.Errorf("%s event = %+v", tt.want, ev)
					}
				}
			}
			if at < 0 {
				t.Fatalf("no %s event in %+v", tt.want, trail.Events)
			}
			var after []string
			for _, ev := range trail.Events[at+1:] {
				after = append(after, ev.Type)
			}
			for _, want := range tt.then {
				if !slices.Contains(after, want) {
					t.Errorf("after %s: %v, want %s", tt.want, after, want)
				}
			}
			if tt.notAfter != "" && slices.Contains(after, tt.notAfter) {
				t.Errorf("after %s: %v, want no %s", tt.want, after, tt.notAfter)
			}
		})
	}
}

// TestGraphIDsThroughTheAssignmentWorkflow: a request that holds its role
// through the assignment workflow still shows Graph's request ids on its
// activation and removal, read from the HoldGrant and ReleaseGrant results
// or, when the grant reached its end, the removal-progress signal.
func TestGraphIDsThroughTheAssignmentWorkflow(t *testing.T) {
	trail, err := audit.Read(loadHistory(t, "i3-extended_expired.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{api.EventActivated, api.EventDeactivated} {
		evs := byType(trail, typ)
		if len(evs) != 1 || evs[0].GraphRequestID == "" || evs[0].GraphStatus == "" {
			t.Errorf("%s events = %+v, want one with Graph's request id and status", typ, evs)
		}
	}
}

// TestGraphIDsFromTheRecord: the activated and deactivated records carry
// Graph's answer themselves, so the trail shows it from the workflow's own
// records, without the activity results and signals older records need.
func TestGraphIDsFromTheRecord(t *testing.T) {
	var records []*historypb.HistoryEvent
	for _, e := range loadHistory(t, "i3-extended_expired.json") {
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED ||
			e.GetMarkerRecordedEventAttributes().GetMarkerName() == "SideEffect" {
			records = append(records, e)
		}
	}
	trail, err := audit.Read(records, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{api.EventActivated, api.EventDeactivated} {
		evs := byType(trail, typ)
		if len(evs) != 1 || evs[0].GraphRequestID == "" || evs[0].GraphStatus == "" {
			t.Errorf("%s events = %+v, want one with Graph's request id and status from its record", typ, evs)
		}
	}
}

// TestReadProvenHistory reads a history whose start and updates carried the
// API's proofs: every act of a person says how it came (channel), who the
// server authenticated (via) and which key signed; an old history has none
// and still reads.
func TestReadProvenHistory(t *testing.T) {
	trail, err := audit.Read(loadHistory(t, "i8-proven_extended_revoked.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		api.EventRequested:          "api",
		api.EventExtensionRequested: "api",
		api.EventApproved:           "api",
		api.EventRevoked:            "operator",
	}
	for typ, channel := range want {
		evs := byType(trail, typ)
		if len(evs) == 0 {
			t.Errorf("no %s event", typ)
		}
		for _, ev := range evs {
			if ev.Channel != channel || ev.KeyID == "" || !strings.Contains(ev.Via, ev.Actor) {
				t.Errorf("%s = %+v; want channel %s, a key id and the token of %s", typ, ev, channel, ev.Actor)
			}
		}
	}
	for _, ev := range byType(trail, api.EventActivated) {
		if ev.Channel != "" || ev.Via != "" {
			t.Errorf("activated (by no person) = %+v; want no channel", ev)
		}
	}
	old, err := audit.Read(loadHistory(t, "drained/revoked.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range old.Events {
		if ev.Channel != "" || ev.Via != "" || ev.KeyID != "" {
			t.Errorf("an event from before proofs has %+v", ev)
		}
	}
}

// TestReadForgedStartHistory: a request started straight through Temporal
// shows one event, its failure, and nothing requested.
func TestReadForgedStartHistory(t *testing.T) {
	trail, err := audit.Read(loadHistory(t, "i8-forged_start_failed.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(trail.Events) != 1 || trail.Events[0].Type != api.EventFailed || !strings.Contains(trail.Events[0].Detail, workflows.NotIssued) {
		t.Fatalf("events = %+v; want one failed event, %q", trail.Events, workflows.NotIssued)
	}
}
