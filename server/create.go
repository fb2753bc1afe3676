package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// HeaderIdempotencyKey makes a submission safe to repeat.
const HeaderIdempotencyKey = "Idempotency-Key"

const maxIdempotencyKeyLen = 200

// createBody is the body of POST /api/v1/requests.
type createBody = api.CreateBody

// createRequest checks a submission against the policy and starts its
// workflow.
func (s *Server) createRequest(c echo.Context) error {
	var body createBody
	if err := decodeStrict(c, &body, false); err != nil {
		return err
	}
	key, err := idempotencyKey(c.Request())
	if err != nil {
		return err
	}
	req, created, err := s.submit(c, body, key)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, s.requestURL(req.ID))
	if created {
		return c.JSON(http.StatusCreated, req)
	}
	return c.JSON(http.StatusOK, req)
}

// submit checks a submission by the authenticated caller against the
// policy and starts its workflow: the one way a request is made, from the
// API and the portal alike. created is false when an idempotent repeat
// found the request it made before.
func (s *Server) submit(c echo.Context, body createBody, key string) (req workflows.Request, created bool, err error) {
	me := currentIdentity(c)
	in, err := requestInput(s.policy(c), body)
	if err != nil {
		return req, false, err
	}
	in.Time = s.now()
	plan, err := s.policy(c).Resolve(c.Request().Context(), s.directory, me.caller(), in)
	if err != nil {
		return req, false, policyError(err)
	}
	if err := requireStepUp(me, plan.Role, "requesting"); err != nil {
		return req, false, err
	}
	if plan.RuleErrors != nil {
		s.log.Warn("auto-approval rule failed; the request waits for approvers", "role", plan.Role.Name, "error", plan.RuleErrors, "request_id", httpRequestID(c))
	}
	if err := s.checkEligibility(c.Request().Context(), plan, me.person); err != nil {
		return req, false, err
	}
	input := s.workflowInput(newRequestID(me.person.ID, key), plan, me.person, in)
	if err := input.Validate(); err != nil {
		// Resolve admitted a plan the workflow cannot run: the policy and
		// the workflow disagree, which no caller can fix.
		return req, false, &apiError{status: http.StatusInternalServerError, cause: err,
			detail: fmt.Sprintf("role %q resolves to an approval plan that cannot run: %v", plan.Role.Name, err)}
	}
	return s.start(c, input, key != "")
}

// start answers a repeat of an idempotent submission with its request, and
// otherwise starts the workflow. A second request for a role the requester
// already holds or asked for is allowed: the grants overlap, and the role
// stays until the later one ends.
func (s *Server) start(c echo.Context, input workflows.AccessRequestInput, idempotent bool) (workflows.Request, bool, error) {
	ctx := c.Request().Context()
	if idempotent {
		existing, found, err := s.existingRequest(ctx, input)
		if found || err != nil {
			return existing, false, err
		}
	}
	// The workflow runs only a plan the server signed: one started
	// straight through Temporal fails at once.
	me := currentIdentity(c)
	signed, err := input.Sign(s.proofs, proof.Statement{Channel: me.door(proof.ChannelAPI), Via: me.via}, s.now())
	if err != nil {
		return workflows.Request{}, false, err
	}
	_, err = s.temporal.ExecuteWorkflow(ctx, startOptions(signed), workflows.WorkflowName, signed)
	if err != nil && isAlreadyStarted(err) && idempotent {
		// Another server started the same key between our check and start.
		existing, found, err := s.existingRequest(ctx, input)
		if !found && err == nil {
			err = problemf(http.StatusConflict, "request id %s is taken by another workflow", input.RequestID)
		}
		return existing, false, err
	}
	if err != nil {
		return workflows.Request{}, false, temporalFailure(err, "start the request")
	}
	s.recent.add(input)
	s.log.Info("access request started", "access_request_id", input.RequestID, "role", input.Target.Role,
		"requester_id", input.Requester.ID, "request_id", httpRequestID(c))
	return workflows.NewRequest(input), true, nil
}

func requestInput(pol *policies.Policy, body createBody) (policies.RequestInput, error) {
	if strings.TrimSpace(body.Role) == "" {
		return policies.RequestInput{}, fieldError(http.StatusBadRequest, "role", "field \"role\" is required; roles: %s", roleNames(pol))
	}
	in := policies.RequestInput{Role: body.Role, Justification: body.Justification, Ticket: body.Ticket}
	if strings.TrimSpace(body.Duration) != "" {
		d, err := durations.ParseWhole(body.Duration)
		if err != nil {
			return policies.RequestInput{}, fieldError(http.StatusBadRequest, "duration",
				"field \"duration\": %v (for example \"15s\", \"1h30m\", \"PT1H\" or \"P1D\"; omit it for the role's default)", err)
		}
		if d == 0 {
			return policies.RequestInput{}, fieldError(http.StatusBadRequest, "duration",
				"field \"duration\" is zero; give a positive duration such as \"1h\" or \"PT1H\", or omit it for the role's default")
		}
		in.Duration = d
	}
	return in, nil
}

func roleNames(p *policies.Policy) string {
	return strings.Join(p.RoleNames(), ", ")
}

