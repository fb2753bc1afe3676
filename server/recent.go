package server

import (
	"sync"
	"time"
)

// recentStarts remembers the requests this server started in the last
// minute, per (requester, role). Visibility, which the conflict check
// reads, learns of a new workflow a moment after its start: without this, a
// second submission right after the first would find nothing and start a
// second request for the same role.
type recentStarts struct {
	mu     sync.Mutex
	starts map[string][]recentStart
	now    func() time.Time
}

type recentStart struct {
	id string
	at time.Time
}

// recentWindow is far longer than visibility ever lags.
const recentWindow = time.Minute

func (r *recentStarts) add(key, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.starts == nil {
		r.starts = map[string][]recentStart{}
	}
	r.starts[key] = append(r.fresh(key), recentStart{id: id, at: r.now()})
}

// ids lists the requests started for key within the window.
func (r *recentStarts) ids(key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	fresh := r.fresh(key)
	if len(fresh) == 0 {
		delete(r.starts, key)
		return nil
	}
	r.starts[key] = fresh
	out := make([]string, len(fresh))
	for i, s := range fresh {
		out[i] = s.id
	}
	return out
}

// fresh drops the entries of key older than the window. Callers hold mu.
func (r *recentStarts) fresh(key string) []recentStart {
	cutoff := r.now().Add(-recentWindow)
	var out []recentStart
	for _, s := range r.starts[key] {
		if s.at.After(cutoff) {
			out = append(out, s)
		}
	}
	return out
}
