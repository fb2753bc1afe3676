package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// The targets jitflow is held to on a 2-core machine.
const (
	TargetApproveP50MS  = 25
	TargetApproveP99MS  = 100
	TargetOverheadRatio = 1.33
	TargetExpiryP99MS   = 2500
	TargetPendingRSSMB  = 600
	TargetPendingCount  = 10000
)

// row is one line of the table; target is "" where there is none.
type row struct{ phase, measure, value, target string }

// target prints a limit and whether the value meets it.
func target(value, limit float64, unit string) string {
	verdict := "met"
	if value > limit {
		verdict = "MISSED"
	}
	return fmt.Sprintf("<= %g%s (%s)", limit, unit, verdict)
}

func msText(v float64) string { return fmt.Sprintf("%.2f ms", v) }

// WriteTable prints the result as a table with the targets beside the
// numbers, then the notes.
func (r *Result) WriteTable(w io.Writer) error {
	a, e := r.ApproveToActive, r.ExpiryLag
	rows := []row{
		{"latency", fmt.Sprintf("approve -> active p50 (%d requests, one at a time)", a.N), msText(a.P50), target(a.P50, TargetApproveP50MS, " ms")},
		{"latency", "approve -> active p99", msText(a.P99), target(a.P99, TargetApproveP99MS, " ms")},
		{"latency", "approve -> active max", msText(a.Max), ""},
		{"throughput", fmt.Sprintf("submit (%d requests, concurrency %d)", r.Requests, r.Concurrency), fmt.Sprintf("%.2f /s", r.SubmitPerSec), ""},
		{"throughput", r.lifecyclesMeasure(), fmt.Sprintf("%.2f /s", r.LifecyclesPerSec), ""},
		{"expiry", fmt.Sprintf("grants ended within (%d grants)", e.N), r.ExpirySpread.Round(1e6).String(), ""},
		{"expiry", "expires_at -> removal p50", msText(e.P50), ""},
		{"expiry", "expires_at -> removal p99", msText(e.P99), target(e.P99, TargetExpiryP99MS, " ms") + " for 1,000 grants ending together"},
		{"expiry", "expires_at -> removal max", msText(e.Max), ""},
	}
	if b := r.Baseline; b != nil {
		rows = append(rows,
			row{"baseline", "approve update -> first activity done p50", msText(b.ApproveToActive.P50), ""},
			row{"baseline", "approve update -> first activity done p99", msText(b.ApproveToActive.P99), ""},
			row{"baseline", "lifecycles", fmt.Sprintf("%.2f /s", b.LifecyclesPerSec), ""},
			row{"baseline", "timer end -> second activity p50", msText(b.ExpiryLag.P50), ""},
			row{"baseline", "timer end -> second activity p99", msText(b.ExpiryLag.P99), ""},
			row{"baseline", "timer end -> second activity max", msText(b.ExpiryLag.Max), ""},
		)
	}
	var baseWork *Work
	if r.Baseline != nil {
		baseWork = r.Baseline.Work
	}
	rows = append(rows, workRows(r.Work, baseWork)...)
	if o := r.OverheadRatio(); o != nil {
		rows = append(rows, row{"overall", "overhead ratio (baseline lifecycles/s over jitflow's)", fmt.Sprintf("%.2f", *o), target(*o, TargetOverheadRatio, "")})
	}
	if r.RSSMB != nil {
		rows = append(rows, row{"process", "peak RSS (everything in this process)", fmt.Sprintf("%.1f MB", *r.RSSMB), ""})
	}
	rows = append(rows, apiRows(r.Throttled, r.Unavailable, r.Load)...)
	return writeRows(w, rows, r.Notes)
}

