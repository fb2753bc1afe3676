package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	// The API answers: pending, starting (503), rate limited, activating, active.
	steps := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { io.WriteString(w, `{"id":"req-1","status":"pending_approval"}`) },
		func(w http.ResponseWriter) { writeProblem(w, 503, "starting", "") },
		func(w http.ResponseWriter) { writeProblem(w, 429, "slow down", "") },
		func(w http.ResponseWriter) { io.WriteString(w, `{"id":"req-1","status":"activating"}`) },
		func(w http.ResponseWriter) { io.WriteString(w, `{"id":"req-1","status":"active"}`) },
	}
	n := 0
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n >= len(steps) {
			t.Fatal("polled after the request settled")
		}
		steps[n](w)
		n++
	}, StaticToken("tok"))
	var seen []Status
	r, err := c.Wait(context.Background(), "req-1", WaitOptions{
		First: time.Millisecond, Max: 2 * time.Millisecond,
		Polled: func(r Request) { seen = append(seen, r.Status) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusActive || len(seen) != 3 {
		t.Errorf("ended %s after readings %v", r.Status, seen)
	}
}

func TestWaitStops(t *testing.T) {
	t.Run("on a lasting error", func(t *testing.T) {
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { writeProblem(w, 403, "not yours", "") }, StaticToken("tok"))
		_, err := c.Wait(context.Background(), "req-1", WaitOptions{First: time.Millisecond})
		var e *Error
		if !errors.As(err, &e) || e.Status != 403 {
			t.Errorf("err = %v, want the 403", err)
		}
	})
	t.Run("with its context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			cancel()
			io.WriteString(w, `{"id":"req-1","status":"pending_approval"}`)
		}, StaticToken("tok"))
		if _, err := c.Wait(ctx, "req-1", WaitOptions{First: time.Hour}); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("when Until holds", func(t *testing.T) {
		c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"id":"req-1","status":"pending_approval","tier":2}`)
		}, StaticToken("tok"))
		r, err := c.Wait(context.Background(), "req-1", WaitOptions{Until: func(r Request) bool { return r.Tier == 2 }})
		if err != nil || r.Tier != 2 {
			t.Errorf("Wait = %+v, %v", r, err)
		}
	})
}
