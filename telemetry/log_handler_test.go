package telemetry

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestWithRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(WithRequestID(slog.NewJSONHandler(&buf, nil)))
	log.Info("in the record", "WorkflowID", "req-1")
	log.With("WorkflowID", "req-2", "RunID", "r").Info("from With")
	log.With("WorkflowID", "req-3").With("ActivityType", "Activate").Info("nested With")
	log.With("WorkflowID", "req-4").With("request_id", "req-4").Info("the workflow's own logger")
	log.With("WorkflowID", "req-5").Info("named twice", "request_id", "req-5")
	log.Info("not a request", "WorkflowID", "jitflow-audit-export")
	log.Info("no workflow")

	want := []string{"req-1", "req-2", "req-3", "req-4", "req-5", "", ""}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("lines: %q", lines)
	}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		got, _ := rec[LogKeyRequest].(string)
		if got != want[i] || strings.Count(line, `"`+LogKeyRequest+`"`) > 1 {
			t.Errorf("line %d %s: request_id %q, want %q once", i, line, got, want[i])
		}
	}
}
