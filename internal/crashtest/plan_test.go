package crashtest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitflow/jitflow/client"
)

// action is what a step does through the API.
type action string

const (
	actCreate  action = "create"
	actApprove action = "approve"
	actDeny    action = "deny"
	actCancel  action = "cancel"
	actRevoke  action = "revoke"
)

// scenario is one request and what its decisions call for.
type scenario struct {
	name     string
	role     string
	duration string
	// want is the status the request must end in; activates says whether
	// the role must have been assigned (exactly once) on the way.
	want      client.Status
	activates bool
	// events are audit event types the trail must show besides the
	// decisions, e.g. "escalated".
	events []string

	requester string // set by plan.add
	id        string // set once created
}

// step is one call of a scenario. It may run from run on (the process's
// lifetime, from 1), once when holds.
type step struct {
	run  int
	act  action
	who  string // the caller; the requester when empty
	when func(client.Request) bool

	sc       *scenario
	sent     bool // the call went out at least once: when held then
	done     bool
	answered bool // the API answered 2xx
}

// plan is the scenarios and their steps, in the order they are tried.
type plan struct {
	scenarios []*scenario
	steps     []*step
}

// add gives sc the next requester and queues its steps.
func (p *plan) add(sc *scenario, steps ...step) {
	sc.requester = requester(len(p.scenarios) + 1)
	p.scenarios = append(p.scenarios, sc)
	for _, s := range steps {
		s.sc = sc
		if s.who == "" {
			s.who = sc.requester
		}
		p.steps = append(p.steps, &s)
	}
}

// Conditions a step may wait for.
func isActive(r client.Request) bool { return r.Status == client.StatusActive }
func atStage(n int) func(client.Request) bool {
	return func(r client.Request) bool { return r.Status == client.StatusPending && r.Stage == n }
}
func escalated(r client.Request) bool { return r.Status == client.StatusPending && r.Tier >= 2 }

// driver runs a plan's steps against one or more APIs.
type driver struct {
	t    *testing.T
	plan *plan
	apis []*users // calls go to them in turn
	next atomic.Int64
	// retried counts calls sent again because a server did not answer.
	retried atomic.Int64
}

