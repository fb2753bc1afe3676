package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/jitflow/jitflow/telemetry"
)

// metricsFlags choose where a production process serves /metrics.
type metricsFlags struct{ addr string }

func (m *metricsFlags) register(f *pflag.FlagSet, def string) {
	f.StringVar(&m.addr, "metrics-addr", envOr("JITFLOW_METRICS_ADDR", def),
		`address of the Prometheus /metrics endpoint (env JITFLOW_METRICS_ADDR); "off" serves none`)
}

// observedClientOptions are the Temporal client options with the SDK's
// metrics and jitflow's worker interceptor: workers made from the client
// use the interceptor, which counts what requests do and names the request
// on every workflow and activity log line (the SDK's own lines get it
// through the logger's handler). The client identity names the
// process ("jitflow-server:PID@HOST"): Temporal records it with every
// update and cancellation, so the audit trail shows which server sent a
// decision.
func (t *temporalFlags) observedClientOptions(log *slog.Logger, m *telemetry.Metrics, process string) (client.Options, error) {
	opts, err := t.clientOptions(log)
	if err != nil {
		return opts, err
	}
	host, _ := os.Hostname()
	opts.Identity = fmt.Sprintf("jitflow-%s:%d@%s", process, os.Getpid(), host)
	opts.Logger = sdklog.NewStructuredLogger(slog.New(telemetry.WithRequestID(log.Handler())).With("component", "temporal-sdk"))
	opts.MetricsHandler = m.SDKHandler()
	opts.Interceptors = append(opts.Interceptors, m.Interceptor())
	return opts, nil
}

// serveMetrics listens now (so a taken port fails the command at once) and
// serves /metrics until ctx ends.
func (m *metricsFlags) serve(ctx context.Context, metrics *telemetry.Metrics, log *slog.Logger) error {
	if m.addr == "off" {
		return nil
	}
	ln, err := net.Listen("tcp", m.addr)
	if err != nil {
		return fmt.Errorf("--metrics-addr %s: %w", m.addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint stopped", "addr", m.addr, "error", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}
