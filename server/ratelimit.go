package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit bounds the calls one principal may make: PerSecond on average,
// with bursts of up to Burst.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultRateLimit suits people and scripts; a dev stack or benchmark
// raises it.
var DefaultRateLimit = RateLimit{PerSecond: 10, Burst: 40}

// limiterIdle is how long an unused principal's bucket is kept; a full
// bucket after that long is the same as a new one.
const limiterIdle = 10 * time.Minute

// limiters holds one token bucket per principal (by object id).
type limiters struct {
	cfg   RateLimit
	now   func() time.Time
	mu    sync.Mutex
	byID  map[string]*limiterEntry
	swept time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiters(cfg RateLimit, now func() time.Time) *limiters {
	if cfg.PerSecond <= 0 || cfg.Burst <= 0 {
		cfg = DefaultRateLimit
	}
	return &limiters{cfg: cfg, now: now, byID: map[string]*limiterEntry{}}
}

// allow takes one call from id's bucket, or answers 429 with how long to
// wait.
func (l *limiters) allow(id string) error {
	now := l.now()
	l.mu.Lock()
	e, ok := l.byID[id]
	if !ok {
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(l.cfg.PerSecond), l.cfg.Burst)}
		l.byID[id] = e
	}
	e.used = now
	l.sweep(now)
	r := e.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay > 0 {
		r.CancelAt(now) // a refused call must not use up the next one
	}
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	secs := int(math.Ceil(delay.Seconds()))
	return &apiError{status: http.StatusTooManyRequests, header: http.Header{"Retry-After": {strconv.Itoa(secs)}},
		detail: fmt.Sprintf("too many calls: at most %g per second (bursts of %d) per user; retry in %d s", l.cfg.PerSecond, l.cfg.Burst, secs)}
}

// sweep forgets idle principals, at most once per idle period.
func (l *limiters) sweep(now time.Time) {
	if now.Sub(l.swept) < limiterIdle {
		return
	}
	l.swept = now
	for id, e := range l.byID {
		if now.Sub(e.used) > limiterIdle {
			delete(l.byID, id)
		}
	}
}
