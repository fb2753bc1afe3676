package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/server"
	"github.com/jitflow/jitflow/telemetry"
	"github.com/jitflow/jitflow/workflows"
)

func serverCommand() *cobra.Command {
	var (
		tf                            temporalFlags
		httpAddr, policyFile, baseURL string
		graph                         graphFlags
		issuer, audience, tenantID    string
		acceptV1                      bool
		limit                         server.RateLimit
		trustedProxies, temporalUI    string
		logs                          logFlags
		links                         approvalFlags
		signIn                        signInFlags
		metf                          metricsFlags
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the HTTP API against an existing Temporal service",
		Long: `Serve the HTTP API against an existing Temporal service.

Servers behind one load balancer get the same approval key list: it checks
approval links and signs list page tokens, so a page token made by one
server works on the others.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger()
			if err != nil {
				return err
			}
			if limit.PerSecond <= 0 || limit.Burst < 1 {
				return fmt.Errorf("--rate-limit %g and --rate-burst %d: both must be more than 0 (defaults %g and %d)",
					limit.PerSecond, limit.Burst, server.DefaultRateLimit.PerSecond, server.DefaultRateLimit.Burst)
			}
			if temporalUI != "" {
				if u, err := url.Parse(temporalUI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return fmt.Errorf("--temporal-ui-url %q: give the Web UI's http(s) address, such as https://temporal.example.com", temporalUI)
				}
			}
			proxies, err := server.ParseTrustedProxies(trustedProxies)
			if err != nil {
				return fmt.Errorf("--trusted-proxies: %w", err)
			}
			keys, err := links.keys()
			if err != nil {
				return err
			}
			if policyFile == "" {
				return errors.New("--policy is required: the policy file with your roles and approvers")
			}
			live, err := loadLivePolicy(policyFile, log)
			if err != nil {
				return err
			}
			pol := live.Current()
			if tenantID == "" {
				tenantID = pol.TenantID
			}
			v2, v1 := server.EntraIssuers(tenantID)
			if issuer == "" {
				issuer = v2
			}
			var more []string
			if acceptV1 {
				more = append(more, v1)
			}
			if audience == "" {
				return errors.New("--audience is required: the API's application (client) id (and, after a comma, its app id URI such as api://jitflow)")
			}
			ctx := cmd.Context()
			verifier, err := server.DiscoverVerifier(ctx, issuer, audience, tenantID, more...)
			if err != nil {
				return err
			}
			metrics := telemetry.New()
			copts, err := tf.observedClientOptions(log, metrics, "server")
			if err != nil {
				return err
			}
			c, err := client.DialContext(ctx, copts)
			if err != nil {
				return fmt.Errorf("connect to temporal at %s: %w", tf.address, err)
			}
			defer c.Close()
			if err := metrics.Register(telemetry.NewVisibilityCollector(c, pol.RoleNames(), 30*time.Second)); err != nil {
				return err
			}
			if err := metf.serve(ctx, metrics, log); err != nil {
				return err
			}
			if baseURL == "" {
				baseURL = "http://" + httpAddr
			}
			si, err := signIn.config(issuer)
			if err != nil {
				return err
			}
			gc, dir, err := graph.withDirectory()
			if err != nil {
				return err
			}
			cfg := server.Config{
				Temporal: c, Policies: live, Verifier: verifier, BaseURL: baseURL,
				ApprovalKeys: keys, Proofs: proof.FromKeySet(keys), SignIn: si,
				Ready: pollersReady(c), Logger: log, Metrics: metrics,
				Directory: dir, RateLimit: limit, TrustedProxies: proxies,
				PageTokenKey:  pageTokenKey(keys),
				TemporalUIURL: server.NamespaceUI(temporalUI, tf.namespace),
			}
			// Always set: a reloaded policy may add a role that requires
			// an eligibility.
			cfg.Eligibility = gc
			api, err := server.New(cfg)
			if err != nil {
				return err
			}
			// From here on, a changed policy file (or SIGHUP) applies to
			// the next request, once this server can serve it.
			live.serve(ctx, metrics, api.CheckPolicy)
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
	f.StringVar(&policyFile, "policy", envOr("JITFLOW_POLICY", ""), "policy file (env JITFLOW_POLICY); reloaded when it changes and on SIGHUP: a file with errors is refused and the previous policy stays in force")
	f.StringVar(&baseURL, "base-url", envOr("JITFLOW_BASE_URL", ""), "public URL of this API, used in emails (default http://HTTP_ADDR)")
	f.StringVar(&issuer, "oidc-issuer", envOr("JITFLOW_OIDC_ISSUER", ""), "token issuer (default Entra ID v2.0 of the tenant)")
	f.StringVar(&audience, "audience", envOr("JITFLOW_AUDIENCE", ""), "token audience: the API's application (client) id, which Entra v2.0 tokens carry; add its app id URI after a comma to accept v1.0 tokens too")
	// Graph is read for PIM eligibilities (roles with require_eligibility)
	// and for the groups of callers whose token has a group overage.
	graph.register(f)
	f.StringVar(&tenantID, "tenant-id", envOr("AZURE_TENANT_ID", ""), "Entra tenant id (default: the policy's)")
	links.register(f)
	signIn.register(f)
	f.BoolVar(&acceptV1, "accept-v1-tokens", os.Getenv("JITFLOW_ACCEPT_V1_TOKENS") == "true", "also accept Entra v1.0 access tokens (issuer https://sts.windows.net/TENANT/), which carry the amr claim that require_mfa reads (env JITFLOW_ACCEPT_V1_TOKENS=true)")
	f.Float64Var(&limit.PerSecond, "rate-limit", server.DefaultRateLimit.PerSecond, "calls per second allowed to each caller, on average")
	f.IntVar(&limit.Burst, "rate-burst", server.DefaultRateLimit.Burst, "the most calls a caller may make at once (the size of each caller's token bucket)")
	f.StringVar(&trustedProxies, "trusted-proxies", envOr("JITFLOW_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDR ranges of the reverse proxies in front of the API, whose X-Forwarded-For names the client; the per-address limits (calls without a valid token, approval pages) count by that address (env JITFLOW_TRUSTED_PROXIES; default: none, the connection's peer is the client)")
	f.StringVar(&temporalUI, "temporal-ui-url", envOr("JITFLOW_TEMPORAL_UI_URL", ""), "address of the Temporal Web UI, such as https://temporal.example.com: the portal links each request to its workflow there, for operators (env JITFLOW_TEMPORAL_UI_URL; default: no link)")
	logs.register(f, "json", "info")
	metf.register(f, "127.0.0.1:9464")
	return cmd
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
