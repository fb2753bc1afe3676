package workflows

import (
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// How the Go SDK records workflow.SideEffect in history (see
// recordSideEffectMarker in go.temporal.io/sdk/internal): a MarkerRecorded
// event named "SideEffect" whose details hold the side effect's sequence
// number under "side-effect-id" and the encoded result under "data".
const (
	sideEffectMarkerName     = "SideEffect"
	sideEffectMarkerDataName = "data"
)

// record writes an audit event into the workflow's history. A side effect
// makes it a marker, which replays leave untouched, so the trail is exactly
// what happened when it happened. Every side effect of this workflow is an
// audit event but the start check (startCheck), whose result has no type;
// AuditEvents relies on that.
func (s *accessRequest) record(ctx workflow.Context, ev AuditEvent) {
	ev.Time = workflow.Now(ctx)
	workflow.SideEffect(ctx, func(workflow.Context) any { return ev })
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

// AuditEventOf decodes the audit event a history event records, if it is
// one (a side-effect marker of this workflow).
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
	var ev AuditEvent
	if err := dc.FromPayloads(data, &ev); err != nil {
		return AuditEvent{}, false, fmt.Errorf("history event %d: decode audit event: %w", e.GetEventId(), err)
	}
	return ev, ev.Type != "", nil
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
