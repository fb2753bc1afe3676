package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Assign asks Graph for an assignment that Entra itself ends after
// in.Duration (whole seconds: Graph's durations carry no fractions). It
// looks first: an assignment this request already made (an earlier attempt
// whose answer was lost) is reported, not made twice; one jitflow did not
// make is refused with ErrAssignmentHeld. After Graph accepts, it waits
// (bounded) until the instance is listed.
func (g *Client) Assign(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	ctx, ids := withRequestIDs(ctx)
	res, err := g.assign(ctx, in)
	res.HTTPRequestIDs = ids.list()
	return res, err
}

func (g *Client) assign(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	if err := checkAssignment(in.Assignment); err != nil {
		return ActivateResult{}, rejected("assign: %v", err)
	}
	d := in.Duration.Truncate(time.Second)
	if d < time.Second {
		return ActivateResult{}, rejected("assign: duration must be at least 1s, got %s", in.Duration)
	}
	held, err := g.instances(ctx, in.Assignment)
	if err != nil {
		return ActivateResult{}, err
	}
	if len(held) > 0 {
		return g.adopt(ctx, in, held)
	}
	ans, err := g.post(ctx, scheduleCall{action: actionAssign, target: in.Assignment, duration: d,
		justification: justification(in.Justification, in.RequestID), ticket: in.Ticket})
	if err != nil {
		ge := newError("assign", err)
		if ge.Code == CodeRoleAssignmentExists {
			return g.existing(ctx, in)
		}
		return ActivateResult{}, ge.classify()
	}
	if err := checkRequestStatus("assign", ans); err != nil {
		return ActivateResult{}, err
	}
	res := assignResult(ans, d)
	return res, g.awaitVisible(ctx, in.Assignment, &res)
}

// assignResult reads when the assignment starts and ends from Graph's
// answer, falling back to what was asked for.
func assignResult(ans scheduleAnswer, d time.Duration) ActivateResult {
	start := time.Now()
	if ans.Created != nil {
		start = *ans.Created
	}
	if ans.Start != nil {
		start = *ans.Start
	}
	res := ActivateResult{
		GraphRequestID: ans.ID,
		GraphStatus:    ans.Status,
		ScheduleID:     ans.TargetScheduleID,
		StartDateTime:  start.UTC(),
		EndDateTime:    start.Add(d).UTC(),
	}
	if ans.End != nil {
		res.EndDateTime = ans.End.UTC()
	}
	return res
}

