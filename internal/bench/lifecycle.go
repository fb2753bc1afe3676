package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/workflows"
)

// Polling intervals: the latency phase polls back to back to see active
// the moment it is; the many lifecycles at once wait for the emulator to
// hold their role, then poll gently until GET agrees, so that the polls do
// not crowd out the work they wait for.
const (
	throughputPoll = 20 * time.Millisecond
	removalPoll    = 100 * time.Millisecond
	endedPoll      = 100 * time.Millisecond
)

// removalWait is how long after the last grant's end the removals may
// take before the run gives up on them.
const removalWait = 5 * time.Minute

// tokens are the dev tokens of the configured users.
type tokens struct {
	requesters []string
	approver   string
	operator   string
}

func getTokens(ctx context.Context, a *api, cfg Config) (tokens, error) {
	var t tokens
	t.requesters = make([]string, len(cfg.Requesters))
	err := parallel(ctx, cfg.Concurrency, len(cfg.Requesters), func(ctx context.Context, i int) error {
		var err error
		t.requesters[i], err = a.token(ctx, cfg.Requesters[i])
		return err
	})
	if err != nil {
		return t, err
	}
	if t.approver, err = a.token(ctx, cfg.Approver); err != nil {
		return t, err
	}
	if cfg.Operator != "" {
		t.operator, err = a.token(ctx, cfg.Operator)
	}
	return t, err
}

// latency creates, approves and revokes one request at a time and times
// the approve call until the request is active: in the approval's answer,
// or else in GET.
func latency(ctx context.Context, a *api, cfg Config, tok tokens) (Dist, error) {
	lat := make([]time.Duration, 0, cfg.Latency)
	for range cfg.Latency {
		req, err := a.create(ctx, tok.requesters[0], cfg.Role, time.Hour)
		if err != nil {
			return Dist{}, fmt.Errorf("latency: %w", err)
		}
		// The approver reads the request first, as the approval page
		// does: the approval comes after the request's first workflow
		// task (which emails the approvers), not within it.
		if err := awaitWorkflowView(ctx, a, tok.approver, req.ID); err != nil {
			return Dist{}, fmt.Errorf("latency: %w", err)
		}
		start := time.Now()
		approved, err := a.action(ctx, tok.approver, req.ID, "approve")
		if err != nil {
			return Dist{}, fmt.Errorf("latency: %w", err)
		}
		// The approval answers active when activation was quick.
		if approved.Status != apitypes.StatusActive {
			if _, err := a.awaitStatus(ctx, tok.requesters[0], req.ID, apitypes.StatusActive, 0); err != nil {
				return Dist{}, fmt.Errorf("latency: %w", err)
			}
		}
		lat = append(lat, time.Since(start))
		if _, err := a.action(ctx, tok.requesters[0], req.ID, "revoke"); err != nil {
			return Dist{}, fmt.Errorf("latency: %w", err)
		}
	}
	return Summarize(lat), nil
}

// grant is one lifecycle of the throughput phase.
type grant struct {
	req        workflows.Request
	token      string
	approvedAt time.Time
	expiresAt  time.Time
	removedAt  time.Time
}

// key is the principal and target whose removal ends the grant.
func (g *grant) key() string {
	return removalKey(g.req.RequesterID, g.req.RoleDefinitionID, g.req.DirectoryScopeID, g.req.GroupID, g.req.AccessID)
}

func removalKey(principal, role, scope, group, access string) string {
	return principal + "|" + role + "|" + scope + "|" + group + "|" + access
}

// lifecycles is what the throughput phase measured.
type lifecycles struct {
	submitPerSec     float64
	lifecyclesPerSec float64
	expiryLag        Dist
	expirySpread     time.Duration
	grants           []grant
}

