package server

import (
	"slices"
	"sync"
	"time"

	"github.com/jitflow/jitflow/workflows"
)

// recentStarts remembers the requests this server started in the last
// minute. Visibility, which listings read, learns of a new workflow a moment
// after its start (longer on a busy server): without this, a requester who
// lists right after asking would not see the request they just made. Reads
// take a request's submitted view from here before reading its history.
type recentStarts struct {
	mu     sync.Mutex
	starts []recentStart
	now    func() time.Time
}

type recentStart struct {
	sum         Summary
	approverIDs []string
	submitted   workflows.Request
}

// recentWindow is far longer than visibility ever lags.
const recentWindow = time.Minute

func (r *recentStarts) add(in workflows.AccessRequestInput) {
	r.mu.Lock()
	defer r.mu.Unlock()
	view := workflows.NewRequest(in)
	r.starts = append(r.fresh(), recentStart{
		sum: Summary{ID: in.RequestID, Status: view.Status, Role: in.Target.Role,
			Requester: in.Requester.UPN, RequesterID: in.Requester.ID, CreatedAt: in.CreatedAt},
		approverIDs: in.ApproverIDs(),
		submitted:   view,
	})
}

// request is the view of recent start id as submitted. Newest first: a
// read is most often of a request just made.
func (r *recentStarts) request(id string) (workflows.Request, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = r.fresh()
	for i := len(r.starts) - 1; i >= 0; i-- {
		if r.starts[i].sum.ID == id {
			return copyView(r.starts[i].submitted), true
		}
	}
	return workflows.Request{}, false
}

// copyView copies the slices a caller may change, so the kept view stays
// as submitted.
func copyView(req workflows.Request) workflows.Request {
	req.Approvers = slices.Clone(req.Approvers)
	req.Decisions = slices.Clone(req.Decisions)
	return req
}

// matching lists, newest first, the recent starts that f selects and me may
// see and that visibility left out of listed, a first page of at most
// f.limit. A full page ends with its oldest request, so a start older than
// that belongs to a later page. Their status is left to the caller: it may
// have moved on since the start.
func (r *recentStarts) matching(f listFilter, me *identity, listed []Summary) []Summary {
	var oldest time.Time
	if len(listed) >= f.limit && len(listed) > 0 {
		oldest = listed[len(listed)-1].CreatedAt
	}
	r.mu.Lock()
	r.starts = r.fresh()
	starts := slices.Clone(r.starts)
	r.mu.Unlock()
	var out []Summary
	for i := len(starts) - 1; i >= 0 && len(out) < f.limit; i-- {
		st := starts[i]
		if st.sum.CreatedAt.Before(oldest) || !st.selected(f, me) ||
			slices.ContainsFunc(listed, func(s Summary) bool { return s.ID == st.sum.ID }) {
			continue
		}
		out = append(out, st.sum)
	}
	return out
}

func (st recentStart) selected(f listFilter, me *identity) bool {
	s := st.sum
	switch {
	case f.requesterID != "" && s.RequesterID != f.requesterID,
		f.role != "" && s.Role != f.role,
		!f.createdAfter.IsZero() && s.CreatedAt.Before(f.createdAfter),
		!f.createdBefore.IsZero() && !s.CreatedAt.Before(f.createdBefore):
		return false
	}
	return me.operator || me.auditor || s.RequesterID == me.person.ID || slices.Contains(st.approverIDs, me.person.ID)
}

// fresh drops the starts older than the window. Callers hold mu.
func (r *recentStarts) fresh() []recentStart {
	cutoff := r.now().Add(-recentWindow)
	i := 0
	for i < len(r.starts) && !r.starts[i].sum.CreatedAt.After(cutoff) {
		i++
	}
	return r.starts[i:]
}
