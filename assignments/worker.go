package assignments

import (
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/proof"
)

// Register adds the assignment workflow, accepting holds signed with keys,
// to r, and with g (nil in a replayer) the activities that reach it. The
// Graph activities it runs are those of activities.Activities, which the
// worker registers for both workflows.
func Register(r sdkworker.Registry, g *Grants, keys *proof.Keys) {
	r.RegisterWorkflowWithOptions(Workflow(keys), workflow.RegisterOptions{Name: WorkflowName})
	if g != nil {
		r.RegisterActivity(g)
	}
}
