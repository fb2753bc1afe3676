package workflows

import (
	"encoding/json"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// AuditRecordSchema names the version of the audit record the workflow
// writes into its history. Fields may be added within a version; a change
// that removes or redefines one makes a new version, which readers must
// learn before workflows write it.
const AuditRecordSchema = "jitflow.audit-record/v1"

// AuditRecord is what the workflow writes into its history for each audit
// event: a self-describing envelope, so a reader recognises jitflow's
// records by their content, never by their place in the history or by
// which other side effects the workflow happens to make.
type AuditRecord struct {
	Schema string     `json:"schema"`
	Event  AuditEvent `json:"event"`
}

// How the Go SDK records workflow.SideEffect in history (see
// recordSideEffectMarker in go.temporal.io/sdk/internal): a MarkerRecorded
// event named "SideEffect" whose details hold the side effect's sequence
// number under "side-effect-id" and the encoded result under "data". The
// SDK must replay its own markers of every history still running, so it
// cannot change this for the markers it already wrote; TestAuditRecordsOfTheSDK
// checks that the SDK in go.mod still writes it.
const (
	sideEffectMarkerName     = "SideEffect"
	sideEffectMarkerDataName = "data"
)

// record writes an audit event into the workflow's history. A side effect
// makes it one marker event (no other command, no visibility write), which
// replays leave untouched, so the trail is exactly what happened when it
// happened. The marker holds an AuditRecord, so the history says by itself
// which markers are audit events (docs/audit-events.md).
func (s *accessRequest) record(ctx workflow.Context, ev AuditEvent) {
	ev.Time = workflow.Now(ctx)
	workflow.SideEffect(ctx, func(workflow.Context) any { return AuditRecord{Schema: AuditRecordSchema, Event: ev} })
}

// AuditEvents reads a request's audit trail back from its workflow history,
// in history order. Markers other than side effects (versions, local
// activities, mutable side effects) are skipped. dc must be the data
// converter the workers use (nil means Temporal's default).
func AuditEvents(events []*historypb.HistoryEvent, dc converter.DataConverter) ([]AuditEvent, error) {
	out := []AuditEvent{}
	for _, e := range events {
		ev, ok, err := AuditEventOf(e, dc)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, ev)
		}
	}
	return out, nil
}

// storedAudit is what a side-effect marker of an access request may hold:
// an AuditRecord, or (histories written before AuditRecord) the bare
// AuditEvent, which always had a time, a type and an actor.
type storedAudit struct {
	Schema string      `json:"schema"`
	Event  *AuditEvent `json:"event"`
	AuditEvent
}

// AuditEventOf decodes the audit event a history event records, if it is
// one: a side-effect marker holding an AuditRecord, or the bare event of a
// history from before records. Other side effects are not audit events. A
// payload the data converter cannot decode is an error, not a skip: a
// reader with the wrong converter must not show an empty trail.
func AuditEventOf(e *historypb.HistoryEvent, dc converter.DataConverter) (AuditEvent, bool, error) {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	attrs := e.GetMarkerRecordedEventAttributes()
	if e.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED || attrs.GetMarkerName() != sideEffectMarkerName {
		return AuditEvent{}, false, nil
	}
	data, ok := attrs.GetDetails()[sideEffectMarkerDataName]
	if !ok {
		return AuditEvent{}, false, fmt.Errorf("history event %d: side-effect marker has no %q details", e.GetEventId(), sideEffectMarkerDataName)
	}
	var raw json.RawMessage
	if err := dc.FromPayloads(data, &raw); err != nil {
		return AuditEvent{}, false, fmt.Errorf("history event %d: decode side effect: %w", e.GetEventId(), err)
	}
	var st storedAudit
	if json.Unmarshal(raw, &st) != nil {
		return AuditEvent{}, false, nil // a side effect whose value is no object
	}
	switch {
	case st.Schema == AuditRecordSchema && st.Event == nil:
		return AuditEvent{}, false, fmt.Errorf("history event %d: audit record without an event", e.GetEventId())
	case st.Schema == AuditRecordSchema:
		return *st.Event, true, nil
	case strings.HasPrefix(st.Schema, "jitflow."):
		return AuditEvent{}, false, fmt.Errorf("history event %d: audit record of schema %q; this reader knows %q", e.GetEventId(), st.Schema, AuditRecordSchema)
	case st.Schema == "" && st.Type != "" && st.Actor != "" && !st.Time.IsZero():
		return st.AuditEvent, true, nil
	}
	return AuditEvent{}, false, nil
}

// requestedDetail summarizes the request for the audit trail.
func (s *accessRequest) requestedDetail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) at scope %s for %s", s.in.Target.Role, s.in.Target.RoleDefinitionID, s.in.Target.DirectoryScopeID, s.in.Duration)
	if s.in.BreakGlass {
		b.WriteString(", break-glass")
	}
	if s.in.Ticket != "" {
		fmt.Fprintf(&b, ", ticket %s", s.in.Ticket)
	}
	fmt.Fprintf(&b, ": %s", s.in.Justification)
	return b.String()
}
