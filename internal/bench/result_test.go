package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleResult() *Result {
	rss := 412.5
	return &Result{
		Requests: 300, Concurrency: 20, Grant: 5 * time.Second,
		ApproveToActive:  Dist{N: 50, P50: 18.5, P99: 60.25, Max: 70},
		SubmitPerSec:     120.5,
		LifecyclesPerSec: 20,
		ExpiryLag:        Dist{N: 300, P50: 300, P99: 1800, Max: 2100},
		ExpirySpread:     3 * time.Second,
		Baseline:         &Baseline{ApproveToActive: Dist{N: 50, P50: 9, P99: 30, Max: 31}, LifecyclesPerSec: 25, ExpiryLag: Dist{N: 300, P50: 100, P99: 900, Max: 950}},
		RSSMB:            &rss,
	}
}

// The --json line has exactly the contract's shape.
func TestResultJSONLine(t *testing.T) {
	got, err := json.Marshal(sampleResult())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"requests":300,"concurrency":20,"approve_to_active_ms":{"p50":18.5,"p99":60.25},"submit_per_sec":120.5,"lifecycles_per_sec":20,` +
		`"expiry_lag_ms":{"p50":300,"p99":1800,"max":2100},"baseline":{"approve_to_active_ms":9,"lifecycles_per_sec":25,"expiry_lag_ms":100},` +
		`"overhead_ratio":1.25,"rss_mb":412.5}`
	if string(got) != want {
		t.Errorf("JSON line\n got %s\nwant %s", got, want)
	}
}

// What was not measured is null, not a made-up zero.
func TestResultJSONLineWithoutBaselineOrRSS(t *testing.T) {
	r := sampleResult()
	r.Baseline, r.RSSMB = nil, nil
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"baseline":{"approve_to_active_ms":null,"lifecycles_per_sec":null,"expiry_lag_ms":null}`,
		`"overhead_ratio":null`, `"rss_mb":null`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
}

func TestResultTableShowsTargetsAndVerdicts(t *testing.T) {
	r := sampleResult()
	r.Notes = []string{"baseline ran on the same server"}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"PHASE", "approve -> active p50", "18.50 ms", "<= 25 ms (met)",
		"60.25 ms", "<= 100 ms (met)",
		"expires_at -> removal p99", "1800.00 ms", "<= 2500 ms (met)",
		"overhead ratio", "1.25", "<= 1.33 (met)",
		"peak RSS", "412.5 MB",
		"note: baseline ran on the same server",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	r.ApproveToActive.P50 = 30
	b.Reset()
	r.WriteTable(&b)
	if !strings.Contains(b.String(), "<= 25 ms (MISSED)") {
		t.Errorf("a missed target is not marked:\n%s", b.String())
	}
}

func TestPendingJSONLineAndTable(t *testing.T) {
	rss, db := 540.0, 120.5
	r := &PendingResult{Pending: 10000, Concurrency: 20, SubmitPerSec: 90, RSSMB: &rss, DBMB: &db,
		Runtime:      &RuntimeStats{HeapInuseMB: 300, StackInuseMB: 120.5, SysMB: 500, Goroutines: 31000},
		ListApprover: Dist{N: 20, P50: 40, P99: 80, Max: 80}, ListOperator: Dist{N: 20, P50: 45, P99: 90, Max: 90}}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pending":10000,"concurrency":20,"submit_per_sec":90,"rss_mb":540,"db_mb":120.5,"list_ms":{"approver":{"p50":40,"p99":80},"operator":{"p50":45,"p99":90}}}`
	if string(got) != want {
		t.Errorf("JSON line\n got %s\nwant %s", got, want)
	}
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"540.0 MB", "<= 600 MB (met) at 10000 pending", "120.5 MB", "pending_approval as operator p99", "300.0 / 120.5 / 500.0 MB", "31000"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
