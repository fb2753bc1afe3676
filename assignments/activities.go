package assignments

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/proof"
)

// Grants are the activities through which a request workflow reaches the
// assignment workflow of its principal and target (see Hold and Release):
// starting it when it is not running needs a Temporal client, which
// workflow code has not.
type Grants struct {
	Client client.Client
	// Keys sign every hold and release (proof.KindHold, KindRelease): the
	// assignment workflow refuses those no jitflow worker signed.
	Keys *proof.Keys
	// TaskQueue is where assignment workflows are started: the queue of
	// the workers that run them.
	TaskQueue string
}

// heartbeatEvery keeps a long wait for the assignment workflow alive; the
// activity options' heartbeat timeout is a few times this.
const heartbeatEvery = 5 * time.Second

// HoldGrant asks the assignment workflow (starting it if needed) to hold
// the target for the request, and waits for its answer: active, extended,
// or why not. Repeats are safe: a hold for a grant already held answers as
// the first did.
func (g *Grants) HoldGrant(ctx context.Context, in HoldInput) (HoldResult, error) {
	signed, err := in.Sign(g.Keys, proof.Statement{Channel: proof.ChannelWorker}, time.Now())
	if err != nil {
		return HoldResult{}, err
	}
	start := g.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(in.Assignment),
		TaskQueue:                g.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}, WorkflowName, Input{Assignment: in.Assignment})
	updateID := in.RequestID + "/hold"
	if !in.Until.IsZero() {
		updateID += "/" + in.Until.UTC().Format(time.RFC3339Nano)
	}
	var res HoldResult
	err = g.wait(ctx, func(ctx context.Context) (client.WorkflowUpdateHandle, error) {
		return g.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{
				UpdateID:     updateID,
				UpdateName:   UpdateHold,
				Args:         []any{signed},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
	}, &res)
	if err != nil {
		return HoldResult{}, fmt.Errorf("hold %s for request %s: %w", in.Assignment.TargetString(), in.RequestID, err)
	}
	return res, nil
}

// ReleaseGrant gives up the request's hold and waits until the assignment
// workflow says what became of the role (removed, or kept for others).
// With no assignment workflow running there is nothing to release.
func (g *Grants) ReleaseGrant(ctx context.Context, in ReleaseInput) (ReleaseResult, error) {
	var res ReleaseResult
	var err error
	if in.Proof, err = g.Keys.SignInput(in, proof.Statement{Channel: proof.ChannelWorker}, time.Now()); err != nil {
		return res, err
	}
	err = g.wait(ctx, func(ctx context.Context) (client.WorkflowUpdateHandle, error) {
		return g.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   WorkflowID(in.Assignment),
			UpdateID:     in.RequestID + "/release",
			UpdateName:   UpdateRelease,
			Args:         []any{in},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
	}, &res)
	if isNotRunning(err) {
		return ReleaseResult{}, nil
	}
	if err != nil {
		return ReleaseResult{}, fmt.Errorf("release %s for request %s: %w", in.Assignment.TargetString(), in.RequestID, err)
	}
	return res, nil
}

// wait sends the update and waits for its outcome, heartbeating meanwhile
// (the removal behind a release can wait minutes for Entra). A rejected
// update will be rejected again: it does not retry.
func (g *Grants) wait(ctx context.Context, send func(context.Context) (client.WorkflowUpdateHandle, error), out any) error {
	done := make(chan error, 1)
	go func() {
		h, err := send(ctx)
		if err == nil {
			err = h.Get(ctx, out)
		}
		done <- err
	}()
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return nonRetryableIfRejected(err)
		case <-tick.C:
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx)
			}
		}
	}
}

// NoticeInput is what NotifyRequests tells: Progress, to each request.
type NoticeInput struct {
	RequestIDs []string        `json:"request_ids"`
	Progress   RemovalProgress `json:"progress"`
}

// NotifyRequests signals each request the progress, signed for it with a
// proof (proof.KindNotice): a request believes no notice that a jitflow
// worker did not sign. A request that is gone cannot be told, which is no
// reason to fail; any other error is, and the local activity's policy
// retries it (a request told twice takes the same word twice).
func (g *Grants) NotifyRequests(ctx context.Context, in NoticeInput) error {
	for _, id := range in.RequestIDs {
		p, err := in.Progress.For(id, g.Keys, time.Now())
		if err != nil {
			return err
		}
		if err := g.Client.SignalWorkflow(ctx, id, "", SignalRemoval, p); err != nil && !isNotRunning(err) {
			return fmt.Errorf("tell request %s: %w", id, err)
		}
	}
	return nil
}

// nonRetryableIfRejected passes on the workflow's refusal (a validator's
// application error) as one Temporal does not retry.
func nonRetryableIfRejected(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrInvalid {
		return temporal.NewNonRetryableApplicationError(app.Message(), app.Type(), nil)
	}
	return err
}

// isNotRunning: the assignment workflow has ended (or never started).
func isNotRunning(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// grants names the methods of Grants for ExecuteActivity; the worker
// registers a real *Grants (Register).
var grants *Grants

// acts names the activity methods of activities.Activities for
// ExecuteActivity; the worker registers a real one under the same names.
var acts *activities.Activities

// Names of the activities run as local activities, which are called by
// the name they are registered under (a local activity runs the function
// it is given, and workflow code holds no clients): Grants.HoldGrant and
// the methods of activities.Activities. They are in histories.
const (
	ActivityHoldGrant        = "HoldGrant"
	ActivityReleaseGrant     = "ReleaseGrant"
	ActivityNotifyRequests   = "NotifyRequests"
	activityActivate         = "Activate"
	activityDeactivate       = "Deactivate"
	activityCheckEligibility = "CheckEligibility"
)

// activateLocally runs activities.Activities.Activate as a local activity.
func activateLocally(ctx workflow.Context, in graph.ActivateInput) (graph.ActivateResult, error) {
	var res graph.ActivateResult
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, activateLocalOptions()), activityActivate, in).Get(ctx, &res)
	return res, err
}

// deactivateLocally runs activities.Activities.Deactivate as a local
// activity, once.
func deactivateLocally(ctx workflow.Context, in graph.DeactivateInput) (graph.DeactivateResult, error) {
	var res graph.DeactivateResult
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, removeLocalOptions()), activityDeactivate, in).Get(ctx, &res)
	return res, err
}

// notifyLocally runs Grants.NotifyRequests as a local activity.
func notifyLocally(ctx workflow.Context, in NoticeInput) error {
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, notifyOptions()), ActivityNotifyRequests, in).Get(ctx, nil)
}

// holdLocally runs Grants.HoldGrant as a local activity, once, for at most
// HoldFastWait.
func holdLocally(ctx workflow.Context, in HoldInput) (HoldResult, error) {
	var res HoldResult
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, holdFastOptions()), ActivityHoldGrant, in).Get(ctx, &res)
	return res, err
}
