package directory

import (
	"context"
	"sync"
	"time"
)

// cache keeps answers for a while and lets concurrent lookups of one key
// share one call: a stage asking a group of fifty approvers, or fifty
// requests arriving at once, read Graph once.
type cache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	flights map[string]*flight
}

type entry struct {
	val any
	at  time.Time // when the call that got it started
}

// flight is one call under way; done closes when val and err are set.
type flight struct {
	done    chan struct{}
	val     any
	err     error
	waiting int // lookups waiting for it, the first included
}

func newCache(ttl time.Duration, now func() time.Time) cache {
	return cache{ttl: ttl, now: now, entries: map[string]entry{}, flights: map[string]*flight{}}
}

// lookup answers key from the cache, from a call under way, or by read.
// The call runs apart from the caller's context (within its deadline, at
// most requestTimeout), so a caller that gives up does not fail the others
// waiting for the same answer; the caller still stops waiting when its
// context ends. Only a successful answer is kept.
func lookup[T any](ctx context.Context, c *cache, key string, read func(context.Context) (T, error)) (T, error) {
	start := c.now()
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && start.Sub(e.at) < c.ttl {
		c.mu.Unlock()
		return e.val.(T), nil
	}
	f, ok := c.flights[key]
	if !ok {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		go c.run(ctx, key, f, start, func(ctx context.Context) (any, error) { return read(ctx) })
	}
	f.waiting++
	c.mu.Unlock()

	var zero T
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-f.done:
		if f.err != nil {
			return zero, f.err
		}
		return f.val.(T), nil
	}
}

// run makes the call of flight f and keeps a successful answer, dropping
// the entries that have expired.
func (c *cache) run(ctx context.Context, key string, f *flight, start time.Time, read func(context.Context) (any, error)) {
	deadline := time.Now().Add(requestTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	f.val, f.err = read(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, key)
	if f.err == nil {
		now := c.now()
		for k, e := range c.entries {
			if now.Sub(e.at) >= c.ttl {
				delete(c.entries, k)
			}
		}
		c.entries[key] = entry{val: f.val, at: start}
	}
	close(f.done)
}
