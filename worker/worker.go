// Package worker wires the access-request workflow and its activities into
// a Temporal worker. `jitflow worker` and `jitflow dev` both use it.
package worker

import (
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/workflows"
)

// Register adds the workflow and the activities to a worker (or a replayer
// or test environment that takes the same registrations).
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
	r.RegisterActivity(acts)
}

// New returns a worker polling the jitflow task queue. Start or Run it.
func New(c client.Client, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{})
	Register(w, acts)
	return w
}
