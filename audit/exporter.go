package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Names of the continuous export. It runs on its own task queue, so only
// workers configured with a sink pick it up.
const (
	ExportTaskQueue    = "jitflow-audit"
	ExportWorkflowName = "AuditExport"
	// ExportActivityName is the activity's registered name: the name of
	// the method (*Exporter).ExportAuditBatch, which running histories hold.
	ExportActivityName = "ExportAuditBatch"
	ExportScheduleID   = "jitflow-audit-export"
)

// visibilityLag is how far back each run looks past its checkpoint:
// visibility learns of closed workflows a little after they close.
const visibilityLag = 5 * time.Minute

// Checkpoint is how far the export got. It travels from one scheduled run
// to the next as the run's result (Temporal hands a schedule's workflow the
// last successful run's result), so it needs no storage of its own.
type Checkpoint struct {
	// Since: every request that closed before Since minus the visibility
	// lag has been exported in full.
	Since time.Time `json:"since"`
	// Positions holds, for each request still running or closed within the
	// lag, the history event id of the last event exported.
	Positions map[string]int64 `json:"positions"`
}

// Exporter is the activity of the continuous export.
type Exporter struct {
	Source Source
	Sink   Sink
	// Exported, when set, counts delivered events.
	Exported interface{ Add(float64) }
	Now      func() time.Time
}

// ExportAuditBatch sends every event not exported yet of the requests that
// changed since the checkpoint, then returns the new checkpoint. Events are
// delivered at least once: a batch whose checkpoint was lost (the worker
// died after the sink took it) is sent again, with the same event ids.
func (e *Exporter) ExportAuditBatch(ctx context.Context, cp Checkpoint) (Checkpoint, error) {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	started := now().UTC()
	var since time.Time
	if !cp.Since.IsZero() {
		since = cp.Since.Add(-visibilityLag)
	}
	execs, err := Changed(ctx, e.Source, since, time.Time{})
	if err != nil {
		return cp, err
	}
	next := Checkpoint{Since: started, Positions: map[string]int64{}}
	var records []Record
	for _, x := range execs {
		trail, err := ReadTrail(ctx, e.Source, x)
		if err != nil {
			return cp, err
		}
		done := cp.Positions[x.ID]
		records = append(records, Records(trail, func(ev Event) bool { return ev.HistoryEventID > done })...)
		if n := len(trail.Events); n > 0 {
			done = max(done, trail.Events[n-1].HistoryEventID)
		}
		// A request that closed before the next run's look-back will not
		// be listed again; it needs no position.
		if x.Running || !x.CloseTime.Before(started.Add(-visibilityLag)) {
			next.Positions[x.ID] = done
		}
	}
	data, err := JSONLines(records)
	if err != nil {
		return cp, temporal.NewNonRetryableApplicationError(err.Error(), "BadAuditEvent", err)
	}
	if err := e.Sink.Write(ctx, data); err != nil {
		return cp, err
	}
	if e.Exported != nil {
		e.Exported.Add(float64(len(records)))
	}
	return next, nil
}

// ExportWorkflow is one scheduled run: it picks up the last run's
// checkpoint and exports what happened since.
func ExportWorkflow(ctx workflow.Context) (Checkpoint, error) {
	var cp Checkpoint
	if workflow.HasLastCompletionResult(ctx) {
		if err := workflow.GetLastCompletionResult(ctx, &cp); err != nil {
			return cp, fmt.Errorf("read the last checkpoint: %w", err)
		}
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var e *Exporter // the activity's type: the worker registered its own
	var next Checkpoint
	if err := workflow.ExecuteActivity(ctx, e.ExportAuditBatch, cp).Get(ctx, &next); err != nil {
		return cp, err
	}
	return next, nil
}

// RegisterExporter adds the export workflow and activity to a worker of
// ExportTaskQueue.
func RegisterExporter(r worker.Registry, e *Exporter) {
	r.RegisterWorkflowWithOptions(ExportWorkflow, workflow.RegisterOptions{Name: ExportWorkflowName})
	r.RegisterActivity(e.ExportAuditBatch)
}

// EnsureSchedule creates the schedule that runs the export every interval,
// or sets the interval of the one that exists. Runs never overlap: a slow
// run makes the next one skip.
func EnsureSchedule(ctx context.Context, c client.Client, every time.Duration) error {
	if every < time.Minute {
		return fmt.Errorf("audit export interval %s: must be at least 1m", every)
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      ExportScheduleID,
		Spec:    spec,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:        ExportScheduleID,
			Workflow:  ExportWorkflowName,
			TaskQueue: ExportTaskQueue,
		},
	})
	if err == nil {
		return nil
	}
	var exists *serviceerror.AlreadyExists
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) && !errors.As(err, &exists) {
		return fmt.Errorf("create schedule %s: %w", ExportScheduleID, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, ExportScheduleID)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec = &spec
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", ExportScheduleID, err)
	}
	return nil
}

// StartExport starts a worker of ExportTaskQueue that exports into sink
// and makes sure the schedule runs it every interval. Stop the worker it
// returns on shutdown.
func StartExport(ctx context.Context, c client.Client, sink Sink, every time.Duration, exported interface{ Add(float64) }) (worker.Worker, error) {
	w := worker.New(c, ExportTaskQueue, worker.Options{})
	RegisterExporter(w, &Exporter{Source: c, Sink: sink, Exported: exported})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the audit export worker: %w", err)
	}
	if err := EnsureSchedule(ctx, c, every); err != nil {
		w.Stop()
		return nil, err
	}
	return w, nil
}
