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
		Work: &Work{Lifecycles: 300, WorkflowTasks: 2700, Activities: 1200, LocalActivities: 300, HistoryEvents: 27900, VisibilityWrites: 4980,
			Store: &StoreWrites{Main: 9000, Visibility: 2400}},
		Baseline: &Baseline{ApproveToActive: Dist{N: 50, P50: 9, P99: 30, Max: 31}, LifecyclesPerSec: 25, ExpiryLag: Dist{N: 300, P50: 100, P99: 900, Max: 950},
			Work: &Work{Lifecycles: 300, WorkflowTasks: 1200, Activities: 600, HistoryEvents: 7740, VisibilityWrites: 600,
				Store: &StoreWrites{Main: 4800, Visibility: 750}}},
		RSSMB: &rss,
	}
}

// The --json line has exactly the contract's shape.
func TestResultJSONLine(t *testing.T) {
	got, err := json.Marshal(sampleResult())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"requests":300,"concurrency":20,"approve_to_active_ms":{"p50":18.5,"p99":60.25},"submit_per_sec":120.5,"lifecycles_per_sec":20,` +
		`"expiry_lag_ms":{"p50":300,"p99":1800,"max":2100},"baseline":{"approve_to_active_ms":9,"lifecycles_per_sec":25,"expiry_lag_ms":{"p50":100,"p99":900,"max":950}},` +
		`"overhead_ratio":1.25,"rss_mb":412.5,"work":{` +
		`"jitflow":{"workflow_tasks":9,"activities":4,"local_activities":1,"history_events":93,"visibility_writes":16.6,"persistence_writes":38,"visibility_persistence_writes":8},` +
		`"baseline":{"workflow_tasks":4,"activities":2,"local_activities":0,"history_events":25.8,"visibility_writes":2,"persistence_writes":18.5,"visibility_persistence_writes":2.5}}}`
	if string(got) != want {
		t.Errorf("JSON line\n got %s\nwant %s", got, want)
	}
}

// What was not measured is null, not a made-up zero.
func TestResultJSONLineWithoutBaselineOrRSS(t *testing.T) {
	r := sampleResult()
	r.Baseline, r.RSSMB, r.Work.Store = nil, nil, nil
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	nothing := `{"workflow_tasks":null,"activities":null,"local_activities":null,"history_events":null,"visibility_writes":null,"persistence_writes":null,"visibility_persistence_writes":null}`
	for _, want := range []string{
		`"baseline":{"approve_to_active_ms":null,"lifecycles_per_sec":null,"expiry_lag_ms":null}`,
		`"overhead_ratio":null`, `"rss_mb":null`,
		`"jitflow":{"workflow_tasks":9,"activities":4,"local_activities":1,"history_events":93,"visibility_writes":16.6,"persistence_writes":null,"visibility_persistence_writes":null}`,
		`"baseline":` + nothing + `}`,
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
		"workflow tasks per lifecycle", "jitflow 9.00  baseline 4.00  ratio 2.25",
		"history events per lifecycle", "jitflow 93.00  baseline 25.80  ratio 3.60",
		"persistence writes per lifecycle (all stores)", "jitflow 38.00  baseline 18.50  ratio 2.05",
		"persistence writes per lifecycle, visibility store", "jitflow 8.00  baseline 2.50  ratio 3.20",
		"note: baseline ran on the same server",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "local activities per lifecycle") && (!strings.HasPrefix(line, "work ") || strings.Contains(line, "ratio")) {
			t.Errorf("local activities: %q, want a work row without a ratio to the baseline's none", line)
		}
	}
	r.Work.Store, r.Baseline = nil, nil
	b.Reset()
	r.WriteTable(&b)
	if want := "jitflow not measured  baseline -"; !strings.Contains(b.String(), want) {
		t.Errorf("table lacks %q for store writes not measured and no baseline:\n%s", want, b.String())
	}
	r = sampleResult()
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
