// Package audit reads a request's audit timeline out of its Temporal
// workflow history (there is no second database), and exports it as JSON
// Lines for a SIEM: once from the command line, or continuously from a
// scheduled workflow that remembers how far it got.
package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// Event is one entry of a request's timeline, as the API answers it and
// the export writes it.
type Event = api.AuditEvent

// Request is what the timeline knows of the request from its start event.
type Request = api.AuditRequest

// Trail is a request and its timeline, in history order.
type Trail struct {
	Request Request `json:"request"`
	Events  []Event `json:"events"`
}

// Update names of the workflow, and what each carries.
var updateEvents = map[string][]string{
	workflows.UpdateDecide: {api.EventApproved, api.EventDenied},
	workflows.UpdateCancel: {api.EventCanceled},
	workflows.UpdateRevoke: {api.EventRevoked},
}

// acceptedUpdate is an update the workflow accepted whose audit event has
// not been read yet.
type acceptedUpdate struct {
	name, id, identity, actorID, comment string
}

// reader walks one history.
type reader struct {
	dc       converter.DataConverter
	trail    Trail
	activity map[int64]string // scheduled event id -> activity type
	// resolving holds the inputs of ResolveApprovers activities, by
	// scheduled event id, until their results are read.
	resolving map[int64]activities.ResolveApproversInput
	graph     map[string]graphAnswer
	accepted  []acceptedUpdate
	requestID string
}

type graphAnswer struct {
	RequestID string `json:"graph_request_id"`
	Status    string `json:"graph_status"`
}

// Read builds the trail of one request from its complete history. dc must
// be the data converter the workers use (nil means Temporal's default).
func Read(history []*historypb.HistoryEvent, dc converter.DataConverter) (Trail, error) {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	r := &reader{dc: dc, activity: map[int64]string{}, resolving: map[int64]activities.ResolveApproversInput{}, graph: map[string]graphAnswer{}, trail: Trail{Events: []Event{}}}
	for _, e := range history {
		if err := r.read(e); err != nil {
			return Trail{}, err
		}
	}
	return r.trail, nil
}

func (r *reader) read(e *historypb.HistoryEvent) error {
	switch e.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
		return r.started(e)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		r.activityScheduled(e)
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		r.activityCompleted(e)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
		r.updateAccepted(e)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
		r.signaled(e)
	case enumspb.EVENT_TYPE_MARKER_RECORDED:
		if e.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
			r.localActivity(e)
			return nil
		}
		ev, ok, err := workflows.AuditEventOf(e, r.dc)
		if err != nil || !ok {
			return err
		}
		r.marker(e, ev)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
		a := e.GetWorkflowExecutionCancelRequestedEventAttributes()
		r.add(e, Event{Type: api.EventCancelRequested, Actor: api.ActorSystem, Channel: workflows.ChannelTemporalCancel, ClientIdentity: a.GetIdentity(),
			Detail: "cancellation of the workflow requested in Temporal" + reasonSuffix(a.GetCause())})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		a := e.GetWorkflowExecutionTerminatedEventAttributes()
		r.add(e, Event{Type: api.EventTerminated, Actor: api.ActorSystem, ClientIdentity: a.GetIdentity(),
			Detail: "the workflow was terminated in Temporal; no removal ran, Entra ends the assignment at its own expiry" + reasonSuffix(a.GetReason())})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		a := e.GetWorkflowExecutionFailedEventAttributes()
		r.add(e, Event{Type: api.EventWorkflowFailed, Actor: api.ActorSystem, Detail: "the workflow failed: " + a.GetFailure().GetMessage()})
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		r.add(e, Event{Type: api.EventWorkflowTimeout, Actor: api.ActorSystem, Detail: "the workflow ran past its execution timeout"})
	}
	return nil
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func (r *reader) started(e *historypb.HistoryEvent) error {
	a := e.GetWorkflowExecutionStartedEventAttributes()
	if typ := a.GetWorkflowType().GetName(); typ != "" && typ != workflows.WorkflowName {
		return fmt.Errorf("history event %d: a %s workflow, not an access request (%s)", e.GetEventId(), typ, workflows.WorkflowName)
	}
	var in workflows.AccessRequestInput
	if err := r.decode(a.GetInput(), &in); err != nil {
		return fmt.Errorf("history event %d: decode the request: %w", e.GetEventId(), err)
	}
	r.requestID = in.RequestID
	r.trail.Request = Request{
		ID: in.RequestID, Role: in.Target.Role, RoleDefinitionID: in.Target.RoleDefinitionID,
		DirectoryScopeID: in.Target.DirectoryScopeID, Requester: in.Requester.UPN, RequesterID: in.Requester.ID,
		Duration: in.Duration.String(), Ticket: in.Ticket, BreakGlass: in.BreakGlass, CreatedAt: in.CreatedAt,
	}
	return nil
}

