package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// Bodies of the action calls; all of them may be empty.
type (
	decideBody = api.DecideBody
	cancelBody = api.CancelBody
	revokeBody = api.RevokeBody
	extendBody = api.ExtendBody
)

func (s *Server) approve(c echo.Context) error { return s.decide(c, api.DecisionApprove) }

func (s *Server) deny(c echo.Context) error { return s.decide(c, api.DecisionDeny) }

// decide sends the caller's decision on the request or the extension
// waiting for one. The live policy decides whether the caller may still
// decide at all (policies.Policy.MayStillDecide); the workflow's validator
// whether they may make this decision by the request's plan (approver of
// the current stage and tier, not the requester, not already decided). Like every action, it first checks that
// the caller may see the request at all, so a stranger learns nothing of
// its state from the answer.
func (s *Server) decide(c echo.Context, decision string) error {
	id, d, err := s.actionRequest(c)
	if err != nil {
		return err
	}
	var body decideBody
	if err := decodeStrict(c, &body, true); err != nil {
		return err
	}
	return s.answer(c)(s.decideAs(c, id, d, decision, body.Comment))
}

// decideAs sends the authenticated caller's decision on request id
// (found by actionRequest), from the API or the portal.
func (s *Server) decideAs(c echo.Context, id string, d description, decision, comment string) (workflows.Request, error) {
	me := currentIdentity(c)
	// The plan says who was asked; the policy as it stands now whether
	// they still may, and the role's step-up applies to approvers as to
	// requesters.
	role, err := s.policy(c).MayStillDecide(c.Request().Context(), s.directory, d.role, me.person.ID, d.requesterID)
	if err != nil {
		return workflows.Request{}, noLongerMayDecide(id, err)
	}
	if err := requireStepUp(me, role, "deciding on"); err != nil {
		return workflows.Request{}, err
	}
	in, err := workflows.DecideInput{
		ApproverID: me.person.ID, Decision: decision, Comment: comment,
	}.Sign(s.proofs, s.attest(c, id), s.now())
	if err != nil {
		return workflows.Request{}, err
	}
	return s.apply(c, id, workflows.UpdateDecide, in)
}

// noLongerMayDecide is the 403 for a decision the live policy refuses.
func noLongerMayDecide(id string, err error) error {
	var r *policies.DecideRefusal
	if !errors.As(err, &r) {
		return &apiError{status: http.StatusServiceUnavailable, cause: err,
			detail: fmt.Sprintf("whether you may still decide request %s could not be checked: the directory (Microsoft Graph) did not answer; try again shortly", id)}
	}
	return problemf(http.StatusForbidden, "you may not decide request %s now: %s", id, r.Reason)
}

func (s *Server) cancel(c echo.Context) error {
	id, _, err := s.actionRequest(c)
	if err != nil {
		return err
	}
	if err := decodeStrict(c, &cancelBody{}, true); err != nil {
		return err
	}
	return s.answer(c)(s.cancelAs(c, id))
}

// cancelAs cancels request id for the authenticated caller.
func (s *Server) cancelAs(c echo.Context, id string) (workflows.Request, error) {
	in, err := workflows.CancelInput{ActorID: currentIdentity(c).person.ID}.Sign(s.proofs, s.attest(c, id), s.now())
	if err != nil {
		return workflows.Request{}, err
	}
	return s.apply(c, id, workflows.UpdateCancel, in)
}

// revoke passes on whether the caller is an operator: only the API can
// check the token's roles; the workflow trusts its word because the
// proof says the server gave it.
func (s *Server) revoke(c echo.Context) error {
	id, _, err := s.actionRequest(c)
	if err != nil {
		return err
	}
	var body revokeBody
	if err := decodeStrict(c, &body, true); err != nil {
		return err
	}
	return s.answer(c)(s.revokeAs(c, id, body.Reason))
}

// revokeAs revokes request id for the authenticated caller.
func (s *Server) revokeAs(c echo.Context, id, reason string) (workflows.Request, error) {
	me := currentIdentity(c)
	in, err := workflows.RevokeInput{
		Actor: me.person, Operator: me.operator, Reason: reason,
	}.Sign(s.proofs, s.attest(c, id), s.now())
	if err != nil {
		return workflows.Request{}, err
	}
	return s.apply(c, id, workflows.UpdateRevoke, in)
}

// attest is what the server vouches for when it acts on request id for
// the authenticated caller: the channel (the API, the operator's door for
// an operator, or the portal) and the token or session it checked.
func (s *Server) attest(c echo.Context, id string) proof.Statement {
	me := currentIdentity(c)
	channel := proof.ChannelAPI
	if me.operator {
		channel = proof.ChannelOperator
	}
	return proof.Statement{RequestID: id, Channel: me.door(channel), Via: me.via}
}

