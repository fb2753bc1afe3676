package devstack

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/jitflow/jitflow/workflows"
)

// TestNoWorker: with NoWorker the stack is ready (startStack waits for
// /healthz 200) while nothing polls jitflow's task queue: workers run
// elsewhere.
func TestNoWorker(t *testing.T) {
	st := startStackWith(t, t.TempDir(), fastPolicy(t), func(o *Options) { o.NoWorker = true })
	defer st.Stop()
	if st.worker != nil {
		t.Fatal("the stack started a worker")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		resp, err := st.Client.DescribeTaskQueue(ctx, workflows.TaskQueue, typ)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(resp.GetPollers()); n > 0 {
			t.Errorf("%s task queue %s has %d pollers, want none", typ, workflows.TaskQueue, n)
		}
	}
}