// workRows compare the Temporal work per lifecycle of jitflow and of the
// baseline, measure by measure.
func workRows(j, b *Work) []row {
	if j == nil && b == nil {
		return nil
	}
	type measure struct {
		name string
		of   func(*Work) (int64, bool)
	}
	history := func(f func(*Work) int64) func(*Work) (int64, bool) {
		return func(w *Work) (int64, bool) { return f(w), true }
	}
	store := func(f func(*StoreWrites) int64) func(*Work) (int64, bool) {
		return func(w *Work) (int64, bool) {
			if w.Store == nil {
				return 0, false
			}
			return f(w.Store), true
		}
	}
	measures := []measure{
		{"workflow tasks per lifecycle", history(func(w *Work) int64 { return w.WorkflowTasks })},
		{"activities per lifecycle", history(func(w *Work) int64 { return w.Activities })},
		{"local activities per lifecycle", history(func(w *Work) int64 { return w.LocalActivities })},
		{"history events per lifecycle", history(func(w *Work) int64 { return w.HistoryEvents })},
		{"visibility writes per lifecycle (start, upserts, memo, close)", history(func(w *Work) int64 { return w.VisibilityWrites })},
		{"persistence writes per lifecycle (all stores)", store(func(s *StoreWrites) int64 { return s.Main + s.Visibility })},
		{"persistence writes per lifecycle, visibility store", store(func(s *StoreWrites) int64 { return s.Visibility })},
	}
	per := func(w *Work, m measure) (float64, string) {
		if w == nil {
			return 0, "-"
		}
		v, ok := m.of(w)
		if !ok {
			return 0, "not measured"
		}
		f := round(w.PerLifecycle(v))
		return f, fmt.Sprintf("%.2f", f)
	}
	rows := make([]row, 0, len(measures))
	for _, m := range measures {
		jv, jt := per(j, m)
		bv, bt := per(b, m)
		value := fmt.Sprintf("jitflow %s  baseline %s", jt, bt)
		if j != nil && b != nil && jt != "not measured" && bt != "not measured" && bv > 0 {
			value += fmt.Sprintf("  ratio %.2f", jv/bv)
		}
		rows = append(rows, row{"work", m.name, value, ""})
	}
	return rows
}

// apiRows count the answers the bench retried and give the machine's load.
func apiRows(throttled, unavailable int64, load Load) []row {
	return []row{
		{"api", "429 answers (retried)", fmt.Sprint(throttled), ""},
		{"api", "503 answers to reads: no answer in time (retried)", fmt.Sprint(unavailable), ""},
		{"machine", "load average (1 min) before / after", fmt.Sprintf("%.2f / %.2f", load.Before, load.After), ""},
	}
}

func (r *Result) lifecyclesMeasure() string {
	if r.ExpireTogether {
		return fmt.Sprintf("lifecycles (pipelined, all grants ending %s after the first submit; first submit to last removal)", r.Grant)
	}
	return fmt.Sprintf("lifecycles (grant %s; first submit to last removal)", r.Grant)
}

// WriteTable prints the pending result as a table with its target.
func (r *PendingResult) WriteTable(w io.Writer) error {
	rows := []row{
		{"pending", fmt.Sprintf("submit (%d requests, concurrency %d)", r.Pending, r.Concurrency), fmt.Sprintf("%.2f /s", r.SubmitPerSec), ""},
	}
	if r.RSSMB != nil {
		rows = append(rows, row{"pending", "peak RSS (everything in this process)", fmt.Sprintf("%.1f MB", *r.RSSMB),
			target(*r.RSSMB, TargetPendingRSSMB, " MB") + fmt.Sprintf(" at %d pending", TargetPendingCount)})
	}
	if g := r.Runtime; g != nil {
		rows = append(rows,
			row{"pending", "go heap in use / goroutine stacks / held from the OS", fmt.Sprintf("%.1f / %.1f / %.1f MB", g.HeapInuseMB, g.StackInuseMB, g.SysMB), ""},
			row{"pending", "goroutines", fmt.Sprint(g.Goroutines), ""})
	}
	if r.DBMB != nil {
		rows = append(rows, row{"pending", "database (temporal.db, -wal, -shm)", fmt.Sprintf("%.1f MB", *r.DBMB), ""})
	}
	for _, l := range []struct {
		who string
		d   Dist
	}{{"approver", r.ListApprover}, {"operator", r.ListOperator}} {
		rows = append(rows,
			row{"list", fmt.Sprintf("pending_approval as %s p50 (%d calls)", l.who, l.d.N), msText(l.d.P50), ""},
			row{"list", fmt.Sprintf("pending_approval as %s p99", l.who), msText(l.d.P99), ""})
	}
	rows = append(rows, apiRows(r.Throttled, r.Unavailable, r.Load)...)
	return writeRows(w, rows, r.Notes)
}

func writeRows(w io.Writer, rows []row, notes []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHASE\tMEASURE\tVALUE\tTARGET")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.phase, r.measure, r.value, r.target)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note:", n); err != nil {
			return err
		}
	}
	return nil
}
