package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/server"
	"github.com/jitflow/jitflow/workflows"
)

func serverCommand() *cobra.Command {
	var (
		tf                            temporalFlags
		httpAddr, policyFile, baseURL string
		graph                         graphFlags
		issuer, audience, tenantID    string
		logs                          logFlags
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the HTTP API against an existing Temporal service",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if policyFile == "" {
				return errors.New("--policy is required: the policy file with your roles and approvers")
			}
			pol, err := policies.Load(policyFile)
			if err != nil {
				return err
			}
			if tenantID == "" {
				tenantID = pol.TenantID
			}
			if issuer == "" {
				issuer = "https://login.microsoftonline.com/" + tenantID + "/v2.0"
			}
			if audience == "" {
				return errors.New("--audience is required: the API's application (client) id (and, after a comma, its app id URI such as api://jitflow)")
			}
			ctx := cmd.Context()
			verifier, err := server.DiscoverVerifier(ctx, issuer, audience, tenantID)
			if err != nil {
				return err
			}
			copts, err := tf.clientOptions(log)
			if err != nil {
				return err
			}
			c, err := client.DialContext(ctx, copts)
			if err != nil {
				return fmt.Errorf("connect to temporal at %s: %w", tf.address, err)
			}
			defer c.Close()
			if baseURL == "" {
				baseURL = "http://" + httpAddr
			}
			cfg := server.Config{
				Temporal: c, Policy: pol, Verifier: verifier, BaseURL: baseURL,
				Ready: pollersReady(c), Logger: log,
			}
			if needsEligibility(pol) {
				// Requesters' PIM eligibilities are read from Entra with
				// the credential the AZURE_* environment names, as the
				// worker's default.
				pim, cred, err := graph.provider()
				if err != nil {
					return fmt.Errorf("graph for eligibility checks (%s): %w", cred, err)
				}
				cfg.Eligibility = pim
			}
			api, err := server.New(cfg)
			if err != nil {
				return err
			}
			srv := &http.Server{Addr: httpAddr, Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv.Shutdown(sctx)
			}()
			log.Info("server listening", "addr", httpAddr, "temporal", tf.address, "namespace", tf.namespace)
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("--http-addr %s: %w", httpAddr, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	tf.register(f)
	f.StringVar(&httpAddr, "http-addr", "127.0.0.1:8080", "address to serve the API on")
	f.StringVar(&policyFile, "policy", envOr("JITFLOW_POLICY", ""), "policy file (env JITFLOW_POLICY)")
	f.StringVar(&baseURL, "base-url", envOr("JITFLOW_BASE_URL", ""), "public URL of this API, used in emails (default http://HTTP_ADDR)")
	f.StringVar(&issuer, "oidc-issuer", envOr("JITFLOW_OIDC_ISSUER", ""), "token issuer (default Entra ID v2.0 of the tenant)")
	f.StringVar(&audience, "audience", envOr("JITFLOW_AUDIENCE", ""), "token audience: the API's application (client) id, which Entra v2.0 tokens carry; add its app id URI after a comma to accept v1.0 tokens too")
	f.StringVar(&graph.url, "graph-url", envOr("JITFLOW_GRAPH_URL", ""), "Microsoft Graph base URL for reading PIM eligibilities when a role sets require_eligibility (env JITFLOW_GRAPH_URL; default: the cloud's Graph)")
	f.StringVar(&graph.cloud, "cloud", envOr("JITFLOW_CLOUD", "public"), "Azure cloud of Graph: public, usgov, usgov-dod or china (env JITFLOW_CLOUD)")
	graph.credential.Kind = envOr("JITFLOW_CREDENTIAL", activities.CredentialAuto)
	graph.retryWait = activities.DefaultMaxRetryWait
	f.StringVar(&tenantID, "tenant-id", envOr("AZURE_TENANT_ID", ""), "Entra tenant id (default: the policy's)")
	logs.register(f, "json", "info")
	return cmd
}

// needsEligibility reports whether some role requires a PIM eligibility,
// which the API then checks in Entra before starting a request.
func needsEligibility(p *policies.Policy) bool {
	for _, r := range p.Roles {
		if r.RequireEligibility {
			return true
		}
	}
	return false
}

// pollersReady is ready when Temporal answers and some worker polls the
// jitflow task queue: a server without workers would accept requests that
// nothing processes.
func pollersReady(c client.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil {
			return fmt.Errorf("temporal: %w", err)
		}
		if len(resp.GetPollers()) == 0 {
			return fmt.Errorf("no worker polls task queue %s", workflows.TaskQueue)
		}
		return nil
	}
}