// awaitVisible polls the instance list until the new assignment shows
// (Entra takes a while to apply a request), up to cfg.VisibleWait or the
// context's deadline. It reports how long that took, or NotVisible; only a
// cancelled context is an error, since the assignment itself was made.
func (g *Client) awaitVisible(ctx context.Context, a Assignment, res *ActivateResult) error {
	began := time.Now()
	deadline := began.Add(budget(ctx, g.cfg.VisibleWait))
	for {
		insts, err := g.instances(ctx, a)
		if err == nil && visible(insts, res.ScheduleID) {
			res.VisibleAfter = time.Since(began)
			return nil
		}
		wait := min(g.cfg.VisiblePoll, time.Until(deadline))
		if wait <= 0 {
			res.NotVisible = true
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("assign: waiting for the new assignment to be listed: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// visible reports whether the schedule's instance is listed; without a
// schedule id (Graph did not say), any instance of the target counts.
func visible(insts []Instance, scheduleID string) bool {
	for _, inst := range insts {
		if scheduleID == "" || strings.EqualFold(inst.ScheduleID, scheduleID) {
			return true
		}
	}
	return false
}

// existing handles RoleAssignmentExists: Graph lists new assignments with a
// delay, so the instance list may not show yet what Graph refused over.
func (g *Client) existing(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	held, err := g.instances(ctx, in.Assignment)
	if err != nil {
		return ActivateResult{}, err
	}
	if len(held) == 0 {
		return ActivateResult{}, fmt.Errorf("assign: Graph says %s already holds %s but does not list that assignment yet",
			in.PrincipalID, in.TargetString())
	}
	return g.adopt(ctx, in, held)
}

// adopt decides about assignments already there: one this request made
// counts as done; anything else belongs to someone else and is refused, so
// that jitflow never removes access it did not grant.
func (g *Client) adopt(ctx context.Context, in ActivateInput, held []Instance) (ActivateResult, error) {
	mine, err := g.madeBy(ctx, in.Assignment, in.RequestID)
	if err != nil {
		return ActivateResult{}, err
	}
	for _, inst := range held {
		for _, req := range mine {
			if req.TargetScheduleID == "" || strings.EqualFold(req.TargetScheduleID, inst.ScheduleID) {
				return ActivateResult{
					GraphRequestID:  req.ID,
					GraphStatus:     CodeRoleAssignmentExists,
					ScheduleID:      inst.ScheduleID,
					StartDateTime:   inst.StartDateTime,
					EndDateTime:     inst.EndDateTime,
					AlreadyAssigned: true,
				}, nil
			}
		}
	}
	inst := held[0]
	until := "permanently"
	if !inst.Permanent() {
		until = "until " + inst.EndDateTime.Format(time.RFC3339)
	}
	return ActivateResult{}, temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("assign: %s already holds %s %s through an assignment jitflow did not make (instance %s, schedule %s); it is left alone",
			in.PrincipalID, in.TargetString(), until, inst.ID, inst.ScheduleID),
		ErrAssignmentHeld, nil, inst)
}

// madeBy returns the accepted adminAssign requests for the target whose
// justification carries this jitflow request's id.
func (g *Client) madeBy(ctx context.Context, a Assignment, requestID string) ([]scheduleAnswer, error) {
	if requestID == "" {
		return nil, nil
	}
	reqs, err := g.scheduleRequests(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []scheduleAnswer
	for _, r := range reqs {
		if strings.EqualFold(r.Action, actionAssign) && !failedStatuses[r.Status] && strings.Contains(r.Justification, requestMarker(requestID)) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Extend moves the end of the assignment to in.EndDateTime with
// adminUpdate (earlier or later); its start stays as it was.
func (g *Client) Extend(ctx context.Context, in ExtendInput) (ExtendResult, error) {
	ctx, ids := withRequestIDs(ctx)
	res, err := g.extend(ctx, in)
	res.HTTPRequestIDs = ids.list()
	return res, err
}

func (g *Client) extend(ctx context.Context, in ExtendInput) (ExtendResult, error) {
	if err := checkAssignment(in.Assignment); err != nil {
		return ExtendResult{}, rejected("extend: %v", err)
	}
	// The SDK writes date-times in whole seconds: say so in the result
	// rather than report an end Graph never saw.
	end := in.EndDateTime.UTC().Truncate(time.Second)
	if !end.After(time.Now()) {
		return ExtendResult{}, rejected("extend: the new end %s is not in the future", in.EndDateTime.Format(time.RFC3339))
	}
	held, err := g.instances(ctx, in.Assignment)
	if err != nil {
		return ExtendResult{}, err
	}
	var start *time.Time
	if len(held) > 0 {
		s := held[0].StartDateTime
		start = &s
	}
	ans, err := g.post(ctx, scheduleCall{action: actionUpdate, target: in.Assignment, start: start, end: &end,
		justification: justification(in.Justification, in.RequestID), ticket: in.Ticket})
	if err != nil {
		return ExtendResult{}, newError("extend", err).classify()
	}
	if err := checkRequestStatus("extend", ans); err != nil {
		return ExtendResult{}, err
	}
	res := ExtendResult{GraphRequestID: ans.ID, GraphStatus: ans.Status, EndDateTime: end}
	if ans.End != nil {
		res.EndDateTime = ans.End.UTC()
	}
	return res, nil
}

// Remove asks Graph to end the assignment. Nothing left to remove counts as
// done: Entra's own expiration or an earlier attempt got there first. An
// assignment younger than Entra's minimum gives a *RemovalTooSoonError. A
// standing (permanent) assignment is never removed, whoever asks: jitflow
// only makes assignments that end.
func (g *Client) Remove(ctx context.Context, in DeactivateInput) (DeactivateResult, error) {
	ctx, ids := withRequestIDs(ctx)
	res, err := g.remove(ctx, in)
	res.HTTPRequestIDs = ids.list()
	return res, err
}

func (g *Client) remove(ctx context.Context, in DeactivateInput) (DeactivateResult, error) {
	if err := checkAssignment(in.Assignment); err != nil {
		return DeactivateResult{}, rejected("remove: %v", err)
	}
	held, err := g.instances(ctx, in.Assignment)
	if err != nil {
		return DeactivateResult{}, retryable("remove: looking at the assignments first", err)
	}
	for _, inst := range held {
		if inst.Permanent() && (inst.MemberType == "" || strings.EqualFold(inst.MemberType, "Direct")) {
			return DeactivateResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("remove: %s holds %s through a standing assignment (instance %s) that jitflow did not make; it is left alone",
					in.PrincipalID, in.TargetString(), inst.ID), ErrAssignmentHeld, nil, inst)
		}
	}
	why := in.Reason
	if why == "" {
		why = "access ended"
	}
	ans, err := g.post(ctx, scheduleCall{action: actionRemove, target: in.Assignment, justification: justification(why, in.RequestID)})
	if err != nil {
		ge := newError("remove", err)
		switch {
		case ge.Code == CodeRoleAssignmentDoesNotExist:
			return DeactivateResult{GraphStatus: ge.Code, AlreadyGone: true}, nil
		case ge.Code == CodeActiveDurationTooShort:
			return DeactivateResult{}, g.tooSoon(ctx, in.Assignment, ge)
		case ge.Status == http.StatusNotFound:
			return g.goneAfterNotFound(ctx, in, ge)
		}
		return DeactivateResult{}, ge.classify()
	}
	if err := checkRequestStatus("remove", ans); err != nil {
		return DeactivateResult{}, err
	}
	return DeactivateResult{GraphRequestID: ans.ID, GraphStatus: ans.Status}, nil
}

// tooSoon works out when Entra will allow the removal: the minimum active
// time after the instance's start (or after now, if it is not listed).
func (g *Client) tooSoon(ctx context.Context, a Assignment, ge *Error) error {
	allowed := time.Now().Add(g.cfg.MinActiveTime)
	if held, err := g.instances(ctx, a); err == nil && len(held) > 0 {
		allowed = held[0].StartDateTime.Add(g.cfg.MinActiveTime)
	}
	return &RemovalTooSoonError{AllowedAt: allowed.UTC(), Err: ge}
}

// goneAfterNotFound decides what a 404 without RoleAssignmentDoesNotExist
// means. It may be Graph's way of saying there is nothing to remove, or a
// wrong base URL or a proxy: only the principal's instance list can tell.
// While the assignment is still listed, or the list cannot be read, the
// removal is retried: a role must never be reported removed while it is
// still there.
func (g *Client) goneAfterNotFound(ctx context.Context, in DeactivateInput, notFound *Error) (DeactivateResult, error) {
	held, err := g.instances(ctx, in.Assignment)
	if err != nil {
		return DeactivateResult{}, fmt.Errorf("remove: Graph answered 404 (%s) and the assignments could not be listed to check: %s", notFound.Error(), err.Error())
	}
	if len(held) > 0 {
		return DeactivateResult{}, fmt.Errorf("remove: Graph answered 404 (%s) but still lists the assignment (instance %s)", notFound.Error(), held[0].ID)
	}
	return DeactivateResult{GraphStatus: "NotFound", AlreadyGone: true}, nil
}

// Instances lists the principal's active instances of exactly a's target.
func (g *Client) Instances(ctx context.Context, a Assignment) ([]Instance, error) {
	if err := checkAssignment(a); err != nil {
		return nil, rejected("list instances: %v", err)
	}
	return g.instances(ctx, a)
}

// Eligible says whether the principal holds an eligibility for exactly a's
// target that is in effect now.
func (g *Client) Eligible(ctx context.Context, a Assignment) (EligibilityResult, error) {
	if err := checkAssignment(a); err != nil {
		return EligibilityResult{}, rejected("eligibility: %v", err)
	}
	found, err := g.eligibilities(ctx, a)
	if err != nil {
		return EligibilityResult{}, err
	}
	now := time.Now()
	for _, e := range found {
		if !e.Start.After(now) && (e.End.IsZero() || e.End.After(now)) {
			return EligibilityResult{Eligible: true, InstanceID: e.ID, StartDateTime: e.Start, EndDateTime: e.End}, nil
		}
	}
	return EligibilityResult{}, nil
}

// justification carries the request id into Entra's audit log, so an
// auditor there can find the jitflow request (and its approvals), and so a
// retried Assign can tell its own assignment from someone else's.
func justification(text, requestID string) string {
	if requestID == "" {
		return text
	}
	if text == "" {
		return requestMarker(requestID)
	}
	return text + " " + requestMarker(requestID)
}

func requestMarker(requestID string) string { return "(jitflow request " + requestID + ")" }

// directoryScope defaults to the whole tenant.
func directoryScope(a Assignment) string {
	if a.DirectoryScopeID == "" {
		return "/"
	}
	return a.DirectoryScopeID
}

func checkAssignment(a Assignment) error {
	switch {
	case a.PrincipalID == "":
		return errors.New("principal id is required")
	case a.IsGroup() && a.AccessID != AccessMember && a.AccessID != AccessOwner:
		return fmt.Errorf("access id must be %q or %q for a group, got %q", AccessMember, AccessOwner, a.AccessID)
	case a.IsGroup() && a.RoleDefinitionID != "":
		return errors.New("a target is a role or a group, not both: role definition id and group id are both set")
	case !a.IsGroup() && a.RoleDefinitionID == "":
		return errors.New("role definition id (or a group id) is required")
	case !a.IsGroup() && !strings.HasPrefix(directoryScope(a), "/"):
		return fmt.Errorf("directory scope id must start with /, e.g. / or /administrativeUnits/{id}; got %q", a.DirectoryScopeID)
	}
	return nil
}

// failedStatuses are request statuses that mean Graph turned the request
// down even though the call itself succeeded.
var failedStatuses = map[string]bool{"Failed": true, "Denied": true, "Canceled": true}

func checkRequestStatus(op string, ans scheduleAnswer) error {
	if failedStatuses[ans.Status] {
		return rejected("%s: Graph answered request %s with status %s", op, ans.ID, ans.Status)
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// retryable keeps err retryable even when Graph refused the call for good:
// a removal must go on trying, whatever a look beforehand ran into. A
// Error stays in the chain, so its Retry-After still sets the retry.
func retryable(op string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return fmt.Errorf("%s: %s", op, app.Message())
	}
	return fmt.Errorf("%s: %w", op, err)
}

// rejected is a failure retrying cannot fix.
func rejected(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return temporal.NewNonRetryableApplicationError(msg, ErrRejected, nil)
}
