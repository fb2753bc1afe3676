package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// temporalFlags connect `server` and `worker` to an existing Temporal
// service: self-hosted (plain or mTLS) or Temporal Cloud (mTLS or API key).
type temporalFlags struct {
	address, namespace        string
	tls                       bool
	cert, key, ca, serverName string
	apiKey                    string
}

func (t *temporalFlags) register(f *pflag.FlagSet) {
	f.StringVar(&t.address, "temporal-address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port (env TEMPORAL_ADDRESS)")
	f.StringVar(&t.namespace, "namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace (env TEMPORAL_NAMESPACE)")
	f.BoolVar(&t.tls, "temporal-tls", false, "use TLS to Temporal (implied by the certificate flags and the API key)")
	f.StringVar(&t.cert, "temporal-tls-cert", os.Getenv("TEMPORAL_TLS_CERT"), "client certificate PEM for mTLS (env TEMPORAL_TLS_CERT)")
	f.StringVar(&t.key, "temporal-tls-key", os.Getenv("TEMPORAL_TLS_KEY"), "client key PEM for mTLS (env TEMPORAL_TLS_KEY)")
	f.StringVar(&t.ca, "temporal-tls-ca", os.Getenv("TEMPORAL_TLS_CA"), "CA bundle PEM to verify the server (default: system roots)")
	f.StringVar(&t.serverName, "temporal-tls-server-name", "", "server name to verify, when it differs from the address")
	f.StringVar(&t.apiKey, "temporal-api-key", "", "Temporal Cloud API key (prefer env TEMPORAL_API_KEY: flags show in process lists)")
}

func (t *temporalFlags) clientOptions(log *slog.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort:  t.address,
		Namespace: t.namespace,
		Logger:    sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
	}
	apiKey := t.apiKey
	if apiKey == "" {
		apiKey = os.Getenv("TEMPORAL_API_KEY")
	}
	if (t.cert == "") != (t.key == "") {
		return opts, fmt.Errorf("--temporal-tls-cert and --temporal-tls-key go together: got only one")
	}
	if !t.tls && t.cert == "" && t.ca == "" && apiKey == "" {
		return opts, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.serverName}
	if t.cert != "" {
		pair, err := tls.LoadX509KeyPair(t.cert, t.key)
		if err != nil {
			return opts, fmt.Errorf("--temporal-tls-cert/--temporal-tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if t.ca != "" {
		pem, err := os.ReadFile(t.ca)
		if err != nil {
			return opts, fmt.Errorf("--temporal-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return opts, fmt.Errorf("--temporal-tls-ca %s: no PEM certificate found", t.ca)
		}
		cfg.RootCAs = pool
	}
	opts.ConnectionOptions.TLS = cfg
	if apiKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(apiKey)
	}
	return opts, nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
