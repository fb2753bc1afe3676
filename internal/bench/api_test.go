package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// fails answers the first n calls with status, then 200 {}.
func fails(t *testing.T, status int, n int32) (*api, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(status)
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	return newAPI(srv.URL, 1), &calls
}

func TestAPIRetries(t *testing.T) {
	tests := []struct {
		name                   string
		method                 string
		status                 int
		failures               int32
		wantErrStatus          int // 0: the call succeeds
		wantCalls              int32
		throttled, unavailable int64
	}{
		{"429 on a write is retried", http.MethodPost, http.StatusTooManyRequests, 3, 0, 4, 3, 0},
		{"503 on a read is retried", http.MethodGet, http.StatusServiceUnavailable, 2, 0, 3, 0, 2},
		{"503 on a write is not", http.MethodPost, http.StatusServiceUnavailable, 1, http.StatusServiceUnavailable, 1, 0, 0},
		{"503s on a read give up", http.MethodGet, http.StatusServiceUnavailable, 100, http.StatusServiceUnavailable, maxUnavailable + 1, 0, maxUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, calls := fails(t, tt.status, tt.failures)
			err := a.do(context.Background(), tt.method, "/x", "", "", http.StatusOK, nil)
			var se *statusError
			switch {
			case tt.wantErrStatus == 0 && err != nil:
				t.Fatalf("do: %v", err)
			case tt.wantErrStatus != 0 && (!errors.As(err, &se) || se.status != tt.wantErrStatus):
				t.Fatalf("do: %v, want status %d", err, tt.wantErrStatus)
			}
			if calls.Load() != tt.wantCalls || a.throttled.Load() != tt.throttled || a.unavailable.Load() != tt.unavailable {
				t.Errorf("calls %d, throttled %d, unavailable %d; want %d, %d, %d",
					calls.Load(), a.throttled.Load(), a.unavailable.Load(), tt.wantCalls, tt.throttled, tt.unavailable)
			}
		})
	}
}

// A request shown as submitted (its workflow slow to answer) carries the
// status visibility holds but none of the grant's times: the bench asks
// again rather than take an ended status for a grant never activated.
func TestAwaitActivatedAsksAgainWhenShownAsSubmitted(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Write([]byte(`{"id":"req-1","status":"expired","view":"submitted"}`))
			return
		}
		w.Write([]byte(`{"id":"req-1","status":"expired","activated_at":"2026-12-07T10:00:00Z","expires_at":"2026-12-07T10:00:05Z"}`))
	}))
	t.Cleanup(srv.Close)
	req, err := awaitActivated(context.Background(), newAPI(srv.URL, 1), "", "req-1")
	if err != nil || req.ActivatedAt == nil || calls.Load() != 2 {
		t.Fatalf("awaitActivated = %+v, %v after %d calls; want the workflow's view on the second", req, err, calls.Load())
	}
}
