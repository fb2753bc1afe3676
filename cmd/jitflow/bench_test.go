//go:build !production

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitflow/jitflow/internal/bench"
	"github.com/jitflow/jitflow/internal/devstack"
)

// runBench runs `jitflow bench` in process and returns its stdout.
func runBench(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := benchCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	t.Logf("jitflow bench %s\n%s%s", strings.Join(args, " "), out.String(), errOut.String())
	return out.String(), err
}

// lastJSONLine decodes the last line of out, which --json promises is
// the result, keeping numbers as json.Number.
func lastJSONLine(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("last line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	return v
}

// wantNumbers checks that v has exactly the keys of shape, numbers where
// shape has nil and objects of the given shape elsewhere.
func wantNumbers(t *testing.T, path string, v map[string]any, shape map[string]any) {
	t.Helper()
	if len(v) != len(shape) {
		t.Errorf("%s: keys %v, want those of %v", path, keys(v), keys(shape))
	}
	for k, sub := range shape {
		got, ok := v[k]
		switch {
		case !ok:
			t.Errorf("%s.%s missing", path, k)
		case sub == nil:
			if _, isNum := got.(json.Number); !isNum {
				t.Errorf("%s.%s = %v (%T), want a number", path, k, got, got)
			}
		default:
			obj, isObj := got.(map[string]any)
			if !isObj {
				t.Errorf("%s.%s = %v, want an object", path, k, got)
				continue
			}
			wantNumbers(t, path+"."+k, obj, sub.(map[string]any))
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func number(t *testing.T, v any) float64 {
	t.Helper()
	f, err := v.(json.Number).Float64()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBenchEndToEnd runs the bench on its own embedded stack, small, and
// checks the --json line's shape and that what it counted adds up.
func TestBenchEndToEnd(t *testing.T) {
	out, err := runBench(t, "--requests", "6", "--concurrency", "3", "--grant", "1s", "--latency", "3", "--json", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "approve -> active p50") || !strings.Contains(out, "<= 25 ms") {
		t.Errorf("the table lacks the latency row with its target:\n%s", out)
	}
	v := lastJSONLine(t, out)
	pair := map[string]any{"p50": nil, "p99": nil}
	spread := map[string]any{"p50": nil, "p99": nil, "max": nil}
	work := map[string]any{"workflow_tasks": nil, "activities": nil, "local_activities": nil, "history_events": nil,
		"visibility_writes": nil, "persistence_writes": nil, "visibility_persistence_writes": nil}
	wantNumbers(t, "line", v, map[string]any{
		"requests": nil, "concurrency": nil,
		"approve_to_active_ms": pair,
		"submit_per_sec":       nil, "lifecycles_per_sec": nil,
		"expiry_lag_ms":  spread,
		"baseline":       map[string]any{"approve_to_active_ms": nil, "lifecycles_per_sec": nil, "expiry_lag_ms": spread},
		"overhead_ratio": nil, "rss_mb": nil, "workers": nil,
		"work": map[string]any{"jitflow": work, "baseline": work},
	})
	if t.Failed() {
		return
	}
	// The baseline's lifecycle is two activities, and one workflow task
	// for each of its steps at most. jitflow's sends the emails of an
	// approval as two activities and does the rest in local activities
	// (Graph, the other emails, telling requests): as many activities,
	// more of everything else.
	j, b := v["work"].(map[string]any)["jitflow"].(map[string]any), v["work"].(map[string]any)["baseline"].(map[string]any)
	if got := number(t, b["activities"]); got != 2 {
		t.Errorf("baseline activities per lifecycle %v, want 2", got)
	}
	if got := number(t, j["activities"]); got != 2 {
		t.Errorf("jitflow activities per lifecycle %v, want 2 (the approved and active emails)", got)
	}
	if number(t, j["local_activities"]) <= 0 || number(t, b["local_activities"]) != 0 {
		t.Errorf("local activities per lifecycle: jitflow %v, baseline %v; want jitflow's positive, the baseline's none", j["local_activities"], b["local_activities"])
	}
	for _, k := range []string{"workflow_tasks", "history_events", "visibility_writes", "persistence_writes"} {
		if number(t, j[k]) <= number(t, b[k]) || number(t, b[k]) <= 0 {
			t.Errorf("%s per lifecycle: jitflow %v, baseline %v; want both positive and jitflow's more", k, j[k], b[k])
		}
	}
	if number(t, j["visibility_persistence_writes"]) > number(t, j["persistence_writes"]) {
		t.Errorf("visibility store writes %v over all store writes %v", j["visibility_persistence_writes"], j["persistence_writes"])
	}
	if number(t, v["requests"]) != 6 || number(t, v["concurrency"]) != 3 {
		t.Errorf("requests %v, concurrency %v; want 6 and 3", v["requests"], v["concurrency"])
	}
	for _, k := range []string{"submit_per_sec", "lifecycles_per_sec", "overhead_ratio", "rss_mb"} {
		if number(t, v[k]) <= 0 {
			t.Errorf("%s = %v, want it positive", k, v[k])
		}
	}
	if lag := v["expiry_lag_ms"].(map[string]any); number(t, lag["p50"]) > number(t, lag["max"]) {
		t.Errorf("expiry lag p50 %v over its max %v", lag["p50"], lag["max"])
	}
}

// TestBenchExpireTogetherEndToEnd runs the lifecycles pipelined, every
// grant asking for the time left until one common end.
func TestBenchExpireTogetherEndToEnd(t *testing.T) {
	out, err := runBench(t, "--requests", "4", "--concurrency", "2", "--grant", "4s", "--latency", "1", "--expire-together", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "pipelined, all grants ending 4s after the first submit") {
		t.Errorf("the table does not say the grants were made to end together:\n%s", out)
	}
	if v := lastJSONLine(t, out); number(t, v["lifecycles_per_sec"]) <= 0 {
		t.Errorf("lifecycles_per_sec = %v", v["lifecycles_per_sec"])
	}
}

// TestBenchPendingEndToEnd holds a few pending requests and checks the
// --pending line.
func TestBenchPendingEndToEnd(t *testing.T) {
	out, err := runBench(t, "--pending", "5", "--concurrency", "2", "--list-calls", "3", "--json")
	if err != nil {
		t.Fatal(err)
	}
	v := lastJSONLine(t, out)
	pair := map[string]any{"p50": nil, "p99": nil}
	wantNumbers(t, "line", v, map[string]any{
		"pending": nil, "concurrency": nil, "submit_per_sec": nil, "rss_mb": nil, "db_mb": nil, "workers": nil,
		"list_ms": map[string]any{"approver": pair, "operator": pair},
	})
	if !t.Failed() && (number(t, v["pending"]) != 5 || number(t, v["db_mb"]) <= 0) {
		t.Errorf("pending %v, db_mb %v; want 5 and a database", v["pending"], v["db_mb"])
	}
}

// TestBenchFlagErrors checks that bad flags fail before anything starts,
// naming the flag and what it accepts.
func TestBenchFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--concurrency", "0"}, "--concurrency 0: must be at least 1"},
		{[]string{"--requests", "-1"}, "--requests -1: must be at least 1"},
		{[]string{"--latency", "0"}, "--latency 0: must be at least 1"},
		{[]string{"--grant", "500ms"}, "--grant 500ms: must be at least 1s"},
		{[]string{"--pending", "-3"}, "--pending -3: must be at least 0"},
		{[]string{"--list-calls", "0"}, "--list-calls 0: must be at least 1"},
		{[]string{"--role", "admin"}, "--role: applies only with --api"},
		{[]string{"--api", "127.0.0.1:8080", "--graph-url", "http://127.0.0.1:8091"}, `--api "127.0.0.1:8080": give an http(s) URL`},
		{[]string{"--api", "http://127.0.0.1:8080"}, `--graph-url "": give an http(s) URL`},
		{[]string{"--api", "http://127.0.0.1:8080", "--graph-url", "http://g", "--requester", "bob"}, `--requester "bob": must be a user name other than the approver`},
		{[]string{"--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"--temporal-metrics-url", "http://127.0.0.1:9090/metrics"}, "--temporal-metrics-url http://127.0.0.1:9090/metrics: applies only with --temporal-address"},
		{[]string{"--api", "http://127.0.0.1:8080", "--graph-url", "http://g", "--temporal-address", "127.0.0.1:7233", "--temporal-metrics-url", "127.0.0.1:9090"},
			`--temporal-metrics-url "127.0.0.1:9090": give an http(s) URL`},
		{[]string{"--workers", "0"}, "--workers 0: give 1 to 64 worker processes"},
		{[]string{"--workers", "65"}, "--workers 65: give 1 to 64 worker processes"},
		{[]string{"--temporal-address", "127.0.0.1"}, `--temporal-address "127.0.0.1": give the Temporal frontend as host:port`},
		{[]string{"--temporal-address", ":7233"}, `--temporal-address ":7233": give the Temporal frontend as host:port`},
		{[]string{"--temporal-address", "127.0.0.1:0"}, `--temporal-address "127.0.0.1:0": give the Temporal frontend as host:port`},
		{[]string{"--api", "http://127.0.0.1:8080", "--graph-url", "http://g", "--temporal-address", "temporal"}, `--temporal-address "temporal": give the Temporal frontend as host:port`},
		{[]string{"--api", "http://127.0.0.1:8080", "--graph-url", "http://g", "--workers", "2"}, "--workers 2: applies only to the bench's own stack"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := runBench(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestBenchAgainstRunningStack measures a stack started apart from the
// bench, through its URLs only (removals and assignments from the
// emulator's HTTP endpoints), with the baseline on its Temporal server.
func TestBenchAgainstRunningStack(t *testing.T) {
	pol, names, err := bench.Policy(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", NoUI: true,
		Policy: pol, Namespace: "default", Retention: 24 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	// A stand-in for the Temporal server's Prometheus endpoint: each read
	// finds 10 more writes and 5 more reads than the one before.
	var scrapes atomic.Int64
	metricsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := scrapes.Add(1)
		fmt.Fprintf(w, "persistence_requests{operation=\"UpdateWorkflowExecution\"} %d\npersistence_requests{operation=\"GetWorkflowExecution\"} %d\n", 10*n, 5*n)
	}))
	defer metricsSrv.Close()
	out, err := runBench(t, "--api", st.APIURL, "--graph-url", st.GraphURL, "--temporal-address", st.TemporalAddr,
		"--temporal-metrics-url", metricsSrv.URL+"/metrics",
		"--role", bench.PolicyRole, "--requester", strings.Join(names, ","), "--approver", bench.PolicyApprover, "--operator", bench.PolicyOperator,
		"--requests", "2", "--concurrency", "2", "--grant", "1s", "--latency", "2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	v := lastJSONLine(t, out)
	// Read before and after each phase: 10 writes over 2 lifecycles.
	for _, who := range []string{"jitflow", "baseline"} {
		w := v["work"].(map[string]any)[who].(map[string]any)
		if got := number(t, w["persistence_writes"]); got != 5 {
			t.Errorf("%s persistence_writes %v, want 5 (10 writes over 2 lifecycles)", who, got)
		}
		if got := number(t, w["workflow_tasks"]); got <= 0 {
			t.Errorf("%s workflow_tasks %v, want it counted from the histories on --temporal-address", who, got)
		}
	}
	if v["rss_mb"] != nil {
		t.Errorf("rss_mb = %v for a stack in another process, want null", v["rss_mb"])
	}
	if _, ok := v["overhead_ratio"].(json.Number); !ok {
		t.Errorf("overhead_ratio = %v, want a number (the baseline ran on --temporal-address)", v["overhead_ratio"])
	}
	if !strings.Contains(out, "RSS skipped") {
		t.Errorf("the output does not say RSS was skipped:\n%s", out)
	}
}
