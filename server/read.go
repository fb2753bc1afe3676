package server

import (
	"context"
	"net/http"
	"regexp"
	"slices"

	"github.com/labstack/echo/v4"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/workflows"
)

// idPattern is the shape of every request id this API makes; anything else
// cannot name a request, so it is a 404 without asking Temporal.
var idPattern = regexp.MustCompile(`^req-[0-9a-f-]{8,64}$`)

func requestNotFound(id string) *apiError {
	return problemf(http.StatusNotFound, "no request %q", id)
}

func pathID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !idPattern.MatchString(id) {
		return "", requestNotFound(id)
	}
	return id, nil
}

// visibleRequest finds the request named in the path and checks that the
// caller may see it.
func (s *Server) visibleRequest(c echo.Context) (string, error) {
	id, _, err := s.lookupRequest(c, false)
	return id, err
}

// actionRequest is visibleRequest for a call that acts on the request: an
// auditor sees everything but acts only where they have a part.
func (s *Server) actionRequest(c echo.Context) (string, description, error) {
	return s.lookupRequest(c, true)
}

func (s *Server) lookupRequest(c echo.Context, acting bool) (string, description, error) {
	id, err := pathID(c)
	if err != nil {
		return "", description{}, err
	}
	d, err := s.describe(c.Request().Context(), id)
	if isNotFound(err) {
		return "", description{}, requestNotFound(id)
	}
	if err != nil {
		return "", description{}, temporalFailure(err, "look up the request")
	}
	me := currentIdentity(c)
	may, err := s.mayView(c, me, d)
	if err != nil {
		return "", description{}, err
	}
	if !may {
		return "", description{}, problemf(http.StatusForbidden, "you may not see request %s: only its requester, its approvers, operators and auditors may", id)
	}
	if acting && !me.operator {
		if part, err := s.involved(c, me, d); err != nil || !part {
			if err != nil {
				return "", description{}, err
			}
			return "", description{}, problemf(http.StatusForbidden, "the %s role may read request %s but not act on it", AuditorRole, id)
		}
	}
	return id, d, nil
}

// mayView: the requester, anyone who may approve it, operators and auditors.
func (s *Server) mayView(c echo.Context, me *identity, d description) (bool, error) {
	if me.operator || me.auditor {
		return true, nil
	}
	return s.involved(c, me, d)
}

// involved: the requester and anyone who may approve it (as recorded in
// the request, or as the policy and the directory say now). When the
// directory cannot say, the answer is a 503, never a guess.
func (s *Server) involved(c echo.Context, me *identity, d description) (bool, error) {
	if d.requesterID == me.person.ID || slices.Contains(d.approverIDs, me.person.ID) {
		return true, nil
	}
	pol := s.policy(c)
	role, ok := pol.Role(d.role)
	if !ok {
		return false, nil
	}
	may, err := pol.IsRoleApprover(c.Request().Context(), s.directory, role, me.person.ID, d.requesterID)
	if err != nil {
		return false, &apiError{status: http.StatusServiceUnavailable, cause: err,
			detail: "whether you approve this role could not be checked: the directory (Microsoft Graph) did not answer; try again shortly"}
	}
	return may, nil
}

// HeaderView says the body of GET /api/v1/requests/{id} is the request as
// submitted (api.ViewSubmitted), not yet its workflow's current view.
const HeaderView = "X-Jitflow-View"

// getRequest answers with the workflow's current view of the request, or,
// when the workflow does not answer within readWait, at once with the
// request as submitted: a request that was accepted is always readable.
// readRequest reads an accepted request for a person who may see it: as
// the workflow answers within readWait, else as submitted (never a 503
// while Temporal itself answers).
func (s *Server) readRequest(ctx context.Context, id string, d description) (workflows.Request, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	queryCtx, cancelQuery := context.WithTimeout(ctx, readWait)
	defer cancelQuery()
	return s.currentOrSubmitted(ctx, queryCtx, id, d.recorded())
}

func (s *Server) getRequest(c echo.Context) error {
	id, d, err := s.lookupRequest(c, false)
	if err != nil {
		return err
	}
	req, err := s.readRequest(c.Request().Context(), id, d)
	if isNotFound(err) {
		return requestNotFound(id)
	}
	if err != nil {
		return temporalFailure(err, "read the request")
	}
	if req.View != "" {
		c.Response().Header().Set(HeaderView, req.View)
	}
	return c.JSON(http.StatusOK, req)
}

// auditBody is the answer of GET /api/v1/requests/{id}/audit.
type auditBody = api.AuditTrail

// getAudit reads the trail from the workflow history, which holds it
// durably and needs no worker to read. A browser (Accept: text/html) gets
// the same trail as a page.
func (s *Server) getAudit(c echo.Context) error {
	id, err := s.visibleRequest(c)
	if err != nil {
		return err
	}
	trail, err := s.trail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if prefersHTML(c.Request().Header.Get(echo.HeaderAccept)) {
		return renderAuditPage(c, trail)
	}
	body := auditBody{Events: trail.Events}
	if trail.Request.ID != "" {
		body.Request = &trail.Request
	}
	return c.JSON(http.StatusOK, body)
}

// trail reads request id's audit trail from its workflow history, for
// the API and the portal.
func (s *Server) trail(ctx context.Context, id string) (audit.Trail, error) {
	events, err := s.history(ctx, id)
	if isNotFound(err) {
		return audit.Trail{}, requestNotFound(id)
	}
	if err != nil {
		return audit.Trail{}, temporalFailure(err, "read the request history")
	}
	trail, err := audit.Read(events, converter.GetDefaultDataConverter())
	if err != nil {
		return audit.Trail{}, &apiError{status: http.StatusInternalServerError, detail: "cannot read the audit trail of " + id, cause: err}
	}
	return trail, nil
}

func (s *Server) history(ctx context.Context, id string) ([]*historypb.HistoryEvent, error) {
	it := s.temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}
