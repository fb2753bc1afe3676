package main

import (
	"context"
	"os"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/telemetry"
)

// auditExportFlags turn on the continuous audit export in a worker.
type auditExportFlags struct {
	sink  string
	every time.Duration
}

func (a *auditExportFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.sink, "audit-sink", envOr("JITFLOW_AUDIT_SINK", ""),
		"continuous audit export: a JSON Lines file to append to, or an http(s) URL to POST batches to (env JITFLOW_AUDIT_SINK; bearer token from env JITFLOW_AUDIT_SINK_TOKEN); off when empty")
	f.DurationVar(&a.every, "audit-every", 5*time.Minute, "how often the scheduled audit export runs (keep it far below the namespace retention)")
}

// start runs the export worker and its schedule when a sink is set; the
// returned func stops it.
func (a *auditExportFlags) start(ctx context.Context, c client.Client, m *telemetry.Metrics) (func(), error) {
	if a.sink == "" {
		return func() {}, nil
	}
	sink, err := audit.OpenSink(a.sink, os.Getenv("JITFLOW_AUDIT_SINK_TOKEN"))
	if err != nil {
		return nil, err
	}
	w, err := audit.StartExport(ctx, c, sink, a.every, m.ExportedEvents)
	if err != nil {
		return nil, err
	}
	return w.Stop, nil
}