// activityScheduled keeps the type of each activity, and the input of
// those whose result makes an event of its own.
func (r *reader) activityScheduled(e *historypb.HistoryEvent) {
	a := e.GetActivityTaskScheduledEventAttributes()
	typ := a.GetActivityType().GetName()
	r.activity[e.GetEventId()] = typ
	var in activities.ResolveApproversInput
	if typ == activityResolveApprovers && r.decodeFirst(a.GetInput(), &in) {
		r.resolving[e.GetEventId()] = in
	}
}

// activityCompleted keeps what Graph answered an activation or removal,
// for the audit event the workflow records next about it, and adds the
// approvers the directory named for a stage.
func (r *reader) activityCompleted(e *historypb.HistoryEvent) {
	a := e.GetActivityTaskCompletedEventAttributes()
	if in, ok := r.resolving[a.GetScheduledEventId()]; ok {
		delete(r.resolving, a.GetScheduledEventId())
		var res activities.ResolveApproversResult
		if r.decode(a.GetResult(), &res) == nil {
			r.add(e, Event{Type: api.EventApproversResolved, Actor: api.ActorSystem, Detail: resolvedDetail(in, res), Stage: in.StageNumber})
		}
		return
	}
	r.graphResult(r.activity[a.GetScheduledEventId()], a.GetResult())
}

// resolvedDetail says who the directory named for each tier of a stage
// that has references, and what it could not name:
// "stage 1 (team lead), tier 1: bob@…, carol@… (group 6f1c…); tier 2:
// erin@… (manager's manager)".
func resolvedDetail(in activities.ResolveApproversInput, res activities.ResolveApproversResult) string {
	var b strings.Builder
	if in.Extension > 0 {
		fmt.Fprintf(&b, "extension %d, ", in.Extension)
	}
	if in.StageNumber > 0 {
		fmt.Fprintf(&b, "stage %d (%s)", in.StageNumber, in.Stage)
	} else {
		fmt.Fprintf(&b, "stage %s", in.Stage)
	}
	sep := ", "
	for i, refs := range in.Tiers {
		if refs.Empty() {
			continue
		}
		names := "nobody"
		if i < len(res.Tiers) && len(res.Tiers[i]) > 0 {
			upns := make([]string, len(res.Tiers[i]))
			for j, rc := range res.Tiers[i] {
				upns[j] = rc.UPN
			}
			names = strings.Join(upns, ", ")
		}
		fmt.Fprintf(&b, "%stier %d: %s (%s)", sep, i+1, names, describeRefs(refs))
		sep = "; "
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(&b, "; problems: %s", strings.Join(res.Problems, "; "))
	}
	return b.String()
}

// describeRefs names a tier's directory references: "group 6f1c…",
// "groups 6f1c…, 0b6c… and manager".
func describeRefs(refs policies.ApproverRefs) string {
	var parts []string
	switch len(refs.GroupIDs) {
	case 0:
	case 1:
		parts = append(parts, "group "+refs.GroupIDs[0])
	default:
		parts = append(parts, "groups "+strings.Join(refs.GroupIDs, ", "))
	}
	switch refs.Manager {
	case 0:
	case 1:
		parts = append(parts, "manager")
	case 2:
		parts = append(parts, "manager's manager")
	default:
		parts = append(parts, fmt.Sprintf("level-%d manager", refs.Manager))
	}
	return strings.Join(parts, " and ")
}

// localActivity keeps what a local activity answered: requests hold their
// grant through a local HoldGrant first.
func (r *reader) localActivity(e *historypb.HistoryEvent) {
	details := e.GetMarkerRecordedEventAttributes().GetDetails()
	var data struct{ ActivityType string }
	if r.decode(details["data"], &data) != nil {
		return
	}
	if res, ok := details["result"]; ok {
		r.graphResult(data.ActivityType, res)
	}
}

// signaled keeps Graph's answer to a removal the assignment workflow made
// when the grant ended: it tells the request in a removal-progress signal,
// not in a ReleaseGrant result.
func (r *reader) signaled(e *historypb.HistoryEvent) {
	a := e.GetWorkflowExecutionSignaledEventAttributes()
	if a.GetSignalName() != assignments.SignalRemoval {
		return
	}
	var p assignments.RemovalProgress
	if r.decode(a.GetInput(), &p) == nil && p.Ended != nil && p.Ended.Removal != nil {
		r.graph[activityDeactivate] = graphAnswer{RequestID: p.Ended.Removal.GraphRequestID, Status: p.Ended.Removal.GraphStatus}
	}
}

