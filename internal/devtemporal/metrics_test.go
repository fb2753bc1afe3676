package devtemporal

import (
	"reflect"
	"testing"

	"go.temporal.io/server/common/metrics"
)

// The counter sees store requests as the server records them: the
// operation tagged on the handler (or on the record), the main store apart
// from the visibility store, and nothing of the server's other metrics.
func TestRequestCounter(t *testing.T) {
	c := NewRequestCounter()
	h := c.Handler().WithTags(metrics.ServiceNameTag("history"))
	update := h.WithTags(metrics.OperationTag("UpdateWorkflowExecution"), metrics.NamespaceTag("default"))
	metrics.PersistenceRequests.With(update).Record(1)
	metrics.PersistenceRequests.With(update).Record(1)
	metrics.PersistenceLatency.With(update).Record(0)
	metrics.PersistenceRequests.With(h).Record(1, metrics.OperationTag("AppendHistoryNodes"))
	metrics.VisibilityPersistenceRequests.With(h.WithTags(metrics.OperationTag("UpsertWorkflowExecution"))).Record(1)
	metrics.PersistenceFailures.With(update).Record(1)
	b := h.StartBatch("task")
	metrics.PersistenceRequests.With(b.WithTags(metrics.OperationTag("CompleteTimerTask"))).Record(3)
	b.Close()

	main, vis := c.Counts()
	if want := map[string]int64{"UpdateWorkflowExecution": 2, "AppendHistoryNodes": 1, "CompleteTimerTask": 3}; !reflect.DeepEqual(main, want) {
		t.Errorf("main store %v, want %v", main, want)
	}
	if want := map[string]int64{"UpsertWorkflowExecution": 1}; !reflect.DeepEqual(vis, want) {
		t.Errorf("visibility store %v, want %v", vis, want)
	}
	main["UpdateWorkflowExecution"] = 100
	if again, _ := c.Counts(); again["UpdateWorkflowExecution"] != 2 {
		t.Errorf("changing a snapshot changed the counter: %v", again)
	}
}
