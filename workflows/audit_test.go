package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/api"
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

// record appends the side effect of an audit event as the workflow writes it.
func (h *history) record(ev workflows.AuditEvent) {
	h.sideEffect(workflows.AuditRecord{Schema: workflows.AuditRecordSchema, Event: ev})
}

// other appends an event that is not a marker.
func (h *history) other(typ enumspb.EventType) {
	h.events = append(h.events, &historypb.HistoryEvent{EventId: int64(len(h.events) + 1), EventType: typ})
}

func TestAuditEvents(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	want := []workflows.AuditEvent{
		{Time: at, Type: api.EventRequested, Actor: alice.UPN, ActorID: alice.ID, Detail: "reader for 1h: incident"},
		{Time: at.Add(5 * time.Second), Type: api.EventApproved, Actor: bob.UPN, ActorID: bob.ID, Detail: "ok", Stage: 1},
		{Time: at.Add(6 * time.Second), Type: api.EventActivated, Actor: api.ActorSystem, Detail: "role assigned"},
	}
	h := &history{t: t, dc: converter.GetDefaultDataConverter()}
	h.other(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
	// The start check is a side effect, not an audit record.
	h.sideEffect(map[string]string{"start_refused": ""})
	h.record(want[0])
	// Markers of other SDK features hold a "data" detail too; they must be skipped by name.
	h.marker("Version", map[string]*commonpb.Payloads{"change-id": h.payloads("x"), "version": h.payloads(1)})
	h.marker("LocalActivity", map[string]*commonpb.Payloads{"data": h.payloads(map[string]string{"ActivityID": "1"})})
	h.marker("MutableSideEffect", map[string]*commonpb.Payloads{"side-effect-id": h.payloads("id_1"), "data": h.payloads("v")})
	h.other(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	h.record(want[1])
	// Side effects of other values are no audit events, whatever their place.
	h.sideEffect("text")
	h.sideEffect(42)
	h.sideEffect(nil)
	h.sideEffect(map[string]string{"type": "approved"})
	h.record(want[2])
	h.other(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)

	got, err := workflows.AuditEvents(h.events, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)

	none, err := workflows.AuditEvents(nil, nil)
	require.NoError(t, err)
	require.NotNil(t, none, "an empty trail is [] in JSON, not null")
}

// A request that ran across the upgrade to AuditRecord holds bare events
// (written before) and records (after); its trail reads whole.
func TestAuditEventsAcrossRecords(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	want := []workflows.AuditEvent{
		{Time: at, Type: api.EventRequested, Actor: alice.UPN, ActorID: alice.ID, Detail: "reader for 1h: incident"},
		{Time: at.Add(5 * time.Second), Type: api.EventApproved, Actor: bob.UPN, ActorID: bob.ID, Detail: "ok", Stage: 1},
	}
	h := &history{t: t, dc: converter.GetDefaultDataConverter()}
	h.sideEffect(want[0])
	h.sideEffect(map[string]any{"type": "approved", "detail": "no time, no actor: not one of the workflow's bare events"})
	h.record(want[1])
	got, err := workflows.AuditEvents(h.events, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
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
		{"not decodable", func(h *history) map[string]*commonpb.Payloads {
			p := h.payloads(workflows.AuditRecord{Schema: workflows.AuditRecordSchema})
			p.Payloads[0].Metadata["encoding"] = []byte("binary/encrypted")
			return map[string]*commonpb.Payloads{"side-effect-id": h.payloads(int64(1)), "data": p}
		}, "history event 1: decode side effect"},
		{"a later schema", func(h *history) map[string]*commonpb.Payloads {
			return map[string]*commonpb.Payloads{"side-effect-id": h.payloads(int64(1)), "data": h.payloads(map[string]any{"schema": "jitflow.audit-record/v2", "event": map[string]string{"type": "approved"}})}
		}, `schema "jitflow.audit-record/v2"`},
		{"a record without its event", func(h *history) map[string]*commonpb.Payloads {
			return map[string]*commonpb.Payloads{"side-effect-id": h.payloads(int64(1)), "data": h.payloads(map[string]any{"schema": workflows.AuditRecordSchema})}
		}, "audit record without an event"},
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
		h.record(ev)
	}
	got, err := workflows.AuditEvents(h.events, nil)
	require.NoError(t, err)
	require.Equal(t, run.audit.events, got)
	require.Equal(t, api.EventRequested, got[0].Type)
	require.Equal(t, "reader (f2ef992c-3afb-46b9-b7cf-a126ee74c451) at scope / for 1h0m0s: look into incident 42", got[0].Detail)
	require.Equal(t, t0, got[0].Time)
}