// apply runs one workflow update to completion and returns the request
// as the update left it.
func (s *Server) apply(c echo.Context, id, name string, arg any) (workflows.Request, error) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), updateTimeout)
	defer cancel()
	var req workflows.Request
	if err := s.runUpdate(ctx, id, name, arg, &req); err != nil {
		return workflows.Request{}, s.updateFailure(c.Request().Context(), id, name, err)
	}
	return req, nil
}

// answer answers an action call with the request as the action left it.
func (s *Server) answer(c echo.Context) func(workflows.Request, error) error {
	return func(req workflows.Request, err error) error {
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, req)
	}
}

// startingRetry is how long runUpdate waits before sending again an
// update refused because the request was still starting.
const startingRetry = 50 * time.Millisecond

// runUpdate sends one update and waits for its result. An update that
// reached the workflow before its first task recorded the request
// (workflows.ErrStarting) is sent again until ctx ends.
func (s *Server) runUpdate(ctx context.Context, id, name string, arg any, out *workflows.Request) error {
	for {
		h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID:   id,
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, out)
		}
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != workflows.ErrStarting {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(startingRetry):
		}
	}
}

// updateFailure maps a refused or failed update. The workflow's own
// refusals carry their HTTP meaning in the error type; a closed workflow
// shows up as NotFound from Temporal and is a 409, not a 404.
func (s *Server) updateFailure(ctx context.Context, id, name string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case workflows.ErrForbidden:
			return problemf(http.StatusForbidden, "%s", appErr.Message())
		case workflows.ErrConflict:
			return problemf(http.StatusConflict, "%s", appErr.Message())
		case workflows.ErrInvalid:
			return problemf(http.StatusBadRequest, "%s", appErr.Message())
		case workflows.ErrStarting:
			return problemf(http.StatusServiceUnavailable, "%s", appErr.Message())
		}
		return &apiError{status: http.StatusInternalServerError, detail: fmt.Sprintf("request %s failed to %s", id, name), cause: err}
	}
	if !isNotFound(err) {
		return temporalFailure(err, name)
	}
	d, derr := s.describe(ctx, id)
	switch {
	case isNotFound(derr):
		return requestNotFound(id)
	case derr != nil:
		return temporalFailure(derr, "look up the request")
	case !d.running:
		return &apiError{status: http.StatusConflict, detail: fmt.Sprintf("request %s is %s", id, d.status), cause: err}
	}
	return temporalFailure(err, name)
}

// extend asks for more time on an active grant. The role's rules are
// checked here (422 for what breaks them); the workflow decides whether the
// caller may (the requester only) and whether approval is needed again.
func (s *Server) extend(c echo.Context) error {
	id, d, err := s.actionRequest(c)
	if err != nil {
		return err
	}
	var body extendBody
	if err := decodeStrict(c, &body, false); err != nil {
		return err
	}
	return s.answer(c)(s.extendAs(c, id, d, body))
}

// extendAs asks for more time on request id for the authenticated caller.
func (s *Server) extendAs(c echo.Context, id string, d description, body extendBody) (workflows.Request, error) {
	if strings.TrimSpace(body.Duration) == "" {
		return workflows.Request{}, fieldError(http.StatusBadRequest, "duration", "field \"duration\" is required: how much longer, such as \"30m\" or \"PT30M\"")
	}
	more, err := durations.ParseWhole(body.Duration)
	if err != nil {
		return workflows.Request{}, fieldError(http.StatusBadRequest, "duration", "field \"duration\": %v (for example \"30m\", \"1h\" or \"PT30M\")", err)
	}
	pol := s.policy(c)
	if err := pol.CheckExtension(d.role, more, body.Justification); err != nil {
		return workflows.Request{}, policyError(err)
	}
	me := currentIdentity(c)
	// More time on a grant is as strong an ask as the grant: the role's
	// step-up applies as it does to requesting.
	if role, ok := pol.Role(d.role); ok {
		if err := requireStepUp(me, role, "extending"); err != nil {
			return workflows.Request{}, err
		}
	}
	in, err := workflows.ExtendInput{
		Actor: me.person, Duration: more, Justification: body.Justification,
	}.Sign(s.proofs, s.attest(c, id), s.now())
	if err != nil {
		return workflows.Request{}, err
	}
	return s.apply(c, id, workflows.UpdateExtend, in)
}
