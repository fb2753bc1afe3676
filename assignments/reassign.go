package assignments

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
)

// changeReassignAfterOwnEnd is the GetVersion change id of the assignment
// workflow taking over when the assignment the principal held before
// jitflow (their own PIM activation, say) ends before a grant that rides on
// it: at that end it assigns the role itself for the rest of the grants and
// tells their requests (RemovalProgress.Reassigned). Before, the requests
// went on showing active while the role was gone.
const changeReassignAfterOwnEnd = "reassign-after-own-end"

// ReassignRetry is how long the assignment workflow waits before trying
// again when Graph still lists the principal's own assignment after its
// end (Entra applies an expiry with a delay).
const ReassignRetry = 30 * time.Second

// ownEnd is when the assignment the principal held before jitflow ends;
// false when there is none, it is permanent, or reassigning is off.
func (s *assignment) ownEnd() (time.Time, bool) {
	if !s.reassigns || s.alreadyHeld == nil || s.alreadyHeld.Permanent() {
		return time.Time{}, false
	}
	return s.alreadyHeld.EndDateTime, true
}

// ownEnded: the principal's own assignment has ended, so it carries no
// grant any more.
func (s *assignment) ownEnded(ctx workflow.Context) bool {
	end, ok := s.ownEnd()
	return ok && !workflow.Now(ctx).Before(end)
}

// reassignAt is when the role must be assigned again: at the end of the
// principal's own assignment, if a grant outlasts it or waits for the role.
func (s *assignment) reassignAt() (time.Time, bool) {
	end, ok := s.ownEnd()
	if !ok {
		return time.Time{}, false
	}
	for _, g := range s.grants {
		if !g.settled || g.Until.After(end) {
			if s.reassignNotBefore.After(end) {
				return s.reassignNotBefore, true
			}
			return end, true
		}
	}
	return time.Time{}, false
}

func (s *assignment) needReassign(ctx workflow.Context) bool {
	at, ok := s.reassignAt()
	return ok && !s.activating && !workflow.Now(ctx).Before(at)
}

// reassign assigns the role for the rest of the grants once the
// principal's own assignment has ended, the way activate does (the same
// local activity, so a repeat after a lost answer adopts what this request
// made). From then on the assignment is jitflow's and is removed when the
// last grant ends. The requests riding on the old assignment are told
// either way; when Graph refuses, their grants are dropped, since the role
// is gone. An own assignment still listed means the principal renewed it
// (the grants ride on again) or Graph has not applied its end yet (tried
// again after ReassignRetry).
func (s *assignment) reassign(ctx workflow.Context) {
	s.activating = true
	defer func() { s.activating = false }()
	s.lastRemoval, s.removalFailure = nil, ""
	own := *s.alreadyHeld
	now := workflow.Now(ctx)
	until, by := s.latestWanted(now)
	// Graph keeps whole seconds: round up so the role lasts to the end.
	d := until.Sub(now)
	if r := d.Truncate(time.Second); r < d {
		d = r + time.Second
	}
	in := graph.ActivateInput{
		RequestID:     by.RequestID,
		Assignment:    s.target,
		Duration:      d,
		Justification: by.justification,
		Ticket:        by.ticket,
	}
	res, err := activateLocally(ctx, in)
	if inst, ok := heldBefore(err); ok {
		if !inst.Permanent() && !inst.EndDateTime.After(workflow.Now(ctx)) {
			s.logger.Info("Graph still lists the principal's own assignment after its end; trying again", "instance_id", inst.ID, "end", inst.EndDateTime)
			s.reassignNotBefore = workflow.Now(ctx).Add(ReassignRetry)
			return
		}
		s.logger.Info("Principal holds the target again through an assignment jitflow did not make; grants ride on it", "instance_id", inst.ID, "end", inst.EndDateTime)
		s.alreadyHeld, s.entraEnd, s.reassignNotBefore = &inst, inst.EndDateTime, time.Time{}
		s.settleWaiting(ctx, HoldResult{})
		return
	}
	riding := s.riding()
	if err != nil {
		reason := fmt.Sprintf("the requester's own assignment (instance %s) ended at %s, before the grant, and assigning the role again failed: %s",
			instanceID(own), own.EndDateTime.UTC().Format(time.RFC3339), activities.FailureText(err))
		s.failUnsettled(reason)
		s.tellReassigned(ctx, riding, Reassignment{Previous: own, Failure: reason})
		s.grants, s.alreadyHeld = nil, nil
		// As in activate: only Graph's outright refusal surely left
		// nothing behind.
		var app *temporal.ApplicationError
		s.assigned = !errors.As(err, &app) || app.Type() != graph.ErrRejected
		s.releaseReason, s.releasedBy = "cleanup after assigning the role again failed", by.RequestID
		return
	}
	s.logger.Info("Principal's own assignment ended before the grants; role assigned for the rest", "previous_instance_id", own.ID, "graph_request_id", res.GraphRequestID)
	s.alreadyHeld, s.assigned, s.entraEnd, s.activeSince = nil, true, res.EndDateTime, workflow.Now(ctx)
	if s.entraEnd.IsZero() {
		s.entraEnd = s.activeSince.Add(d)
	}
	s.settleWaiting(ctx, HoldResult{Activation: &res})
	s.tellReassigned(ctx, riding, Reassignment{Previous: own, Activation: &res})
}

// latestWanted is the latest end any grant needs (a new one's counted from
// now), and whose it is.
func (s *assignment) latestWanted(now time.Time) (time.Time, *grant) {
	at, by := now, s.grants[0]
	for _, g := range s.grants {
		end := g.Until
		if end.IsZero() {
			end = now.Add(g.Duration)
		}
		if end.After(at) {
			at, by = end, g
		}
	}
	return at, by
}

// riding are the requests already active on the principal's own
// assignment: settled grants, and grants waiting for an extension.
func (s *assignment) riding() []string {
	var ids []string
	for _, g := range s.grants {
		if g.settled || !g.prevUntil.IsZero() {
			ids = append(ids, g.RequestID)
		}
	}
	return ids
}

// settleWaiting answers every grant waiting for the role, now that it is
// there; a new grant's clock starts now.
func (s *assignment) settleWaiting(ctx workflow.Context, res HoldResult) {
	now := workflow.Now(ctx)
	for _, g := range s.grants {
		if g.settled {
			continue
		}
		if g.Until.IsZero() {
			g.Until = now.Add(g.Duration)
		}
		s.settle(g, res)
	}
}

// instanceID names an instance for people; Graph may not have told its id.
func instanceID(inst graph.Instance) string {
	if inst.ID == "" {
		return "(none)"
	}
	return inst.ID
}

// tellReassigned signals the requests. A request that is gone cannot be
// told, which is no reason to stop.
func (s *assignment) tellReassigned(ctx workflow.Context, ids []string, r Reassignment) {
	s.notify(ctx, ids, RemovalProgress{Reassigned: &r})
}
