package server

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
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

// limiters holds one token bucket per principal (by object id) or per
// client address.
type limiters struct {
	cfg   RateLimit
	per   string // "user" or "client address", for messages
	now   func() time.Time
	mu    sync.Mutex
	byID  map[string]*limiterEntry
	swept time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiters(cfg RateLimit, per string, now func() time.Time) *limiters {
	if cfg.PerSecond <= 0 || cfg.Burst <= 0 {
		cfg = DefaultRateLimit
	}
	return &limiters{cfg: cfg, per: per, now: now, byID: map[string]*limiterEntry{}}
}

// allow takes one call from id's bucket, or answers 429 with how long to
// wait.
func (l *limiters) allow(id string) *apiError {
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
		detail: fmt.Sprintf("too many calls: at most %g per second (bursts of %d) per %s; retry in %d s", l.cfg.PerSecond, l.cfg.Burst, l.per, secs)}
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

// clientAddress is who a call without a verified identity is counted
// against: the peer's address, or with TrustedProxies the first address
// X-Forwarded-For names that is not one of them (Echo's IPExtractor, set
// in New). IPv6 callers are counted by their /64, which one host can
// fill with addresses.
func clientAddress(c echo.Context) string {
	ip, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return c.RealIP()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// ParseTrustedProxies reads a comma-separated list of proxy addresses
// and CIDR ranges ("10.0.0.0/8, 2001:db8::1") for Config.TrustedProxies.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a CIDR range such as 10.0.0.0/8 or fd00::/8", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// ipExtractor reads the client address from the connection, or from
// X-Forwarded-For when the peer is one of trusted. Echo's default would
// believe any client's X-Forwarded-For, and its XFF extractor trusts
// every private, loopback and link-local peer unless told not to.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = p.Masked()
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// limitAddress bounds the loads of the approval pages, which anyone may
// call, per client address, before they cost a token check and a Temporal
// call.
func (s *Server) limitAddress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ae := s.addrLimits.allow(clientAddress(c))
		if ae == nil {
			return next(c)
		}
		for k, vs := range ae.header {
			c.Response().Header()[k] = vs
		}
		return s.render(c, failPage(ae.status, "Too many requests", "This address loaded approval pages too often: "+ae.detail+"."))
	}
}

// unauthenticated answers a call without a valid token: counted against
// its client address, so guessing tokens or polling without one is bounded
// like any caller.
func (s *Server) unauthenticated(c echo.Context, refusal error) error {
	if err := s.addrLimits.allow(clientAddress(c)); err != nil {
		return err
	}
	return refusal
}
