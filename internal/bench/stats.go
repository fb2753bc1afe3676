// Package bench measures a running jitflow system through its HTTP API:
// approve-to-active latency, lifecycle throughput, the lag from a grant's
// end to jitflow's removal of the role, the Temporal work per lifecycle, a
// bare Temporal workflow of the same shape as the floor, and memory and list
// latency with many pending requests. `jitflow bench` wires it to an embedded stack or to a running one.
package bench

import (
	"math"
	"slices"
	"time"
)

// Dist summarises measured durations in milliseconds.
type Dist struct {
	N   int
	P50 float64
	P99 float64
	Max float64
}

// Summarize returns the nearest-rank percentiles of ds (ds is not
// changed). An empty input gives the zero Dist.
func Summarize(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Dist{N: len(s), P50: ms(rank(s, 50)), P99: ms(rank(s, 99)), Max: ms(s[len(s)-1])}
}

// rank is the nearest-rank percentile p of sorted s: the smallest value
// with at least p% of the values at or below it.
func rank(s []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

// round keeps two decimals, enough for milliseconds and rates.
func round(x float64) float64 { return math.Round(x*100) / 100 }

// perSecond is n events over d, 0 when d is not positive.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return round(float64(n) / d.Seconds())
}
