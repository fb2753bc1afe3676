package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/telemetry"
	"github.com/jitflow/jitflow/worker"
)

func workerCommand() *cobra.Command {
	var (
		tf        temporalFlags
		graph     graphFlags
		outboxTo  string
		checkOnly bool
		mf        mailFlags
		logs      logFlags
		links     linkFlags
		metf      metricsFlags
		ae        auditExportFlags
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the workflow and activity worker against an existing Temporal service",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			pim, who, err := graph.provider()
			if err != nil {
				return err
			}
			if err := graph.check(cmd.Context(), log, pim, who); err != nil || checkOnly {
				return err
			}
			mail, err := workerMailer(&mf, outboxTo, log)
			if err != nil {
				return err
			}
			keys, approvalLinks, err := links.links()
			if err != nil {
				return err
			}
			metrics := telemetry.New()
			if err := metf.serve(cmd.Context(), metrics, log); err != nil {
				return err
			}
			copts, err := tf.observedClientOptions(log, metrics, "worker")
			if err != nil {
				return err
			}
			c, err := client.DialContext(cmd.Context(), copts)
			if err != nil {
				return fmt.Errorf("connect to temporal at %s: %w", tf.address, err)
			}
			defer c.Close()
			// The directory resolves approvers the policy names through
			// Entra (groups, managers) when a stage starts.
			dir, err := graph.directory(pim)
			if err != nil {
				return err
			}
			w := worker.New(c, &activities.Activities{PIM: pim, Mailer: mail, Links: approvalLinks, Directory: dir}, proof.FromKeySet(keys))
			if err := w.Start(); err != nil {
				return err
			}
			defer w.Stop()
			stopExport, err := ae.start(cmd.Context(), c, metrics)
			if err != nil {
				return err
			}
			defer stopExport()
			log.Info("worker started", "temporal", tf.address, "namespace", tf.namespace, "graph_credential", who)
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	tf.register(f)
	graph.register(f)
	f.BoolVar(&checkOnly, "check", false, "only check Graph: get a token and read one role definition (--check-role), report, and exit")
	f.StringVar(&outboxTo, "outbox", envOr("JITFLOW_OUTBOX", ""), "file that keeps outgoing email instead of sending it, one JSON email per line (env JITFLOW_OUTBOX); the mailer is outbox when this is set, sendgrid otherwise")
	mf.register(f, "", true)
	links.register(f)
	logs.register(f, "json", "info")
	metf.register(f, "127.0.0.1:9465")
	ae.register(f)
	return cmd
}

// workerMailer is SendGrid, or the outbox file when one is given (or
// --mailer outbox asks for it).
func workerMailer(mf *mailFlags, outboxTo string, log *slog.Logger) (activities.Mailer, error) {
	if mf.mailer == "" {
		mf.mailer = mailerSendGrid
		if outboxTo != "" {
			mf.mailer = mailerOutbox
		}
	}
	cfg, err := mf.sendGrid(log)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		return activities.NewSendGrid(*cfg)
	}
	if outboxTo == "" {
		return nil, fmt.Errorf("--outbox is required with --mailer %s: the file where emails are kept", mailerOutbox)
	}
	return outbox.Open(outboxTo)
}
