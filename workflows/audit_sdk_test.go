package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// TestAuditRecordsOfTheSDK pins what the audit reader relies on against the
// Go SDK in go.mod, not against a copy of its encoding: a real worker runs
// the first workflow task of a request (one started without a server's
// proof, which records a start check and then a "failed" audit record), and
// the markers it commands are read back the way the server stores them.
// An SDK whose side effects the reader no longer recognises fails here
// instead of showing empty trails.
func TestAuditRecordsOfTheSDK(t *testing.T) {
	in := readerInput()
	dc := converter.GetDefaultDataConverter()
	input, err := dc.ToPayloads(in)
	require.NoError(t, err)
	fe := newFrontend(in.RequestID, input)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	workflowservice.RegisterWorkflowServiceServer(srv, fe)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := client.Dial(client.Options{HostPort: lis.Addr().String(), Logger: quiet})
	require.NoError(t, err)
	defer c.Close()
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
	require.NoError(t, w.Start())
	defer w.Stop()

	var done *workflowservice.RespondWorkflowTaskCompletedRequest
	select {
	case done = <-fe.completed:
	case <-time.After(time.Minute):
		t.Fatal("the worker completed no workflow task")
	}

	// The server writes each RecordMarker command as a MarkerRecorded
	// event with the command's name and details.
	var markers []*historypb.HistoryEvent
	sideEffects := 0
	for _, cmd := range done.GetCommands() {
		a := cmd.GetRecordMarkerCommandAttributes()
		if cmd.GetCommandType() != enumspb.COMMAND_TYPE_RECORD_MARKER {
			continue
		}
		if a.GetMarkerName() == "SideEffect" {
			sideEffects++
		}
		markers = append(markers, &historypb.HistoryEvent{
			EventId:   int64(5 + len(markers)),
			EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: a.GetMarkerName(), Details: a.GetDetails(), Header: a.GetHeader(), Failure: a.GetFailure(), WorkflowTaskCompletedEventId: 4,
			}},
		})
	}
	require.Equal(t, 2, sideEffects, "the start check and one audit record, as side effects")
	got, err := workflows.AuditEvents(markers, dc)
	require.NoError(t, err)
	require.Len(t, got, 1, "the start check is no audit event")
	require.Equal(t, api.EventFailed, got[0].Type)
	require.Equal(t, api.ActorSystem, got[0].Actor)
	require.Contains(t, got[0].Detail, workflows.NotIssued)
	require.Equal(t, t0, got[0].Time)
}

// frontend stands in for Temporal's frontend service: it hands the worker
// one workflow task (a new request's first) and keeps what the worker
// answers. Long polls after that wait until the worker stops; calls it
// does not implement answer Unimplemented, which the SDK tolerates.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	tasks     chan *workflowservice.PollWorkflowTaskQueueResponse
	completed chan *workflowservice.RespondWorkflowTaskCompletedRequest
}

func newFrontend(id string, input *commonpb.Payloads) *frontend {
	at := timestamppb.New(t0)
	wfType := &commonpb.WorkflowType{Name: workflows.WorkflowName}
	events := []*historypb.HistoryEvent{
		{EventId: 1, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				WorkflowType: wfType, TaskQueue: &taskqueuepb.TaskQueue{Name: workflows.TaskQueue}, Input: input,
				WorkflowTaskTimeout: durationpb.New(10 * time.Second), OriginalExecutionRunId: "run-1", FirstExecutionRunId: "run-1", Attempt: 1,
			}}},
		{EventId: 2, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
				TaskQueue: &taskqueuepb.TaskQueue{Name: workflows.TaskQueue}, StartToCloseTimeout: durationpb.New(10 * time.Second), Attempt: 1,
			}}},
		{EventId: 3, EventTime: at, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
				ScheduledEventId: 2,
			}}},
	}
	f := &frontend{
		tasks:     make(chan *workflowservice.PollWorkflowTaskQueueResponse, 1),
		completed: make(chan *workflowservice.RespondWorkflowTaskCompletedRequest, 1),
	}
	f.tasks <- &workflowservice.PollWorkflowTaskQueueResponse{
		TaskToken:         []byte("task-1"),
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run-1"},
		WorkflowType:      wfType,
		StartedEventId:    3,
		Attempt:           1,
		History:           &historypb.History{Events: events},
		ScheduledTime:     at,
		StartedTime:       at,
	}
	return f
}

func (f *frontend) PollWorkflowTaskQueue(ctx context.Context, _ *workflowservice.PollWorkflowTaskQueueRequest) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	select {
	case task := <-f.tasks:
		return task, nil
	case <-ctx.Done():
		return &workflowservice.PollWorkflowTaskQueueResponse{}, nil
	}
}

func (f *frontend) RespondWorkflowTaskCompleted(_ context.Context, req *workflowservice.RespondWorkflowTaskCompletedRequest) (*workflowservice.RespondWorkflowTaskCompletedResponse, error) {
	select {
	case f.completed <- req:
	default:
	}
	return &workflowservice.RespondWorkflowTaskCompletedResponse{}, nil
}

func (f *frontend) PollActivityTaskQueue(ctx context.Context, _ *workflowservice.PollActivityTaskQueueRequest) (*workflowservice.PollActivityTaskQueueResponse, error) {
	<-ctx.Done()
	return &workflowservice.PollActivityTaskQueueResponse{}, nil
}
