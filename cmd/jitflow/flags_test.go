package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jitflow-worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func parseTemporalFlags(t *testing.T, args ...string) *temporalFlags {
	t.Helper()
	var tf temporalFlags
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	tf.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &tf
}

// TestTemporalFlags covers what `jitflow server` and `jitflow worker` take
// to reach Temporal: a plain self-hosted frontend, mTLS, and Temporal Cloud
// with an API key.
func TestTemporalFlags(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, name := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA", "TEMPORAL_API_KEY"} {
		t.Setenv(name, "")
	}

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		tls     bool
		certs   int
		ca      bool
		apiKey  bool
		host    string
		ns      string
		wantErr string
	}{
		{name: "defaults", host: "127.0.0.1:7233", ns: "default"},
		{name: "from environment", env: map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "jitflow"}, host: "temporal:7233", ns: "jitflow"},
		{name: "mTLS", args: []string{"--temporal-address", "jitflow.abc12.tmprl.cloud:7233", "--namespace", "jitflow.abc12", "--temporal-tls-cert", cert, "--temporal-tls-key", key, "--temporal-tls-ca", cert},
			tls: true, certs: 1, ca: true, host: "jitflow.abc12.tmprl.cloud:7233", ns: "jitflow.abc12"},
		{name: "API key from environment", env: map[string]string{"TEMPORAL_API_KEY": "k3y"}, args: []string{"--temporal-address", "eu-west-1.aws.api.temporal.io:7233"},
			tls: true, apiKey: true, host: "eu-west-1.aws.api.temporal.io:7233", ns: "default"},
		{name: "TLS with system roots", args: []string{"--temporal-tls"}, tls: true, host: "127.0.0.1:7233", ns: "default"},
		{name: "cert without key", args: []string{"--temporal-tls-cert", cert}, wantErr: "go together"},
		{name: "CA not PEM", args: []string{"--temporal-tls-ca", notPEM}, wantErr: "--temporal-tls-ca"},
		{name: "missing cert file", args: []string{"--temporal-tls-cert", filepath.Join(dir, "nope.pem"), "--temporal-tls-key", key}, wantErr: "--temporal-tls-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			opts, err := parseTemporalFlags(t, tt.args...).clientOptions(slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.HostPort != tt.host || opts.Namespace != tt.ns {
				t.Errorf("host %q namespace %q, want %q %q", opts.HostPort, opts.Namespace, tt.host, tt.ns)
			}
			cfg := opts.ConnectionOptions.TLS
			if (cfg != nil) != tt.tls {
				t.Fatalf("TLS = %v, want %v", cfg != nil, tt.tls)
			}
			if cfg != nil && (len(cfg.Certificates) != tt.certs || (cfg.RootCAs != nil) != tt.ca) {
				t.Errorf("TLS certs %d, CA %v; want %d, %v", len(cfg.Certificates), cfg.RootCAs != nil, tt.certs, tt.ca)
			}
			if (opts.Credentials != nil) != tt.apiKey {
				t.Errorf("API key credentials = %v, want %v", opts.Credentials != nil, tt.apiKey)
			}
		})
	}
}

func TestServerAndWorkerFlags(t *testing.T) {
	t.Setenv("JITFLOW_METRICS_ADDR", "")
	server, worker := serverCommand(), workerCommand()
	for _, tc := range []struct {
		cmd   interface{ Flags() *pflag.FlagSet }
		name  string
		flags []string
		addr  string
	}{
		{server, "server", []string{"temporal-address", "namespace", "temporal-tls", "temporal-tls-cert", "temporal-tls-key", "temporal-tls-ca", "temporal-tls-server-name", "temporal-api-key", "metrics-addr", "policy", "audience", "temporal-ui-url"}, "127.0.0.1:9464"},
		{worker, "worker", []string{"temporal-address", "namespace", "temporal-tls-cert", "temporal-api-key", "metrics-addr", "audit-sink", "audit-every", "graph-url", "outbox"}, "127.0.0.1:9465"},
	} {
		f := tc.cmd.Flags()
		for _, name := range tc.flags {
			if f.Lookup(name) == nil {
				t.Errorf("%s has no --%s", tc.name, name)
			}
		}
		if got := f.Lookup("metrics-addr").DefValue; got != tc.addr {
			t.Errorf("%s --metrics-addr default %q, want %q (server and worker may share a host)", tc.name, got, tc.addr)
		}
	}
}

// A Temporal Web UI address that is not an http(s) URL is refused before
// the server connects anywhere, naming the flag.
func TestServerTemporalUIURL(t *testing.T) {
	for _, bad := range []string{"temporal.example.com", "ftp://temporal.example.com", "https://"} {
		cmd := serverCommand()
		cmd.SetArgs([]string{"--temporal-ui-url", bad})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), "--temporal-ui-url") {
			t.Errorf("--temporal-ui-url %q: error %v, want one naming the flag", bad, err)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2026-11-24T09:30:00Z", time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC), false},
		{"2026-11-24T09:30:00+01:00", time.Date(2026, 11, 24, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-24", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), false},
		{"36h", now.Add(-36 * time.Hour), false},
		{"-1h", time.Time{}, true},
		{"last tuesday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseWhen("--since", tt.in, now)
		if (err != nil) != tt.err || (!tt.err && !got.Equal(tt.want)) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !strings.Contains(err.Error(), "--since") {
			t.Errorf("error %q does not name the flag", err)
		}
	}
}
