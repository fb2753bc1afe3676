package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/audit"
)

// auditCommand groups the audit-trail commands.
// addAuditExport puts `export` under the CLI's `audit ID` command: cobra
// picks the subcommand by name before it reads an id.
func addAuditExport(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() == "audit" {
			c.AddCommand(auditExportCommand())
			return
		}
	}
	panic("jitflow: the CLI has no audit command to hold audit export")
}

func auditExportCommand() *cobra.Command {
	var (
		tf                temporalFlags
		since, until, out string
		logs              logFlags
	)
	cmd := &cobra.Command{
		Use:   "export --since T [--until T] [--out FILE]",
		Short: "Write the audit events of every request that changed since T as JSON Lines (schema: docs/audit-events.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			now := time.Now()
			from, err := parseWhen("--since", since, now)
			if err != nil {
				return err
			}
			var to time.Time
			if until != "" {
				if to, err = parseWhen("--until", until, now); err != nil {
					return err
				}
				if !to.After(from) {
					return fmt.Errorf("--until %s: must be after --since %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
				}
			}
			copts, err := tf.clientOptions(log)
			if err != nil {
				return err
			}
			c, err := client.DialContext(cmd.Context(), copts)
			if err != nil {
				return fmt.Errorf("connect to temporal at %s: %w", tf.address, err)
			}
			defer c.Close()
			w := cmd.OutOrStdout()
			if out != "" && out != "-" {
				f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer f.Close()
				w = f
			}
			requests, events, err := exportTrails(cmd, c, w, from, to)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d events of %d requests\n", events, requests)
			return nil
		},
	}
	f := cmd.Flags()
	tf.register(f)
	f.StringVar(&since, "since", "", "export events at or after T: an RFC 3339 time, a date (UTC) or a duration ago such as 24h (required)")
	f.StringVar(&until, "until", "", "export events before T (same forms as --since)")
	f.StringVar(&out, "out", "-", "file to write (created with mode 0600 or truncated); - is standard output")
	logs.register(f, "text", "warn")
	cmd.MarkFlagRequired("since")
	return cmd
}

// exportTrails writes the events of [from, to) of every request that may
// hold some, request by request in history order.
func exportTrails(cmd *cobra.Command, src audit.Source, w io.Writer, from, to time.Time) (requests, events int, err error) {
	ctx := cmd.Context()
	execs, err := audit.Changed(ctx, src, from, to)
	if err != nil {
		return 0, 0, err
	}
	for _, x := range execs {
		trail, err := audit.ReadTrail(ctx, src, x)
		if err != nil {
			return requests, events, err
		}
		records := audit.Records(trail, audit.InWindow(from, to))
		if len(records) == 0 {
			continue
		}
		data, err := audit.JSONLines(records)
		if err != nil {
			return requests, events, err
		}
		if _, err := w.Write(data); err != nil {
			return requests, events, fmt.Errorf("write the export: %w", err)
		}
		requests++
		events += len(records)
	}
	return requests, events, nil
}

// parseWhen reads a point in time: RFC 3339, a date (midnight UTC), or a
// duration before now.
func parseWhen(flag, v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: use an RFC 3339 time (2026-11-24T00:00:00Z), a date (2026-11-24) or a positive duration ago (24h)", flag, v)
}
