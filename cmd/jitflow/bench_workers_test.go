//go:build !production

package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/bench"
	"github.com/jitflow/jitflow/internal/devstack"
)

// runAsJitflow makes this test binary act as jitflow when the bench
// starts it as a worker (os.Executable is the test binary here).
const runAsJitflow = "BENCH_WORKERS_TEST_RUN_JITFLOW"

func TestMain(m *testing.M) {
	if os.Getenv(runAsJitflow) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchWorkerCommandLine: the command line the bench gives its
// workers is one `jitflow worker` accepts, with the stack's key list,
// Temporal, Graph emulator and URL, and nothing of TLS; the environment
// loses the settings that would change the worker behind the bench's back.
func TestBenchWorkerCommandLine(t *testing.T) {
	ws := workerSetup{temporal: "127.0.0.1:7233", namespace: "ns", keysFile: "/data/approval-keys",
		apiURL: "http://127.0.0.1:8080", graphURL: "http://127.0.0.1:8091", mailURL: "http://127.0.0.1:8092", mailKey: "SG.k"}
	args := ws.args()
	cmd := workerCommand()
	if args[0] != cmd.Name() {
		t.Fatalf("the command line starts with %q, want %q", args[0], cmd.Name())
	}
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("jitflow worker refuses %q: %v", args, err)
	}
	for flag, want := range map[string]string{
		"temporal-address": ws.temporal, "namespace": ws.namespace, "approval-keys": ws.keysFile,
		"base-url": ws.apiURL, "graph-url": ws.graphURL, "sendgrid-url": ws.mailURL, "mailer": mailerSendGrid,
	} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s %q, want %q", flag, got, want)
		}
	}
	for _, flag := range []string{"temporal-tls", "temporal-tls-cert", "temporal-tls-key", "temporal-tls-ca", "temporal-api-key"} {
		if cmd.Flags().Changed(flag) {
			t.Errorf("--%s is set: the bench's workers talk plain gRPC, as its own server does", flag)
		}
	}
	env := ws.env([]string{"PATH=/bin", "HOME=/root", "TEMPORAL_TLS_CERT=/c.pem", "TEMPORAL_API_KEY=x",
		"JITFLOW_APPROVAL_KEYS=k1:abc", "JITFLOW_OUTBOX=/tmp/o", "AZURE_CLIENT_ID=a", "SENDGRID_API_KEY=other"})
	want := []string{"PATH=/bin", "HOME=/root", activities.SendGridKeyEnv + "=SG.k"}
	if !slices.Equal(env, want) {
		t.Errorf("worker environment %q, want %q", env, want)
	}
}

// fakeResult is a result whose table and line are known.
type fakeResult struct{ line string }

func (f fakeResult) WriteTable(w io.Writer) error {
	_, err := io.WriteString(w, "TABLE\n")
	return err
}

func (f fakeResult) MarshalJSON() ([]byte, error) { return []byte(f.line), nil }

// TestBenchStackReport: the table names the stack measured and the line
// ends with "workers", null with --api.
func TestBenchStackReport(t *testing.T) {
	tests := []struct {
		bf       benchFlags
		stack    string
		wantTail string
	}{
		{benchFlags{workers: 1}, "embedded Temporal (SQLite, 1 history shard), the worker in this process", `"workers":1}`},
		{benchFlags{workers: 3}, "embedded Temporal (SQLite, 1 history shard), 3 `jitflow worker` processes", `"workers":3}`},
		{benchFlags{workers: 1, temporal: "10.0.0.1:7233", namespace: "b"}, "Temporal at 10.0.0.1:7233 (namespace b), 1 `jitflow worker` process", `"workers":1}`},
		{benchFlags{workers: 1, api: "http://127.0.0.1:8080"}, "the one at http://127.0.0.1:8080", `"workers":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			var out strings.Builder
			if err := report(&out, tt.bf.described(fakeResult{`{"requests":2}`}), true); err != nil {
				t.Fatal(err)
			}
			want := "stack: " + tt.stack + "\nTABLE\n" + `{"requests":2,` + tt.wantTail + "\n"
			if out.String() != want {
				t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}

// TestBenchPendingNoteOnRemoteTemporal: with --temporal-address the
// database size note says where the data is, not to give --data-dir.
func TestBenchPendingNoteOnRemoteTemporal(t *testing.T) {
	res := &bench.PendingResult{Notes: []string{"database size skipped: give the target's --data-dir to measure it", "other"}}
	bf := benchFlags{workers: 1, temporal: "10.0.0.1:7233"}
	bf.described(res)
	want := []string{"database size skipped: Temporal at 10.0.0.1:7233 keeps its data in its own database", "other"}
	if !slices.Equal(res.Notes, want) {
		t.Errorf("notes %q, want %q", res.Notes, want)
	}
}

// TestBenchWorkersEndToEnd runs the bench's own server against a Temporal
// service it did not start (a dev stack's), with two worker processes:
// every lifecycle completes, so the workers took the server's proofs and
// reached the emulator, and the line says two workers and no RSS.
func TestBenchWorkersEndToEnd(t *testing.T) {
	t.Setenv(runAsJitflow, "1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	temporal, err := devstack.Start(ctx, devstack.Options{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", NoUI: true,
		Namespace: "default", Retention: 24 * time.Hour, NoWorker: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer temporal.Stop()
	out, err := runBench(t, "--temporal-address", temporal.TemporalAddr, "--workers", "2",
		"--requests", "4", "--concurrency", "2", "--grant", "1s", "--latency", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "stack: Temporal at "+temporal.TemporalAddr+" (namespace default), 2 `jitflow worker` processes") {
		t.Errorf("the table does not name the stack:\n%s", out)
	}
	v := lastJSONLine(t, out)
	if n, ok := v["workers"].(json.Number); !ok || n.String() != "2" {
		t.Errorf("workers = %v, want 2", v["workers"])
	}
	if v["rss_mb"] != nil {
		t.Errorf("rss_mb = %v with workers in other processes, want null", v["rss_mb"])
	}
	if number(t, v["lifecycles_per_sec"]) <= 0 {
		t.Errorf("lifecycles_per_sec = %v", v["lifecycles_per_sec"])
	}
}

// TestBenchScriptsSyntax: the PostgreSQL bench script and the library it
// shares with the production check parse.
func TestBenchScriptsSyntax(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, script := range []string{"bench-postgres.sh", "lib/temporal-postgres.sh", "production-check.sh"} {
		if out, err := exec.Command(bash, "-n", "../../scripts/"+script).CombinedOutput(); err != nil {
			t.Errorf("bash -n scripts/%s: %v\n%s", script, err, out)
		}
	}
}
