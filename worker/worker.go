// Package worker wires the access-request and assignment workflows and
// their activities into a Temporal worker. `jitflow worker` and `jitflow
// dev` both use it.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// Register adds the workflows and the Graph and mail activities to a worker
// (or a replayer or test environment that takes the same registrations).
// The workflows accept only requests and updates proven with keys (see
// package proof); nil keys refuse them all, which suits a replayer.
//
// grants (nil in a replayer) are the activities through which requests
// reach the assignment workflows.
func Register(r sdkworker.Registry, acts *activities.Activities, grants *assignments.Grants, keys *proof.Keys) {
	r.RegisterWorkflowWithOptions(workflows.NewTrust(keys).AccessRequest, workflow.RegisterOptions{Name: workflows.WorkflowName})
	assignments.Register(r, grants, keys)
	r.RegisterActivity(acts)
}

// CacheSize is how many workflows a worker process keeps in memory (the
// SDK's sticky cache, 10,000 by default). jitflow's workflows wait for
// hours between tasks; one that is not cached replays its history on its
// next task, a few milliseconds. Thousands of pending requests would
// otherwise each keep their coroutines and state in memory. A thousand
// grants ending together are two thousand workflows (request and
// assignment): with room for 1,000, half the removals replayed their
// assignment's history first, and the last came 1.7 times later than bare
// timers' (docs/bench.md); 2,500 holds them, and 10,000 pending requests
// still stay under 600 MB for the whole dev stack.
const CacheSize = 2500

// SizeCache sets the process's workflow cache to CacheSize. The cache is
// shared by all SDK workers in the process and sized when the first one
// starts, so a process that embeds the Temporal server (whose own workers
// start first) calls this before starting it.
func SizeCache() { sdkworker.SetStickyWorkflowCacheSize(CacheSize) }

// pollers is how many polls for workflow tasks, and for activity tasks, a
// worker keeps open.
const pollers = 8

// StickyWait is how long a workflow task waits in this worker's own
// (sticky) queue before Temporal hands it to the shared queue (the SDK's
// default is 5 s). When a thousand grants end together, their removals
// queue in this worker's sticky queue, oldest first, ahead of the
// requests' own tasks that each removal causes. After 5 s Temporal moved
// the rest to the shared queue, where they waited behind everything the
// worker polls first from its sticky queue: removals ended up 30 s late
// instead of 8 s (docs/bench.md). The cost: tasks already queued for a
// worker that crashes wait this long before another worker takes them
// (new ones go to the shared queue once Temporal has missed the worker's
// polls for 10 s).
const StickyWait = 30 * time.Second

// New returns a worker polling the jitflow task queue. Start or Run it.
// keys are those of jitflow's key list (proof.FromKeySet): the servers'
// proofs verify with them.
func New(c client.Client, acts *activities.Activities, keys *proof.Keys) sdkworker.Worker {
	SizeCache()
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		// When many grants end together, each ending is a workflow task
		// and a local activity; two pollers (the SDK's default) take them
		// from the queue too slowly to keep up.
		MaxConcurrentWorkflowTaskPollers: pollers,
		MaxConcurrentActivityTaskPollers: pollers,
		StickyScheduleToStartTimeout:     StickyWait,
	})
	Register(w, acts, &assignments.Grants{Client: c, Keys: keys, TaskQueue: workflows.TaskQueue}, keys)
	return w
}
