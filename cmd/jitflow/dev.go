//go:build !production

package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/internal/devstack"
	"github.com/jitflow/jitflow/policies"
)

func devCommand() *cobra.Command {
	var (
		opts       devstack.Options
		policyFile string
		mf         mailFlags
		logs       logFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole system in one process (embedded Temporal, Web UI, Graph emulator, outbox)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			opts.Logger = log
			opts.Policy = policies.Dev()
			var live *livePolicy
			if policyFile != "" {
				if live, err = loadLivePolicy(policyFile, log); err != nil {
					return err
				}
				opts.Policies = live
			}
			if opts.SendGrid, err = mf.sendGrid(log); err != nil {
				return err
			}
			if opts.Retention < 24*time.Hour {
				return fmt.Errorf("--retention %s: must be at least 24h (the audit trail lives in workflow history)", opts.Retention)
			}
			if opts.TemporalAddress != "" {
				for _, name := range []string{"temporal-port", "ui-port"} {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--%s is for the embedded Temporal server; with --temporal-address %s there is none", name, opts.TemporalAddress)
					}
				}
				// The existing server has its own Web UI, if any.
				opts.NoUI = true
			}
			limitMemory()
			started := time.Now()
			st, err := devstack.Start(cmd.Context(), opts)
			if err != nil {
				return err
			}
			defer st.Stop()
			if live != nil {
				live.serve(cmd.Context(), st.Metrics, st.CheckPolicy)
			}
			printURLs(cmd, st, opts, time.Since(started))
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.OutOrStdout(), "jitflow dev: stopping")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data-dir", "./.jitflow", "where everything is persisted; a restart with the same dir resumes every request")
	f.StringVar(&opts.HTTPAddr, "http-addr", "127.0.0.1:8080", "address of the API, approval pages and dev endpoints")
	f.StringVar(&opts.TemporalAddress, "temporal-address", "", "host:port of an existing Temporal server to use instead of the embedded one and its Web UI; the namespace must exist there, jitflow's search attributes are created when missing (--retention then does not apply)")
	f.IntVar(&opts.TemporalPort, "temporal-port", 7233, "port of the embedded Temporal frontend (gRPC)")
	f.IntVar(&opts.UIPort, "ui-port", 8233, "port of the Temporal Web UI")
	f.StringVar(&opts.GraphAddr, "graph-addr", "127.0.0.1:8091", "address of the Microsoft Graph PIM emulator")
	f.StringVar(&policyFile, "policy", "", "policy file (default: the built-in policies/dev.yaml); reloaded when it changes and on SIGHUP")
	f.StringVar(&opts.Namespace, "namespace", "default", "Temporal namespace")
	f.DurationVar(&opts.Retention, "retention", 365*24*time.Hour, "how long Temporal keeps closed requests' history (the audit trail)")
	f.BoolVar(&opts.NoUI, "no-ui", false, "do not start the Temporal Web UI")
	f.BoolVar(&opts.NoWorker, "no-worker", false, "run no worker: serve Temporal, the Graph emulator, the token issuer, the outbox and the API for jitflow worker processes started separately; /healthz does not wait for a worker")
	mf.register(f, mailerOutbox, false)
	f.StringVar(&opts.AuditSink, "audit-sink", "", "run the continuous audit export into this JSON Lines file or http(s) URL (off when empty)")
	f.DurationVar(&opts.AuditEvery, "audit-every", 5*time.Minute, "how often the audit export runs")
	logs.register(f, "text", "warn")
	return cmd
}

func printURLs(cmd *cobra.Command, st *devstack.Stack, opts devstack.Options, took time.Duration) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "jitflow dev is up (%s)\n", took.Round(time.Millisecond))
	fmt.Fprintf(out, "  API            %s/api/v1/requests\n", st.APIURL)
	fmt.Fprintf(out, "  health         %s/healthz\n", st.APIURL)
	names := make([]string, 0, len(st.Users))
	for _, u := range st.Users {
		names = append(names, u.Name)
	}
	fmt.Fprintf(out, "  dev token      %s/dev/token?user=NAME   (users: %s)\n", st.APIURL, strings.Join(names, " "))
	fmt.Fprintf(out, "  mail outbox    %s/dev/outbox\n", st.APIURL)
	fmt.Fprintf(out, "  approval pages %s/approvals/<token>   (each approver's email has their link)\n", st.APIURL)
	if opts.SendGrid != nil {
		fmt.Fprintf(out, "  mail           sent through SendGrid at %s as %s (sandbox %v); the outbox keeps a copy\n", opts.SendGrid.Host, opts.SendGrid.From, opts.SendGrid.Sandbox)
	}
	fmt.Fprintf(out, "  metrics        %s/metrics\n", st.APIURL)
	switch {
	case st.UIURL != "":
		fmt.Fprintf(out, "  Temporal UI    %s/namespaces/%s/workflows   (read-only)\n", st.UIURL, st.Namespace)
	case opts.TemporalAddress != "":
		fmt.Fprintf(out, "  Temporal UI    none here: your Temporal server's own Web UI, if it has one (namespace %s)\n", st.Namespace)
	}
	fmt.Fprintf(out, "  Temporal gRPC  %s (namespace %s)\n", st.TemporalAddr, st.Namespace)
	fmt.Fprintf(out, "  Graph emulator %s/v1.0/roleManagement/directory/roleAssignmentScheduleInstances\n", st.GraphURL)
	fmt.Fprintf(out, "  data dir       %s\n", opts.DataDir)
	if opts.NoWorker {
		fmt.Fprintf(out, "  worker         none here: run jitflow worker --temporal-address %s --namespace %s --graph-url %s --outbox FILE --approval-keys %s --base-url %s\n",
			st.TemporalAddr, st.Namespace, st.GraphURL, filepath.Join(opts.DataDir, "approval-keys"), st.APIURL)
	}
	fmt.Fprintln(out, "Press Ctrl-C to stop.")
}
