package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/workflows"
)

// history builds events the way a server stores them.
type history struct {
	t      *testing.T
	dc     converter.DataConverter
	events []*historypb.HistoryEvent
	sideID int64
}

func (h *history) payloads(v any) *commonpb.Payloads {
	h.t.Helper()
	p, err := h.dc.ToPayloads(v)
	require.NoError(h.t, err)
	return p
}

// marker appends a MarkerRecorded event.
func (h *history) marker(name string, details map[string]*commonpb.Payloads) {
	h.events = append(h.events, &historypb.HistoryEvent{
		EventId:   int64(len(h.events) + 1),
		EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
		Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{
			MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: name, Details: details},
		},
	})
}

// sideEffect appends a marker exactly as the Go SDK records
// workflow.SideEffect (recordSideEffectMarker in go.temporal.io/sdk/internal):
// name "SideEffect", the sequence number under "side-effect-id" and the
// encoded result under "data".
func (h *history) sideEffect(v any) {
	h.sideID++
	h.marker("SideEffect", map[string]*commonpb.Payloads{
		"side-effect-id": h.payloads(h.sideID),
		"data":           h.payloads(v),
	})
}

// other appends an event that is not a marker.
func (h *history) other(typ enumspb.EventType) {
	h.events = append(h.events, &historypb.HistoryEvent{EventId: int64(len(h.events) + 1), EventType: typ})
}

func TestAuditEvents(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	want := []workflows.AuditEvent{
		{Time: at, Type: workflows.EventRequested, Actor: alice.UPN, ActorID: alice.ID, Detail: "reader for 1h: incident"},
		{Time: at.Add(5 * time.Second), Type: workflows.EventApproved, Actor: bob.UPN, ActorID: bob.ID, Detail: "ok", Stage: 1},
		{Time: at.Add(6 * time.Second), Type: workflows.EventActivated, Actor: workflows.ActorSystem, Detail: "role assigned"},
	}
	h := &history{t: t, dc: converter.GetDefaultDataConverter()}
	h.other(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
	h.sideEffect(want[0])
	// Markers of other SDK features hold a "data" detail too; they must be skipped by name.
	h.marker("Version", map[string]*commonpb.Payloads{"change-id": h.payloads("x"), "version": h.payloads(1)})
	h.marker("LocalActivity", map[string]*commonpb.Payloads{"data": h.payloads(map[string]string{"ActivityID": "1"})})
	h.marker("MutableSideEffect", map[string]*commonpb.Payloads{"side-effect-id": h.payloads("id_1"), "data": h.payloads("v")})
	h.other(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	h.sideEffect(want[1])
	h.sideEffect(want[2])
	h.other(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)

	got, err := workflows.AuditEvents(h.events, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)

	none, err := workflows.AuditEvents(nil, nil)
	require.NoError(t, err)
	require.NotNil(t, none, "an empty trail is [] in JSON, not null")
}

func TestAuditEventsErrors(t *testing.T) {
	tests := []struct {
		name     string
		details  func(h *history) map[string]*commonpb.Payloads
		contains string
	}{
		{"no data", func(h *history) map[string]*commonpb.Payloads {
			return map[string]*commonpb.Payloads{"side-effect-id": h.payloads(int64(1))}
		}, `history event 1: side-effect marker has no "data" details`},
		{"not an audit event", func(h *history) map[string]*commonpb.Payloads {
			return map[string]*commonpb.Payloads{"side-effect-id": h.payloads(int64(1)), "data": h.payloads("text")}
		}, "history event 1: decode audit event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &history{t: t, dc: converter.GetDefaultDataConverter()}
			h.marker("SideEffect", tc.details(h))
			_, err := workflows.AuditEvents(h.events, nil)
			require.ErrorContains(t, err, tc.contains)
		})
	}
}

// TestAuditEventsOfARun reads back, through history markers, the trail a
// whole request recorded.
func TestAuditEventsOfARun(t *testing.T) {
	run := newHarness(t, readerInput())
	run.decideAt(5*time.Second, bob, approve, "ok")
	run.run()

	h := &history{t: t, dc: converter.GetDefaultDataConverter()}
	for _, ev := range run.audit.events {
		h.sideEffect(ev)
	}
	got, err := workflows.AuditEvents(h.events, nil)
	require.NoError(t, err)
	require.Equal(t, run.audit.events, got)
	require.Equal(t, workflows.EventRequested, got[0].Type)
	require.Equal(t, "reader (f2ef992c-3afb-46b9-b7cf-a126ee74c451) at scope / for 1h0m0s: look into incident 42", got[0].Detail)
	require.Equal(t, t0, got[0].Time)
}