// drive runs every step allowed in run that is not done yet until all are
// done or ctx ends (the process was killed). Each scenario's steps run in
// order, the scenarios side by side, as different people would act. A
// call cut off by the kill stays to do: it is sent again in the next run,
// and a 409 then tells whether the first one took effect.
func (d *driver) drive(ctx context.Context, run int) {
	var wg sync.WaitGroup
	for _, sc := range d.plan.scenarios {
		wg.Go(func() {
			for _, s := range d.plan.steps {
				if s.sc != sc || s.done {
					continue
				}
				if s.run > run || !d.do(ctx, s) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// pending names the steps not done yet.
func (d *driver) pending() []string {
	var out []string
	for _, s := range d.plan.steps {
		if !s.done {
			out = append(out, fmt.Sprintf("%s: %s by %s", s.sc.name, s.act, s.who))
		}
	}
	return out
}

// finish makes every call left and fails the test if some could not be
// made before ctx ended.
func (d *driver) finish(ctx context.Context, run int) {
	d.t.Helper()
	d.drive(ctx, run)
	left := d.pending()
	if len(left) == 0 {
		return
	}
	for _, sc := range d.plan.scenarios {
		if sc.id != "" {
			d.describe(sc)
		}
	}
	d.t.Fatalf("%d calls could not be made: %s", len(left), strings.Join(left, "; "))
}

// describe logs where a request stands and its audit trail, for a failure.
func (d *driver) describe(sc *scenario) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := d.apis[0].as(sc.requester)
	r, err := c.Get(ctx, sc.id)
	if err != nil {
		d.t.Logf("%s (%s): %v", sc.name, sc.id, err)
		return
	}
	a, err := c.Audit(ctx, sc.id)
	if err != nil {
		d.t.Logf("%s (%s): audit: %v", sc.name, sc.id, err)
	}
	d.t.Logf("%s (%s): %s, stage %d tier %d, reason %q, decisions %+v", sc.name, sc.id, r.Status, r.Stage, r.Tier, r.Reason, r.Decisions)
	for _, e := range a.Events {
		d.t.Logf("    %s %-12s %-20s %s", e.Time.Format("15:04:05.000"), e.Type, e.Actor, e.Detail)
	}
}

// do runs one step; false means ctx ended first.
func (d *driver) do(ctx context.Context, s *step) bool {
	api := int(d.next.Add(1)-1) % len(d.apis)
	c := d.apis[api].as(s.who)
	if s.when != nil && !s.sent {
		if _, err := d.waitAny(ctx, s.who, s.sc.id, s.when); err != nil {
			if ctx.Err() != nil {
				return false
			}
			d.t.Errorf("%s: waiting before %s by %s: %v", s.sc.name, s.act, s.who, err)
			s.done = true
			return true
		}
	}
	for {
		s.sent = true
		r, err := d.call(ctx, c, s)
		switch {
		case err == nil:
			s.done, s.answered = true, true
			if s.act == actCreate {
				s.sc.id = r.ID
			}
			return true
		case unavailable(err):
			// As behind a load balancer, the retry goes to the next
			// server: the one that did not answer may be gone for good.
			api = (api + 1) % len(d.apis)
			c = d.apis[api].as(s.who)
			d.retried.Add(1)
			if !pause(ctx, 200*time.Millisecond) {
				return false
			}
		case status(err) == http.StatusConflict && s.act != actCreate:
			// The same call may have taken effect before a kill cut its
			// answer off: then the request shows it (a revoke once the
			// removal has begun).
			r, gerr := waitFor(ctx, c, s.sc.id, settledFor(s.act))
			if gerr != nil {
				return ctx.Err() == nil
			}
			if tookEffect(s, r) {
				d.t.Logf("%s: %s by %s had taken effect before its answer was cut off", s.sc.name, s.act, s.who)
			} else {
				d.t.Errorf("%s: %s by %s refused: %v (request is %s)", s.sc.name, s.act, s.who, err, r.Status)
			}
			s.done = true
			return true
		default:
			d.t.Errorf("%s: %s by %s: %v", s.sc.name, s.act, s.who, err)
			s.done = true
			return true
		}
	}
}

// waitAny is waitFor through whichever API answers: a server that is
// down for good must not hold up a step waiting on the request.
func (d *driver) waitAny(ctx context.Context, who, id string, cond func(client.Request) bool) (client.Request, error) {
	if len(d.apis) == 1 {
		return waitFor(ctx, d.apis[0].as(who), id, cond)
	}
	for i := 0; ; i++ {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := waitFor(wctx, d.apis[i%len(d.apis)].as(who), id, cond)
		cancel()
		if err == nil || ctx.Err() != nil || wctx.Err() == nil {
			return r, err
		}
	}
}

func (d *driver) call(ctx context.Context, c *client.Client, s *step) (client.Request, error) {
	comment := fmt.Sprintf("crash test: %s %s", s.act, s.sc.name)
	switch s.act {
	case actCreate:
		return c.Create(ctx, client.CreateInput{Role: s.sc.role, Duration: s.sc.duration, Justification: comment, IdempotencyKey: s.sc.name})
	case actApprove:
		return c.Approve(ctx, s.sc.id, comment)
	case actDeny:
		return c.Deny(ctx, s.sc.id, comment)
	case actCancel:
		return c.Cancel(ctx, s.sc.id)
	case actRevoke:
		return c.Revoke(ctx, s.sc.id, comment)
	}
	return client.Request{}, fmt.Errorf("unknown action %q", s.act)
}

// settledFor is when a request can show whether an act took effect.
func settledFor(act action) func(client.Request) bool {
	if act == actRevoke {
		return func(r client.Request) bool {
			return r.Status != client.StatusActivating && r.Status != client.StatusActive
		}
	}
	return func(client.Request) bool { return true }
}

// tookEffect reports whether r shows what s asked for.
func tookEffect(s *step, r client.Request) bool {
	switch s.act {
	case actApprove, actDeny:
		return decided(r, upn(s.who), string(s.act))
	case actCancel:
		return r.Status == client.StatusCanceled
	case actRevoke:
		return r.Status == client.StatusRevoked || r.Status == client.StatusDeactivating
	}
	return false
}

// decided reports whether r records who's decision.
func decided(r client.Request, who, decision string) bool {
	return slices.ContainsFunc(r.Decisions, func(d client.Decision) bool {
		return strings.EqualFold(d.Approver, who) && d.Decision == decision
	})
}

func upn(user string) string { return user + "@example.com" }

// awaitEnd reads every request until it has ended.
func (d *driver) awaitEnd(ctx context.Context) {
	d.t.Helper()
	for _, sc := range d.plan.scenarios {
		if sc.id == "" {
			continue
		}
		if _, err := waitFor(ctx, d.apis[0].as(sc.requester), sc.id, func(r client.Request) bool { return r.Status.Terminal() }); err != nil {
			d.describe(sc)
			d.t.Fatalf("%s (%s): did not end: %v", sc.name, sc.id, err)
		}
	}
}
