package graph

import (
	"context"
	"net/http"
	"sync"
)

// requestIDs collects Graph's request-id of every answer to the calls made
// with one context, retries included, so history can name them to
// Microsoft support.
type requestIDs struct {
	mu  sync.Mutex
	ids []string
}

type requestIDsKey struct{}

// withRequestIDs returns a context whose Graph calls are recorded in ids.
func withRequestIDs(ctx context.Context) (context.Context, *requestIDs) {
	ids := &requestIDs{}
	return context.WithValue(ctx, requestIDsKey{}, ids), ids
}

func (r *requestIDs) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
}

// list returns the ids so far, oldest first; nil when there are none.
func (r *requestIDs) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) == 0 {
		return nil
	}
	return append([]string(nil), r.ids...)
}

// requestIDTransport records the request-id header of each answer (or the
// client-request-id the SDK sent, when Graph's answer has none) in the
// context's requestIDs.
type requestIDTransport struct{ next http.RoundTripper }

func (t requestIDTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	ids, _ := req.Context().Value(requestIDsKey{}).(*requestIDs)
	if ids == nil {
		return resp, err
	}
	id := req.Header.Get("client-request-id")
	if resp != nil && resp.Header.Get("request-id") != "" {
		id = resp.Header.Get("request-id")
	}
	if id != "" {
		ids.add(id)
	}
	return resp, err
}
