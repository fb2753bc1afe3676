package client

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// WaitOptions pace Wait's polling.
type WaitOptions struct {
	// Until says when to stop; nil stops once the status is Settled.
	Until func(Request) bool
	// First and Max bound the pause between polls, which doubles from
	// First up to Max; zero means 250ms and 5s.
	First, Max time.Duration
	// Polled, when set, sees every reading (to show progress).
	Polled func(Request)
}

// Wait polls a request until opts.Until holds, and returns it. Pauses grow
// from First to Max; a 429 or an API that is briefly unavailable makes it
// wait (as long as Retry-After asks, when it does) instead of failing.
// It ends with ctx.
func (c *Client) Wait(ctx context.Context, id string, opts WaitOptions) (Request, error) {
	until := opts.Until
	if until == nil {
		until = func(r Request) bool { return r.Status.Settled() }
	}
	pause, maxPause := opts.First, opts.Max
	if pause <= 0 {
		pause = 250 * time.Millisecond
	}
	if maxPause <= 0 {
		maxPause = 5 * time.Second
	}
	for {
		r, err := c.Get(ctx, id)
		next := pause
		switch {
		case err == nil:
			if opts.Polled != nil {
				opts.Polled(r)
			}
			if until(r) {
				return r, nil
			}
		case transient(err):
			var apiErr *Error
			if errors.As(err, &apiErr) && apiErr.RetryAfter > next {
				next = apiErr.RetryAfter
			}
		default:
			return Request{}, err
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return Request{}, ctx.Err()
		case <-t.C:
		}
		pause = min(pause*2, maxPause)
	}
}

// transient errors are worth another try later.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
		return true
	}
	return errors.Is(err, ErrUnavailable)
}
