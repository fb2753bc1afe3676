package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/worker"
)

func workerCommand() *cobra.Command {
	var (
		tf        temporalFlags
		graph     graphFlags
		outboxTo  string
		checkOnly bool
		logs      logFlags
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
			if outboxTo == "" {
				return fmt.Errorf("--outbox is required: the file where emails are kept until the SendGrid mailer is configured")
			}
			mail, err := outbox.Open(outboxTo)
			if err != nil {
				return err
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
			w := worker.New(c, &activities.Activities{PIM: pim, Mailer: mail})
			if err := w.Start(); err != nil {
				return err
			}
			defer w.Stop()
			log.Info("worker started", "temporal", tf.address, "namespace", tf.namespace, "graph_credential", who)
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	tf.register(f)
	graph.register(f)
	f.BoolVar(&checkOnly, "check", false, "only check Graph: get a token and read one role definition (--check-role), report, and exit")
	f.StringVar(&outboxTo, "outbox", envOr("JITFLOW_OUTBOX", ""), "JSON file that keeps outgoing email (env JITFLOW_OUTBOX)")
	logs.register(f, "json", "info")
	return cmd
}