// throughput runs the lifecycles, then waits for jitflow to remove every
// role and for every request to end expired.
func throughput(ctx context.Context, a *api, tgt Target, cfg Config, tok tokens) (lifecycles, error) {
	gs := make([]grant, cfg.Requests)
	for i := range gs {
		gs[i].token = tok.requesters[i%len(tok.requesters)]
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	held := newAssignments(tgt.Instances)
	go held.run(watchCtx)
	var out lifecycles
	var err error
	first := time.Now()
	if cfg.ExpireTogether {
		out.submitPerSec, err = pipelined(ctx, a, cfg, tok, held, gs, first.Add(cfg.Grant))
	} else {
		out.submitPerSec, err = phased(ctx, a, cfg, tok, held, gs)
	}
	stopWatch()
	if err != nil {
		return lifecycles{}, fmt.Errorf("throughput: %w", err)
	}
	if cfg.AtPeak != nil {
		if err := cfg.AtPeak(); err != nil {
			return lifecycles{}, err
		}
	}
	cfg.progress("throughput: all active; waiting for the grants to end and the roles to be removed")
	if err := awaitRemovals(ctx, tgt, gs); err != nil {
		return lifecycles{}, fmt.Errorf("expiry: %w", err)
	}
	if err := awaitExpired(ctx, a, cfg, gs); err != nil {
		return lifecycles{}, fmt.Errorf("expiry: %w", err)
	}
	lags := make([]time.Duration, len(gs))
	last, ends := first, make([]time.Time, len(gs))
	for i := range gs {
		lags[i] = gs[i].removedAt.Sub(gs[i].expiresAt)
		ends[i] = gs[i].expiresAt
		if gs[i].removedAt.After(last) {
			last = gs[i].removedAt
		}
	}
	out.lifecyclesPerSec = perSecond(cfg.Requests, last.Sub(first))
	out.expiryLag = Summarize(lags)
	out.expirySpread = slices.MaxFunc(ends, time.Time.Compare).Sub(slices.MinFunc(ends, time.Time.Compare))
	out.grants = gs
	return out, nil
}

// phased submits every request, then approves each and waits until it is
// active, Concurrency at a time. It returns the submit rate.
func phased(ctx context.Context, a *api, cfg Config, tok tokens, held *assignments, gs []grant) (float64, error) {
	start := time.Now()
	err := parallel(ctx, cfg.Concurrency, len(gs), func(ctx context.Context, i int) error {
		var err error
		gs[i].req, err = a.create(ctx, gs[i].token, cfg.Role, cfg.Grant)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("submit: %w", err)
	}
	rate := perSecond(len(gs), time.Since(start))
	cfg.progress("throughput: %d submitted (%.1f/s); approving", len(gs), rate)
	err = parallel(ctx, cfg.Concurrency, len(gs), func(ctx context.Context, i int) error {
		return activate(ctx, a, tok, held, &gs[i])
	})
	if err != nil {
		return 0, fmt.Errorf("approve: %w", err)
	}
	return rate, nil
}

// pipelined runs submit, approve and active for each request in turn,
// Concurrency at a time; each request asks for the time left until end,
// in whole seconds (all the API takes), so that every grant ends within a
// second of end (give or take its activation). The
// rate it returns is of the whole pipeline, submits and approvals
// interleaved.
func pipelined(ctx context.Context, a *api, cfg Config, tok tokens, held *assignments, gs []grant, end time.Time) (float64, error) {
	start := time.Now()
	err := parallel(ctx, cfg.Concurrency, len(gs), func(ctx context.Context, i int) error {
		d := time.Until(end).Round(time.Second)
		if d < time.Second {
			return fmt.Errorf("--expire-together: request %d of %d would get less than 1s before the common end %s after the first submit: raise --grant", i+1, len(gs), cfg.Grant)
		}
		var err error
		if gs[i].req, err = a.create(ctx, gs[i].token, cfg.Role, d); err != nil {
			return err
		}
		return activate(ctx, a, tok, held, &gs[i])
	})
	if err != nil {
		return 0, err
	}
	return perSecond(len(gs), time.Since(start)), nil
}

// activate approves g's request, waits for its role in the emulator, and
// then for GET to show it activated.
func activate(ctx context.Context, a *api, tok tokens, held *assignments, g *grant) error {
	g.approvedAt = time.Now()
	if _, err := a.action(ctx, tok.approver, g.req.ID, "approve"); err != nil {
		return err
	}
	// The role shows in the emulator first; then GET must show active.
	if err := held.wait(ctx, g.key()); err != nil {
		return fmt.Errorf("request %s: %w", g.req.ID, err)
	}
	req, err := awaitActivated(ctx, a, g.token, g.req.ID)
	if err != nil {
		return err
	}
	g.req, g.expiresAt = req, *req.ExpiresAt
	return nil
}

// awaitActivated polls the request until GET shows it active, or already
// past active when a short grant ran out before the poll: either way with
// its expires_at. A request shown as submitted (its workflow did not
// answer in time) is asked again.
func awaitActivated(ctx context.Context, a *api, token, id string) (workflows.Request, error) {
	return a.poll(ctx, token, id, throughputPoll, func(req workflows.Request) (bool, error) {
		switch {
		case req.ActivatedAt != nil && req.ExpiresAt != nil && slices.Contains(activeOrAfter, req.Status):
			return true, nil
		case req.View == apitypes.ViewSubmitted:
			// The workflow did not answer in time: the status is what
			// visibility holds, without the grant's times; ask again.
		case req.Status.Terminal():
			return true, fmt.Errorf("request %s ended %s (%s) without being active", id, req.Status, req.Reason)
		}
		return false, nil
	})
}

// awaitWorkflowView polls the request until GET answers with its
// workflow's own view, not the request as submitted.
func awaitWorkflowView(ctx context.Context, a *api, token, id string) error {
	_, err := a.poll(ctx, token, id, throughputPoll, func(req workflows.Request) (bool, error) {
		return req.View != apitypes.ViewSubmitted, nil
	})
	return err
}

// activeOrAfter are the statuses of an activated grant running its course.
var activeOrAfter = []workflows.Status{apitypes.StatusActive, apitypes.StatusDeactivating, apitypes.StatusExpired}

// awaitRemovals polls the emulator's removals until every grant's role was
// asked to be removed, and sets removedAt to the arrival of that request.
func awaitRemovals(ctx context.Context, tgt Target, gs []grant) error {
	latest := gs[0].expiresAt
	for i := range gs {
		if gs[i].expiresAt.After(latest) {
			latest = gs[i].expiresAt
		}
	}
	deadline := latest.Add(removalWait)
	for {
		rems, err := tgt.Removals(ctx)
		if err != nil {
			return err
		}
		left := matchRemovals(gs, rems)
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d roles not removed %s after the last grant ended", left, len(gs), removalWait)
		}
		if err := sleep(ctx, removalPoll); err != nil {
			return err
		}
	}
}

// matchRemovals gives each grant without one the first removal of its
// principal and target that arrived after its approval, and returns how
// many grants have none yet. A principal holding a target through
// overlapping grants keeps it until the last one ends, so each of them is
// matched to that removal.
func matchRemovals(gs []grant, rems []graphemu.Removal) int {
	byKey := map[string][]time.Time{}
	for _, r := range rems {
		k := removalKey(r.PrincipalID, r.RoleDefinitionID, r.DirectoryScopeID, r.GroupID, r.AccessID)
		byKey[k] = append(byKey[k], r.ReceivedAt)
	}
	left := 0
	for i := range gs {
		g := &gs[i]
		if !g.removedAt.IsZero() {
			continue
		}
		for _, at := range byKey[g.key()] {
			if at.After(g.approvedAt) {
				g.removedAt = at
				break
			}
		}
		if g.removedAt.IsZero() {
			left++
		}
	}
	return left
}

// awaitExpired checks that every request ended expired.
func awaitExpired(ctx context.Context, a *api, cfg Config, gs []grant) error {
	return parallel(ctx, cfg.Concurrency, len(gs), func(ctx context.Context, i int) error {
		g := gs[i]
		ctx, cancel := context.WithTimeout(ctx, removalWait)
		defer cancel()
		if _, err := a.awaitStatus(ctx, g.token, g.req.ID, apitypes.StatusExpired, endedPoll); err != nil {
			return fmt.Errorf("request %s did not end expired: %w", g.req.ID, err)
		}
		return nil
	})
}