func policyError(err error) error {
	var de *policies.DirectoryError
	if errors.As(err, &de) {
		return &apiError{status: http.StatusServiceUnavailable, cause: err,
			detail: "the directory (Microsoft Graph) that says who may request and approve could not be read; try again shortly"}
	}
	var re *policies.RequestError
	if !errors.As(err, &re) {
		return fmt.Errorf("resolve request: %w", err)
	}
	status := http.StatusUnprocessableEntity
	if re.Kind == policies.NotEligible {
		status = http.StatusForbidden
	}
	return &apiError{status: status, field: re.Field, detail: re.Error()}
}

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values(HeaderIdempotencyKey)
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", problemf(http.StatusBadRequest, "send one %s header, not %d", HeaderIdempotencyKey, len(vals))
	}
	k := vals[0]
	if k == "" || len(k) > maxIdempotencyKeyLen || strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		return "", problemf(http.StatusBadRequest, "%s must be 1 to %d printable ASCII characters", HeaderIdempotencyKey, maxIdempotencyKeyLen)
	}
	return k, nil
}

// newRequestID names a new request. With an idempotency key the id is derived
// from the caller and the key, so a repeat lands on the same workflow.
func newRequestID(requesterID, key string) string {
	if key == "" {
		return "req-" + uuid.NewString()
	}
	sum := sha256.Sum256([]byte(requesterID + "\n" + key))
	return "req-" + hex.EncodeToString(sum[:])[:32]
}

// existingRequest finds a request already started under input's id. A
// repeat must ask for the same thing, or the key is being misused.
func (s *Server) existingRequest(ctx context.Context, input workflows.AccessRequestInput) (workflows.Request, bool, error) {
	if _, err := s.describe(ctx, input.RequestID); err != nil {
		if isNotFound(err) {
			return workflows.Request{}, false, nil
		}
		return workflows.Request{}, false, temporalFailure(err, "look up the request")
	}
	req, err := s.queryRequest(ctx, input.RequestID)
	if err != nil {
		return workflows.Request{}, true, temporalFailure(err, "read the request")
	}
	if !sameRequest(req, input) {
		return workflows.Request{}, true, &apiError{status: http.StatusUnprocessableEntity, requestID: req.ID,
			detail: fmt.Sprintf("%s reused with a different request: request %s asked for role %q for %s", HeaderIdempotencyKey, req.ID, req.Role, req.Duration)}
	}
	return req, true, nil
}

func sameRequest(req workflows.Request, in workflows.AccessRequestInput) bool {
	return req.Role == in.Target.Role &&
		req.DurationSeconds == int64(in.Duration/time.Second) &&
		req.Justification == in.Justification &&
		req.Ticket == in.Ticket
}

// startOptions starts the workflow with the search attributes it keeps up
// to date itself, so lists and the conflict check see it at once.
func startOptions(in workflows.AccessRequestInput) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                                       in.RequestID,
		TaskQueue:                                workflows.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchAttributes(in, workflows.NewRequest(in).Status)...),
	}
}

// workflowInput turns the resolved plan into the workflow's input: from
// here on the workflow needs neither the policy nor the directory.
func (s *Server) workflowInput(id string, plan policies.Plan, caller workflows.Person, in policies.RequestInput) workflows.AccessRequestInput {
	requester := caller
	if plan.Requester.ID != "" {
		requester = person(plan.Requester)
	}
	out := workflows.AccessRequestInput{
		RequestID:          id,
		Requester:          requester,
		Target:             target(plan.Role),
		RequireEligibility: plan.Role.RequireEligibility,
		EndNoticeBefore:    plan.Role.EndNoticeBefore,
		Extension: workflows.Extension{
			WithoutApprovalUpTo: plan.Role.ExtendWithoutApprovalUpTo,
			MaxDuration:         plan.Role.ExtendMax,
		},
		Duration:      plan.Duration,
		Justification: in.Justification,
		Ticket:        in.Ticket,
		CreatedAt:     s.now().UTC(),
		BreakGlass:    plan.Role.BreakGlass,
		BaseURL:       s.baseURL,
	}
	for _, st := range plan.Stages {
		ws := workflows.Stage{Name: st.Name, Approvals: st.Approvals}
		for _, t := range st.Tiers {
			wt := workflows.Tier{Approvers: people(t.Approvers), Timeout: t.Timeout, RemindBefore: t.RemindBefore}
			if !t.Directory.Empty() {
				// Resolved by the workflow when the stage starts.
				refs := t.Directory
				wt.Directory = &refs
			}
			ws.Tiers = append(ws.Tiers, wt)
		}
		out.Stages = append(out.Stages, ws)
	}
	out.Notify = people(plan.Notify)
	if r := plan.AutoApprovedBy; r != nil {
		out.AutoApproval = &workflows.AutoApproval{Rule: r.Name, Expression: r.Expr}
	}
	return out
}

// target is what the role grants, as the workflow knows it.
func target(r *policies.Role) workflows.Target {
	return workflows.Target{
		Role:             r.Name,
		RoleDefinitionID: r.RoleDefinitionID,
		DirectoryScopeID: r.DirectoryScopeID,
		GroupID:          r.GroupID,
		AccessID:         r.GroupAccess,
	}
}

func person(u policies.User) workflows.Person {
	email := u.Email
	if email == "" {
		email = u.UPN
	}
	return workflows.Person{ID: u.ID, UPN: u.UPN, Email: email}
}

func people(us []policies.User) []workflows.Person {
	if len(us) == 0 {
		return nil
	}
	out := make([]workflows.Person, len(us))
	for i, u := range us {
		out[i] = person(u)
	}
	return out
}
