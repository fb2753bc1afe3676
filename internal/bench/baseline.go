package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Names of the baseline workflow, its update and its activities.
const (
	BaselineWorkflowName = "JitflowBenchBaseline"
	BaselineUpdateName   = "approve"
	baselineActivate     = "JitflowBenchBaselineActivate"
	baselineRemove       = "JitflowBenchBaselineRemove"
)

// latencyGrant is the baseline's grant in the latency phase: the timer
// only has to end so that the next run starts on a quiet server.
const latencyGrant = 10 * time.Millisecond

// BaselineInput is the bare workflow's input.
type BaselineInput struct {
	Grant time.Duration `json:"grant"`
}

// BaselineWorkflow has the shape of an access request with nothing else:
// it waits for the approve update, runs one activity, sleeps the grant and
// runs another. The update returns once the first activity has completed,
// so the update call's duration is approve-to-active.
func BaselineWorkflow(ctx workflow.Context, in BaselineInput) error {
	approved, active := false, false
	err := workflow.SetUpdateHandler(ctx, BaselineUpdateName, func(ctx workflow.Context) error {
		approved = true
		return workflow.Await(ctx, func() bool { return active })
	})
	if err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return approved }); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteActivity(ctx, baselineActivate).Get(ctx, nil); err != nil {
		return err
	}
	active = true
	end := workflow.Now(ctx).Add(in.Grant)
	if err := workflow.Sleep(ctx, in.Grant); err != nil {
		return err
	}
	return workflow.ExecuteActivity(ctx, baselineRemove, end).Get(ctx, nil)
}

// baselineActivities do no work: the baseline is the floor. Remove
// records how late after the timer's end it ran.
type baselineActivities struct {
	mu   sync.Mutex
	lags []time.Duration
	last time.Time
}

func (b *baselineActivities) Activate(context.Context) error { return nil }

func (b *baselineActivities) Remove(_ context.Context, end time.Time) error {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lags = append(b.lags, now.Sub(end))
	if now.After(b.last) {
		b.last = now
	}
	return nil
}

// take returns what Remove recorded since the last take.
func (b *baselineActivities) take() ([]time.Duration, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lags, last := b.lags, b.last
	b.lags, b.last = nil, time.Time{}
	return lags, last
}

// baseline runs the bare workflow on its own task queue of the system's
// Temporal server: Latency runs one at a time, then Requests lifecycles
// Concurrency at a time, as the jitflow phases do.
func baseline(ctx context.Context, c client.Client, meter StoreMeter, cfg Config) (*Baseline, error) {
	queue := "jitflow-bench-" + uuid.NewString()
	acts := &baselineActivities{}
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	w.RegisterActivityWithOptions(acts.Activate, activity.RegisterOptions{Name: baselineActivate})
	w.RegisterActivityWithOptions(acts.Remove, activity.RegisterOptions{Name: baselineRemove})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("baseline: start its worker: %w", err)
	}
	defer w.Stop()
	run := baselineRun{c: c, queue: queue}
	var out Baseline
	lat := make([]time.Duration, 0, cfg.Latency)
	for i := range cfg.Latency {
		d, err := run.lifecycle(ctx, fmt.Sprintf("%s-latency-%d", queue, i), latencyGrant)
		if err != nil {
			return nil, fmt.Errorf("baseline latency: %w", err)
		}
		lat = append(lat, d)
	}
	out.ApproveToActive = Summarize(lat)
	acts.take()
	store, err := startStoreWindow(ctx, meter)
	if err != nil {
		return nil, err
	}
	first := time.Now()
	if err := run.lifecycles(ctx, cfg, first.Add(cfg.Grant)); err != nil {
		return nil, err
	}
	ids := make([]string, cfg.Requests)
	for i := range ids {
		ids[i] = run.id(i)
	}
	err = parallel(ctx, cfg.Concurrency, cfg.Requests, func(ctx context.Context, i int) error {
		return c.GetWorkflow(ctx, ids[i], "").Get(ctx, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("baseline: wait for the end: %w", err)
	}
	lags, last := acts.take()
	out.LifecyclesPerSec = perSecond(cfg.Requests, last.Sub(first))
	out.ExpiryLag = Summarize(lags)
	out.Work = &Work{Lifecycles: cfg.Requests}
	if out.Work.Store, err = store.end(ctx); err != nil {
		return nil, err
	}
	if _, err := out.Work.countWorkflows(ctx, c, ids); err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return &out, nil
}

type baselineRun struct {
	c     client.Client
	queue string
}

// lifecycles starts and approves cfg.Requests workflows as the throughput
// phase does: all started, then all approved; or, with ExpireTogether,
// each started and approved in turn with the time left until end.
func (r baselineRun) lifecycles(ctx context.Context, cfg Config, end time.Time) error {
	if cfg.ExpireTogether {
		err := parallel(ctx, cfg.Concurrency, cfg.Requests, func(ctx context.Context, i int) error {
			if err := r.start(ctx, r.id(i), time.Until(end).Round(time.Second)); err != nil {
				return err
			}
			_, err := r.approve(ctx, r.id(i))
			return err
		})
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		return nil
	}
	err := parallel(ctx, cfg.Concurrency, cfg.Requests, func(ctx context.Context, i int) error {
		return r.start(ctx, r.id(i), cfg.Grant)
	})
	if err != nil {
		return fmt.Errorf("baseline: start: %w", err)
	}
	err = parallel(ctx, cfg.Concurrency, cfg.Requests, func(ctx context.Context, i int) error {
		_, err := r.approve(ctx, r.id(i))
		return err
	})
	if err != nil {
		return fmt.Errorf("baseline: approve: %w", err)
	}
	return nil
}

// id is the workflow id of lifecycle i.
func (r baselineRun) id(i int) string { return fmt.Sprintf("%s-%d", r.queue, i) }

func (r baselineRun) start(ctx context.Context, id string, grant time.Duration) error {
	_, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: r.queue}, BaselineWorkflowName, BaselineInput{Grant: grant})
	if err != nil {
		return fmt.Errorf("start workflow %s: %w", id, err)
	}
	return nil
}

// approve sends the update and times it until it returns.
func (r baselineRun) approve(ctx context.Context, id string) (time.Duration, error) {
	start := time.Now()
	h, err := r.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: BaselineUpdateName, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		return 0, fmt.Errorf("update %s: %w", id, err)
	}
	return time.Since(start), nil
}

// lifecycle runs one workflow to its end and returns its approve time.
func (r baselineRun) lifecycle(ctx context.Context, id string, grant time.Duration) (time.Duration, error) {
	if err := r.start(ctx, id, grant); err != nil {
		return 0, err
	}
	d, err := r.approve(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := r.c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		return 0, fmt.Errorf("workflow %s: %w", id, err)
	}
	return d, nil
}
