package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/jitflow/jitflow/temporalsetup"
)

func setupCommand() *cobra.Command {
	var (
		tf        temporalFlags
		retention time.Duration
		wait      time.Duration
		logs      logFlags
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Prepare the Temporal namespace: create it, set its retention, add jitflow's search attributes",
		Long: `Prepare the Temporal namespace jitflow runs in: create it if it is missing,
set its retention (how long closed requests' history, the audit trail, is
kept), and add the search attributes jitflow's requests carry. Safe to run
again: it changes only what is missing or different. It waits up to --wait
for Temporal to answer, so it can run as soon as the server starts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if retention < temporalsetup.MinRetention {
				return fmt.Errorf("--retention %s: must be at least %s (the audit trail lives in workflow history)", retention, temporalsetup.MinRetention)
			}
			if wait <= 0 {
				return fmt.Errorf("--wait %s: must be more than 0", wait)
			}
			copts, err := tf.clientOptions(log)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), wait)
			defer cancel()
			c, err := dialUntil(ctx, copts)
			if err != nil {
				return fmt.Errorf("connect to temporal at %s: %w", tf.address, err)
			}
			defer c.Close()
			change, err := temporalsetup.EnsureNamespace(ctx, c, tf.namespace, retention)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "namespace %s: %s (retention %s)\n", tf.namespace, change, retention)
			added, err := temporalsetup.EnsureSearchAttributes(ctx, c, tf.namespace)
			if err != nil {
				return err
			}
			if len(added) == 0 {
				fmt.Fprintf(out, "search attributes: unchanged (%d present)\n", len(temporalsetup.SearchAttributes))
			} else {
				fmt.Fprintf(out, "search attributes: added %v\n", added)
			}
			return nil
		},
	}
	f := cmd.Flags()
	tf.register(f)
	f.DurationVar(&retention, "retention", 365*24*time.Hour, "how long Temporal keeps closed requests' history, the audit trail (at least 24h)")
	f.DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for Temporal to answer and the namespace to be ready")
	logs.register(f, "text", "warn")
	return cmd
}

// dialUntil connects to Temporal, trying again while it is unavailable
// until ctx ends: a setup step started with the server must not fail
// because the server is still starting. A refusal (credentials,
// permissions) fails at once.
func dialUntil(ctx context.Context, opts client.Options) (client.Client, error) {
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		var unavailable *serviceerror.Unavailable
		if !errors.As(err, &unavailable) && status.Code(err) != codes.Unavailable {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, errors.Join(err, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
