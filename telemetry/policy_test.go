package telemetry

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/policies"
)

// TestPolicyReloadMetrics drives a live policy through its outcomes with
// the metrics as its OnReload, as jitflow server wires them, and reads
// /metrics after each step.
func TestPolicyReloadMetrics(t *testing.T) {
	m := New()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dev := string(policies.DevYAML)
	write(dev)
	start := time.Now()
	live, err := policies.NewLive(path, policies.LiveOptions{OnReload: m.PolicyReloaded})
	if err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m)
	expect(t, text, "at start",
		`jitflow_policy_generation 1`,
		`jitflow_policy_reloads_total{outcome="applied"} 0`,
		`jitflow_policy_reloads_total{outcome="refused"} 0`)
	timestampBetween(t, text, "applied", start, time.Now())
	if strings.Contains(text, `jitflow_policy_last_reload_timestamp_seconds{outcome="refused"}`) {
		t.Error("a refusal time before any refusal")
	}

	write(strings.Replace(dev, "max: 8h", "max: 2x", 1))
	before := time.Now()
	if err := live.Reload(); err == nil {
		t.Fatal("a broken file was applied")
	}
	text = scrape(t, m)
	expect(t, text, "after a refusal",
		`jitflow_policy_generation 1`,
		`jitflow_policy_reloads_total{outcome="applied"} 0`,
		`jitflow_policy_reloads_total{outcome="refused"} 1`)
	timestampBetween(t, text, "refused", before, time.Now())

	write(strings.Replace(dev, "max: 8h", "max: 4h", 1))
	before = time.Now()
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := live.Reload(); err != nil { // unchanged: counts nothing
		t.Fatal(err)
	}
	text = scrape(t, m)
	expect(t, text, "after an applied reload",
		`jitflow_policy_generation 2`,
		`jitflow_policy_reloads_total{outcome="applied"} 1`,
		`jitflow_policy_reloads_total{outcome="refused"} 1`)
	timestampBetween(t, text, "applied", before, time.Now())
	if strings.Contains(text, `outcome="unchanged"`) {
		t.Error("an unchanged file should leave no series")
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, body)
	}
	return string(body)
}

func expect(t *testing.T, text, when string, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("%s: /metrics lacks %q", when, want)
		}
	}
}

// timestampBetween checks the last reload time of outcome lies in [from, to].
func timestampBetween(t *testing.T, text, outcome string, from, to time.Time) {
	t.Helper()
	prefix := `jitflow_policy_last_reload_timestamp_seconds{outcome="` + outcome + `"} `
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			s, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s%s: %v", prefix, v, err)
			}
			if at := time.Unix(0, int64(s*1e9)); at.Before(from.Add(-time.Millisecond)) || at.After(to.Add(time.Millisecond)) {
				t.Errorf("%s is %v, want between %v and %v", prefix, at, from, to)
			}
			return
		}
	}
	t.Errorf("/metrics lacks %s", prefix)
}
