package audit_test

import (
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

func payloads(t *testing.T, v any) *commonpb.Payloads {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// resolvedHistory is the start of a request whose stage read its
// approvers from the directory: the ResolveApprovers activity scheduled
// with the stage's references and completed with who they named. Its
// tiers list the stage's: tier 2 has nothing to read.
func resolvedHistory(t *testing.T, in activities.ResolveApproversInput, res activities.ResolveApproversResult, at time.Time) []*historypb.HistoryEvent {
	t.Helper()
	start := workflows.AccessRequestInput{RequestID: "req-dir", Requester: workflows.Person{ID: "oid-alice", UPN: "alice@example.com"},
		Target: workflows.Target{Role: "reader", RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"}, Duration: time.Hour}
	return []*historypb.HistoryEvent{
		{EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventTime: timestamppb.New(at),
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				WorkflowType: &commonpb.WorkflowType{Name: workflows.WorkflowName}, Input: payloads(t, start)}}},
		{EventId: 5, EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventTime: timestamppb.New(at),
			Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &historypb.ActivityTaskScheduledEventAttributes{
				ActivityType: &commonpb.ActivityType{Name: "ResolveApprovers"}, Input: payloads(t, in)}}},
		{EventId: 6, EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, EventTime: timestamppb.New(at)},
		{EventId: 7, EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, EventTime: timestamppb.New(at.Add(time.Second)),
			Attributes: &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
				ScheduledEventId: 5, StartedEventId: 6, Result: payloads(t, res)}}},
	}
}

// The trail shows who each stage asked: the directory's answer to the
// stage's references, read from the activity in history.
func TestApproversResolvedEvent(t *testing.T) {
	const leads, gone = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a41", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a49"
	at := time.Date(2036, 11, 26, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     activities.ResolveApproversInput
		res    activities.ResolveApproversResult
		detail string
		stage  int
	}{
		{
			name: "request",
			in: activities.ResolveApproversInput{RequestID: "req-dir", RequesterID: "oid-alice", Stage: "team lead", StageNumber: 1,
				Tiers: []policies.ApproverRefs{{GroupIDs: []string{leads}}, {}, {Manager: 2}}},
			res: activities.ResolveApproversResult{Tiers: [][]activities.Recipient{
				{{ID: "oid-bob", UPN: "bob@example.com"}, {ID: "oid-carol", UPN: "carol@example.com"}}, {}, {{ID: "oid-erin", UPN: "erin@example.com"}}}},
			detail: "stage 1 (team lead), tier 1: bob@example.com, carol@example.com (group " + leads + "); tier 3: erin@example.com (manager's manager)",
			stage:  1,
		},
		{
			name: "extension with problems",
			in: activities.ResolveApproversInput{RequestID: "req-dir", RequesterID: "oid-alice", Stage: "security", StageNumber: 2, Extension: 1,
				Tiers: []policies.ApproverRefs{{GroupIDs: []string{leads, gone}, Manager: 1}}},
			res: activities.ResolveApproversResult{Tiers: [][]activities.Recipient{{}},
				Problems: []string{"group " + gone + " does not exist in the directory", "requester oid-alice has no manager in the directory"}},
			detail: "extension 1, stage 2 (security), tier 1: nobody (groups " + leads + ", " + gone + " and manager); problems: group " + gone +
				" does not exist in the directory; requester oid-alice has no manager in the directory",
			stage: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trail, err := audit.Read(resolvedHistory(t, tt.in, tt.res, at), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := byType(trail, api.EventApproversResolved)
			if len(got) != 1 {
				t.Fatalf("approvers_resolved events: %+v", trail.Events)
			}
			ev := got[0]
			want := audit.Event{ID: "req-dir/7", HistoryEventID: 7, Time: at.Add(time.Second), Type: api.EventApproversResolved,
				Actor: api.ActorSystem, Detail: tt.detail, Stage: tt.stage}
			if ev != want {
				t.Errorf("event = %+v\nwant    %+v", ev, want)
			}
		})
	}
}

// A resolution that never completed (the directory kept failing) adds no
// event: the request's failed event says why.
func TestApproversResolvedOnlyWhenAnswered(t *testing.T) {
	in := activities.ResolveApproversInput{RequestID: "req-dir", Stage: "team lead", StageNumber: 1, Tiers: []policies.ApproverRefs{{Manager: 1}}}
	h := resolvedHistory(t, in, activities.ResolveApproversResult{}, time.Now())
	trail, err := audit.Read(h[:3], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := byType(trail, api.EventApproversResolved); len(got) != 0 {
		t.Errorf("events = %+v; want none", got)
	}
}