// graphResult keeps Graph's answer from an activity's result: Activate and
// Deactivate of requests that hold the role themselves, HoldGrant and
// ReleaseGrant of those that hold it through the assignment workflow.
func (r *reader) graphResult(typ string, result *commonpb.Payloads) {
	var g graphAnswer
	switch typ {
	case activityActivate, activityDeactivate:
		if r.decode(result, &g) == nil {
			r.graph[typ] = g
		}
	case assignments.ActivityHoldGrant:
		var res assignments.HoldResult
		if r.decode(result, &res) == nil && res.Activation != nil {
			r.graph[activityActivate] = graphAnswer{RequestID: res.Activation.GraphRequestID, Status: res.Activation.GraphStatus}
		}
	case assignments.ActivityReleaseGrant:
		var res assignments.ReleaseResult
		if r.decode(result, &res) == nil && res.Removal != nil {
			r.graph[activityDeactivate] = graphAnswer{RequestID: res.Removal.GraphRequestID, Status: res.Removal.GraphStatus}
		}
	}
}

// Activity type names: the methods of activities.Activities that call Graph.
const (
	activityActivate   = "Activate"
	activityDeactivate = "Deactivate"
	// activityResolveApprovers reads a stage's approvers from the directory.
	activityResolveApprovers = "ResolveApprovers"
	// localActivityMarker is the Temporal SDK's marker of a local activity.
	localActivityMarker = "LocalActivity"
)

func (r *reader) updateAccepted(e *historypb.HistoryEvent) {
	req := e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest()
	u := acceptedUpdate{name: req.GetInput().GetName(), id: req.GetMeta().GetUpdateId(), identity: req.GetMeta().GetIdentity()}
	args := req.GetInput().GetArgs()
	switch u.name {
	case workflows.UpdateDecide:
		var in workflows.DecideInput
		if r.decodeFirst(args, &in) {
			u.actorID, u.comment = in.ApproverID, in.Comment
		}
	case workflows.UpdateCancel:
		var in workflows.CancelInput
		if r.decodeFirst(args, &in) {
			u.actorID = in.ActorID
		}
	case workflows.UpdateRevoke:
		var in workflows.RevokeInput
		if r.decodeFirst(args, &in) {
			u.actorID, u.comment = in.Actor.ID, in.Reason
		}
	default:
		return
	}
	r.accepted = append(r.accepted, u)
}

// marker adds a workflow-recorded audit event, with the facts other
// history events hold about it.
func (r *reader) marker(e *historypb.HistoryEvent, ev workflows.AuditEvent) {
	out := Event{Time: ev.Time, Type: ev.Type, Actor: ev.Actor, ActorID: ev.ActorID, Detail: ev.Detail, Stage: ev.Stage,
		Channel: ev.Channel, LinkID: ev.LinkID, Via: ev.Via, KeyID: ev.KeyID}
	// Records carry Graph's answer; for older ones it comes from the
	// activity results (or removal signal) read before them.
	var from string
	switch ev.Type {
	case api.EventActivated:
		from = activityActivate
	case api.EventDeactivated:
		from = activityDeactivate
	}
	if from != "" {
		out.GraphRequestID, out.GraphStatus = ev.GraphRequestID, ev.GraphStatus
		if out.GraphRequestID == "" {
			out.GraphRequestID, out.GraphStatus = r.graph[from].RequestID, r.graph[from].Status
		}
		delete(r.graph, from)
	}
	for i, u := range r.accepted {
		if u.actorID == ev.ActorID && ev.ActorID != "" && slices.Contains(updateEvents[u.name], ev.Type) {
			out.UpdateID, out.ClientIdentity, out.Comment = u.id, u.identity, u.comment
			r.accepted = append(r.accepted[:i], r.accepted[i+1:]...)
			break
		}
	}
	r.add(e, out)
}

// add stamps the event with its ids (and, for Temporal-level events, the
// history event's time) and appends it.
func (r *reader) add(e *historypb.HistoryEvent, ev Event) {
	ev.HistoryEventID = e.GetEventId()
	ev.ID = r.requestID + "/" + strconv.FormatInt(e.GetEventId(), 10)
	if ev.Time.IsZero() {
		ev.Time = e.GetEventTime().AsTime()
	}
	r.trail.Events = append(r.trail.Events, ev)
}

func (r *reader) decode(p *commonpb.Payloads, v any) error {
	return r.dc.FromPayloads(p, v)
}

// decodeFirst decodes the first of several payloads (an update's argument).
func (r *reader) decodeFirst(p *commonpb.Payloads, v any) bool {
	if len(p.GetPayloads()) == 0 {
		return false
	}
	return r.dc.FromPayload(p.GetPayloads()[0], v) == nil
}
