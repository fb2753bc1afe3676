// Package historytest serves workflow histories to tests: the saved ones
// under workflows/testdata/histories, read from their JSON, and any list
// of events as the Temporal client's history iterator.
package historytest

import (
	"os"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// Load reads the history saved as JSON (as the Temporal CLI and the
// recorders write it) at path.
func Load(t testing.TB, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h
}

// Iterator serves events, in order, as GetWorkflowHistory does.
func Iterator(events []*historypb.HistoryEvent) client.HistoryEventIterator {
	return &iterator{events: events}
}

type iterator struct{ events []*historypb.HistoryEvent }

func (it *iterator) HasNext() bool { return len(it.events) > 0 }

func (it *iterator) Next() (*historypb.HistoryEvent, error) {
	ev := it.events[0]
	it.events = it.events[1:]
	return ev, nil
}
