package devstack

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// BenchmarkApproveToActive measures, one request at a time on the dev
// stack, the time from the approver's API call to the API reporting the
// request active (in the approval's answer, or by polling) (the role assigned in the Graph emulator). Run it with
//
//	go test -run '^$' -bench ApproveToActive -benchtime 50x ./internal/devstack/
func BenchmarkApproveToActive(b *testing.B) {
	st := startStack(b, b.TempDir(), fastPolicy(b))
	defer st.Stop()
	measureApproveToActive(b, st, func(int) string { return "reader" })
}

// measureApproveToActive creates a request for role(i), approves it, polls
// until it is active and revokes it, b.N times, and reports the latency
// from the approve call to active.
func measureApproveToActive(b *testing.B, st *Stack, role func(i int) string) {
	api := apiClient{t: b, base: st.APIURL}
	alice, bob := api.token("alice"), api.token("bob")
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		var req workflows.Request
		body := fmt.Sprintf(`{"role":%q,"duration":"1h","justification":"benchmark"}`, role(i))
		if status := api.do("POST", "/api/v1/requests", alice, body, &req); status != http.StatusCreated {
			b.Fatalf("create: status %d", status)
		}
		start := time.Now()
		// The approval answers active when the activation was quick;
		// otherwise poll, as a client would.
		if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", bob, `{}`, &req); status != http.StatusOK {
			b.Fatalf("approve: status %d", status)
		}
		for req.Status != apitypes.StatusActive {
			api.do("GET", "/api/v1/requests/"+req.ID, alice, "", &req)
			if req.Status.Terminal() {
				b.Fatalf("request ended %s", req.Status)
			}
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if status := api.do("POST", "/api/v1/requests/"+req.ID+"/revoke", alice, `{}`, nil); status != http.StatusOK {
			b.Fatalf("revoke: status %d", status)
		}
		b.StartTimer()
	}
	slices.Sort(lat)
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkApproveToActiveNewTarget is BenchmarkApproveToActive where every
// request is the first for its target (the reader role at a new
// administrative unit each time), so each approval also starts the
// target's assignment workflow: the cost a first request pays.
//
//	go test -run '^$' -bench ApproveToActiveNewTarget -benchtime 50x ./internal/devstack/
func BenchmarkApproveToActiveNewTarget(b *testing.B) {
	pol := fastPolicy(b)
	reader, _ := pol.Role("reader")
	base := *reader
	for i := range b.N {
		r := base
		r.Name = fmt.Sprintf("reader-au%d", i)
		r.DirectoryScopeID = fmt.Sprintf("/administrativeUnits/aaaaaaaa-0000-4000-8000-%012d", i)
		pol.Roles = append(pol.Roles, r)
	}
	st := startStack(b, b.TempDir(), pol)
	defer st.Stop()
	measureApproveToActive(b, st, func(i int) string { return fmt.Sprintf("reader-au%d", i) })
}
