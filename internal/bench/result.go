package bench

import (
	"encoding/json"
	"time"
)

// Result is what one lifecycle run measured.
type Result struct {
	Requests    int
	Concurrency int
	Grant       time.Duration
	// ExpireTogether says the grants were made to end at once.
	ExpireTogether bool
	// ApproveToActive is from the approve call to GET showing active.
	ApproveToActive  Dist
	SubmitPerSec     float64
	LifecyclesPerSec float64
	// ExpiryLag is from each grant's expires_at to the arrival of
	// jitflow's removal request at the Graph emulator.
	ExpiryLag Dist
	// ExpirySpread is from the first grant's end to the last one's: how
	// close together the grants ended.
	ExpirySpread time.Duration
	// Work is the Temporal work of the throughput phase's lifecycles; nil
	// without a client of the system's Temporal server.
	Work *Work
	// Baseline is the bare workflow's numbers; nil when it did not run.
	Baseline *Baseline
	// RSSMB is the process's peak resident memory; nil when the system
	// runs in another process.
	RSSMB *float64
	// Throttled counts 429 answers (each retried after Retry-After), and
	// Unavailable 503 answers to reads (retried likewise).
	Throttled   int64
	Unavailable int64
	Load        Load
	// Notes say what was skipped and why.
	Notes []string
}

// Baseline is a bare Temporal workflow of the request's shape, measured
// on the same server in the same run: the floor jitflow is compared with.
type Baseline struct {
	// ApproveToActive is from the update call until it returns, which the
	// workflow allows once the first activity has completed.
	ApproveToActive  Dist
	LifecyclesPerSec float64
	// ExpiryLag is from the timer's end to the start of the second activity.
	ExpiryLag Dist
	// Work is the Temporal work of its lifecycles phase.
	Work *Work
}

// Load is the machine's 1-minute load average before and after the run.
type Load struct{ Before, After float64 }

// OverheadRatio is the baseline's lifecycles per second over jitflow's;
// nil without a baseline.
func (r *Result) OverheadRatio() *float64 {
	if r.Baseline == nil || r.LifecyclesPerSec == 0 {
		return nil
	}
	return ptr(round(r.Baseline.LifecyclesPerSec / r.LifecyclesPerSec))
}

type p50p99 struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

type p50p99Max struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// resultLine is the --json line; its shape is part of jitflow's contract.
type resultLine struct {
	Requests         int          `json:"requests"`
	Concurrency      int          `json:"concurrency"`
	ApproveToActive  p50p99       `json:"approve_to_active_ms"`
	SubmitPerSec     float64      `json:"submit_per_sec"`
	LifecyclesPerSec float64      `json:"lifecycles_per_sec"`
	ExpiryLag        p50p99Max    `json:"expiry_lag_ms"`
	Baseline         baselineLine `json:"baseline"`
	OverheadRatio    *float64     `json:"overhead_ratio"`
	RSSMB            *float64     `json:"rss_mb"`
	Work             struct {
		Jitflow  workLine `json:"jitflow"`
		Baseline workLine `json:"baseline"`
	} `json:"work"`
}

// baselineLine holds p50 values, but the expiry lag's p50, p99 and max,
// which jitflow's removal lag is held against; the table shows the rest.
type baselineLine struct {
	ApproveToActive  *float64   `json:"approve_to_active_ms"`
	LifecyclesPerSec *float64   `json:"lifecycles_per_sec"`
	ExpiryLag        *p50p99Max `json:"expiry_lag_ms"`
}

// workLine is the work per lifecycle; null for what was not measured.
type workLine struct {
	WorkflowTasks               *float64 `json:"workflow_tasks"`
	Activities                  *float64 `json:"activities"`
	LocalActivities             *float64 `json:"local_activities"`
	HistoryEvents               *float64 `json:"history_events"`
	VisibilityWrites            *float64 `json:"visibility_writes"`
	PersistenceWrites           *float64 `json:"persistence_writes"`
	VisibilityPersistenceWrites *float64 `json:"visibility_persistence_writes"`
}

func newWorkLine(w *Work) workLine {
	if w == nil {
		return workLine{}
	}
	per := func(v int64) *float64 { return ptr(round(w.PerLifecycle(v))) }
	l := workLine{
		WorkflowTasks:    per(w.WorkflowTasks),
		Activities:       per(w.Activities),
		LocalActivities:  per(w.LocalActivities),
		HistoryEvents:    per(w.HistoryEvents),
		VisibilityWrites: per(w.VisibilityWrites),
	}
	if s := w.Store; s != nil {
		l.PersistenceWrites, l.VisibilityPersistenceWrites = per(s.Main+s.Visibility), per(s.Visibility)
	}
	return l
}

// MarshalJSON writes the --json line: numbers, and null for what was not
// measured (the baseline and RSS against a remote stack).
func (r *Result) MarshalJSON() ([]byte, error) {
	line := resultLine{
		Requests:         r.Requests,
		Concurrency:      r.Concurrency,
		ApproveToActive:  p50p99{r.ApproveToActive.P50, r.ApproveToActive.P99},
		SubmitPerSec:     r.SubmitPerSec,
		LifecyclesPerSec: r.LifecyclesPerSec,
		ExpiryLag:        p50p99Max{r.ExpiryLag.P50, r.ExpiryLag.P99, r.ExpiryLag.Max},
		OverheadRatio:    r.OverheadRatio(),
		RSSMB:            r.RSSMB,
	}
	line.Work.Jitflow = newWorkLine(r.Work)
	if b := r.Baseline; b != nil {
		line.Baseline = baselineLine{ptr(b.ApproveToActive.P50), ptr(b.LifecyclesPerSec), &p50p99Max{b.ExpiryLag.P50, b.ExpiryLag.P99, b.ExpiryLag.Max}}
		line.Work.Baseline = newWorkLine(b.Work)
	}
	return json.Marshal(line)
}

// PendingResult is what a --pending run measured.
type PendingResult struct {
	Pending      int
	Concurrency  int
	SubmitPerSec float64
	// RSSMB is the peak resident memory, DBMB the size of Temporal's
	// database files; nil when not measurable from here.
	RSSMB *float64
	DBMB  *float64
	// Runtime says what the memory holds when the system runs in this
	// process; nil otherwise.
	Runtime *RuntimeStats
	// ListApprover and ListOperator time GET
	// /api/v1/requests?status=pending_approval as each.
	ListApprover Dist
	ListOperator Dist
	Throttled    int64
	Unavailable  int64
	Load         Load
	Notes        []string
}

type pendingLine struct {
	Pending      int      `json:"pending"`
	Concurrency  int      `json:"concurrency"`
	SubmitPerSec float64  `json:"submit_per_sec"`
	RSSMB        *float64 `json:"rss_mb"`
	DBMB         *float64 `json:"db_mb"`
	ListMS       struct {
		Approver p50p99 `json:"approver"`
		Operator p50p99 `json:"operator"`
	} `json:"list_ms"`
}

// MarshalJSON writes the --pending --json line.
func (r *PendingResult) MarshalJSON() ([]byte, error) {
	line := pendingLine{Pending: r.Pending, Concurrency: r.Concurrency, SubmitPerSec: r.SubmitPerSec, RSSMB: r.RSSMB, DBMB: r.DBMB}
	line.ListMS.Approver = p50p99{r.ListApprover.P50, r.ListApprover.P99}
	line.ListMS.Operator = p50p99{r.ListOperator.P50, r.ListOperator.P99}
	return json.Marshal(line)
}

func ptr[T any](v T) *T { return &v }
