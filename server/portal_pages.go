package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
	"github.com/jitflow/jitflow/workflows"
)

// portalListLimit bounds the requests one portal list shows.
const portalListLimit = 50

// requestFields are the request form's fields, as the API names them.
var requestFields = []string{"role", "duration", "justification", "ticket"}

// showRequestForm answers GET /request: the form, built from the roles
// the person may request (what GET /api/v1/roles lists). ?role= picks one.
func (s *Server) showRequestForm(c echo.Context) error {
	f, err := s.requestForm(c, createBody{Role: c.QueryParam("role")})
	if err != nil {
		return s.portalError(c, err)
	}
	f.Submit = randomString()
	return s.renderPortal(c, portalPage{status: http.StatusOK, Title: "Request a role", Current: navRequest, Form: f})
}

// requestForm is the form with the roles on offer and the values kept.
func (s *Server) requestForm(c echo.Context, body createBody) (*requestForm, error) {
	offered, views, err := s.offeredRoles(c)
	if err != nil {
		return nil, err
	}
	f := &requestForm{Role: body.Role, Duration: body.Duration, Justification: body.Justification, Ticket: body.Ticket, Errors: map[string]string{}}
	for i, o := range offered {
		v := views[i]
		opt := roleOption{Name: v.Name, Description: v.Description, Selected: v.Name == body.Role,
			Duration:      fmt.Sprintf("%s to %s, default %s", durations.Format(o.Role.MinDuration), durations.Format(o.Role.MaxDuration), durations.Format(o.Role.DefaultDuration)),
			Justification: "optional", Ticket: "none needed", Approval: approvalWords(v), StepUp: "your sign-in"}
		if v.Justification.Required {
			opt.Justification = "required"
		}
		if v.Ticket.Required {
			opt.Ticket = "required"
			if v.Ticket.Pattern != "" {
				opt.Ticket += ", matching " + v.Ticket.Pattern
			}
		}
		if o.Role.StepUp.Required() {
			opt.StepUp = stepUpWords(o.Role.StepUp)
		}
		if held := v.EligibilityHeld; held != nil {
			opt.Eligibility = "required, and you hold it"
			if !*held {
				opt.Eligibility = "required, and you do not hold it: ask for it in Entra first"
			}
		} else if v.RequireEligibility {
			opt.Eligibility = "required"
		}
		if opt.Selected {
			f.Limit = fmt.Sprintf("Role %s: %s.", v.Name, opt.Duration)
		}
		f.Roles = append(f.Roles, opt)
	}
	return f, nil
}

// approvalWords says who approves a role: auto-approval that would apply
// now, else the number of stages.
func approvalWords(r api.Role) string {
	for _, a := range r.AutoApprove {
		if a.WouldApply {
			return "approved at once (rule " + a.Name + ")"
		}
	}
	switch len(r.Stages) {
	case 0:
		return "no approval"
	case 1:
		return "one approval stage"
	}
	return fmt.Sprintf("%d approval stages", len(r.Stages))
}

// submitRequestForm answers POST /request: the submission goes through
// the API's own submit, and what it refuses comes back beside the field
// it names, in its words, with what was typed kept.
func (s *Server) submitRequestForm(c echo.Context) error {
	form := c.Request().PostForm
	body := createBody{Role: form.Get("role"), Duration: form.Get("duration"), Justification: form.Get("justification"), Ticket: form.Get("ticket")}
	submit := form.Get("submission")
	var err error
	if err = checkText(&body); err == nil {
		// The form's submission key makes a second click on the button
		// land on the request the first one made.
		if submit != "" {
			c.Request().Header.Set(HeaderIdempotencyKey, submit)
		}
		var key string
		if key, err = idempotencyKey(c.Request()); err == nil {
			var req workflows.Request
			if req, _, err = s.submit(c, body, key); err == nil {
				return c.Redirect(http.StatusSeeOther, portalRequestAt+req.ID+"?done=requested")
			}
		}
	}
	f, ferr := s.requestForm(c, body)
	if ferr != nil {
		return s.portalError(c, ferr)
	}
	f.Submit = randomString()
	ae := s.toAPIError(err, c)
	if ae.status >= http.StatusInternalServerError {
		s.log.Warn("portal request failed", "status", ae.status, "request_id", httpRequestID(c), "error", err)
	}
	p := portalPage{status: ae.status, Kind: pageError, Title: "Request a role", Current: navRequest, Form: f,
		Message: "Nothing was requested: " + ae.detail + "."}
	if slices.Contains(requestFields, ae.field) {
		f.Errors[ae.field] = upper(ae.detail) + "."
		p.Message = "Nothing was requested: correct the " + ae.field + " and send the form again."
	}
	if ae.status == http.StatusUnauthorized {
		if role, ok := s.policy(c).Role(body.Role); ok && role.StepUp.Required() {
			p.SignInURL = stepUpURL(role.Name, portalNew+"?role="+url.QueryEscape(role.Name))
			p.SignInLabel = "Sign in again with " + stepUpWords(role.StepUp)
			p.Message = fmt.Sprintf("Nothing was requested: role %s needs %s, which your sign-in lacks. Sign in again with it, then send the form.", role.Name, stepUpWords(role.StepUp))
		}
	}
	return s.renderPortal(c, p)
}

func stepUpURL(role, back string) string {
	return portalSignIn + "?" + url.Values{"stepup": {role}, "return": {back}}.Encode()
}

// showMine answers GET /: the person's requests, newest first, each
// with what they may do with it now.
func (s *Server) showMine(c echo.Context) error {
	me := currentIdentity(c)
	f := listFilter{requesterID: me.person.ID, limit: portalListLimit}
	q := s.listQuery(f, me)
	reqs, _, err := s.listed(c.Request().Context(), f, me, q, nil)
	if err != nil {
		return s.portalError(c, err)
	}
	now := s.now()
	p := portalPage{status: http.StatusOK, Title: "My requests", Current: navMine}
	for _, r := range reqs {
		row := mineRow{ID: r.ID, Role: r.Role, Status: string(r.Status), StatusText: statusText(r.Status), Created: stamp(r.CreatedAt),
			Duration: duration(r), Live: !final(r.Status), Pending: r.Status == api.StatusPending, Active: r.Status == api.StatusActive}
		if row.Active {
			row.TimeLeft = timeLeft(r.ExpiresAt, now)
		}
		if x := r.Extension; x != nil {
			row.Extension = fmt.Sprintf("Extension %d (%s more) is %s.", x.Number, extensionMore(x), statusText(x.Status))
		}
		p.Live = p.Live || row.Live
		p.Mine = append(p.Mine, row)
	}
	return s.renderPortal(c, p)
}

// final says whether a request's status can no longer change.
func final(st workflows.Status) bool {
	switch st {
	case api.StatusExpired, api.StatusRevoked, api.StatusDenied, api.StatusCanceled, api.StatusTimedOut, api.StatusFailed:
		return true
	}
	return false
}

// showQueue answers GET /approve: every request, and every extension,
// waiting for the person's decision now, oldest first.
func (s *Server) showQueue(c echo.Context) error {
	me := currentIdentity(c)
	q := strings.Join([]string{
		"WorkflowType=" + quoteValue(workflows.WorkflowName),
		workflows.SearchApproverIDs.GetName() + "=" + quoteValue(me.person.ID),
		"ExecutionStatus=" + quoteValue("Running"),
	}, " AND ")
	ctx := c.Request().Context()
	sums, _, err := s.list(ctx, q, maxListLimit, nil)
	if err != nil {
		return s.portalError(c, temporalFailure(err, "list requests"))
	}
	pol := s.policy(c)
	now := s.now()
	p := portalPage{status: http.StatusOK, Title: "To approve", Current: navQueue}
	for _, r := range s.views(ctx, sums) {
		row, waits := queueEntry(r, me.person.ID)
		if !waits {
			continue
		}
		row.Escalates = until(row.escalatesAt, now)
		if role, ok := pol.Role(r.Role); ok {
			if row.stage > 0 && row.stage <= len(role.Stages) {
				row.Stage += " (" + role.Stages[row.stage-1].Name + ")"
			}
			if missing, _ := missingStepUp(role.StepUp, me.amr, me.acrs); len(missing) > 0 {
				row.StepUp = stepUpWords(role.StepUp)
				row.StepUpURL = stepUpURL(role.Name, portalQueue)
			}
		}
		p.Queue = append(p.Queue, row.queueRow)
	}
	slices.SortStableFunc(p.Queue, func(a, b queueRow) int { return strings.Compare(a.Asked, b.Asked) })
	return s.renderPortal(c, p)
}

// queued is a queue row and when it escalates.
type queued struct {
	queueRow
	escalatesAt *time.Time
	stage       int
}

// queueEntry is r as the queue shows it, and whether it waits for
// approver: a pending request (or a pending extension of an active one)
// at a stage approver may decide and has not.
func queueEntry(r workflows.Request, approver string) (queued, bool) {
	row := queued{queueRow: queueRow{ID: r.ID, Requester: r.Requester, Role: r.Role, Duration: duration(r),
		Justification: freetext.Escape(r.Justification), Ticket: freetext.Escape(r.Ticket), Asked: stamp(r.CreatedAt)}}
	decided := func(ext int) bool {
		return slices.ContainsFunc(r.Decisions, func(d workflows.Decision) bool { return d.ApproverID == approver && d.Extension == ext })
	}
	switch {
	case r.Status == api.StatusPending:
		if !isApprover(r.Approvers, approver) || decided(0) {
			return row, false
		}
		row.stage, row.escalatesAt = r.Stage, r.EscalatesAt
	case r.Status == api.StatusActive && r.Extension != nil && r.Extension.Status == api.StatusPending:
		x := r.Extension
		if !isApprover(x.Approvers, approver) || decided(x.Number) {
			return row, false
		}
		row.Extension = fmt.Sprintf("extension %d: %s more", x.Number, extensionMore(x))
		row.Justification = freetext.Escape(x.Justification)
		row.stage, row.escalatesAt = x.Stage, x.EscalatesAt
		row.Asked = stamp(x.RequestedAt)
	default:
		return row, false
	}
	row.Stage = fmt.Sprintf("%d of %d", row.stage, r.Stages)
	return row, true
}

// doneWords thanks the person after an action, by its ?done= name.
var doneWords = map[string]string{
	"requested": "Your request was sent.",
	"canceled":  "You canceled this request.",
	"revoked":   "You revoked this grant.",
	"extended":  "You asked for more time.",
	"approved":  "You approved this request.",
	"denied":    "You denied this request.",
}

// showPortalRequest answers GET /requests/:id: the request, its
// decisions and its audit trail, for those who may see it by the API's
// rule (its requester and approvers, operators, auditors).
func (s *Server) showPortalRequest(c echo.Context) error {
	id, d, err := s.lookupRequest(c, false)
	if err != nil {
		return s.portalError(c, err)
	}
	ctx := c.Request().Context()
	req, err := s.readRequest(ctx, id, d)
	if err != nil {
		return s.portalError(c, temporalFailure(err, "read the request"))
	}
	trail, err := s.trail(ctx, id)
	if err != nil {
		return s.portalError(c, err)
	}
	a := &approval{req: req}
	a.role, _ = s.policy(c).Role(req.Role)
	det := &portalDetail{Summary: s.pageSummary(a), StatusCode: string(req.Status), Live: !final(req.Status), Events: trail.Events}
	if req.Status == api.StatusActive {
		det.TimeLeft = timeLeft(req.ExpiresAt, s.now())
	}
	if s.temporalUI != "" && currentIdentity(c).operator {
		det.TemporalURL = s.temporalUI + "/workflows/" + url.PathEscape(id)
	}
	p := portalPage{status: http.StatusOK, Title: fmt.Sprintf("Request %s: %s", id, req.Role), Detail: det, Live: det.Live, Back: portalHome}
	if msg, ok := doneWords[c.QueryParam("done")]; ok {
		p.Kind, p.Message = pageDone, msg
	}
	return s.renderPortal(c, p)
}

// statusView is the answer of GET /requests/:id/status, for the portal's
// status cells.
type statusView struct {
	ID         string           `json:"id"`
	Status     workflows.Status `json:"status"`
	StatusText string           `json:"status_text"`
	TimeLeft   string           `json:"time_left"`
	Final      bool             `json:"final"`
}

// portalStatus answers the status cells of a portal page, for a request
// the person may see (the API's rule).
func (s *Server) portalStatus(c echo.Context) error {
	id, d, err := s.lookupRequest(c, false)
	if err != nil {
		ae := s.toAPIError(err, c)
		return c.JSON(ae.status, map[string]string{"error": ae.detail})
	}
	req, err := s.readRequest(c.Request().Context(), id, d)
	if err != nil {
		ae := temporalFailure(err, "read the request")
		return c.JSON(ae.status, map[string]string{"error": ae.detail})
	}
	v := statusView{ID: id, Status: req.Status, StatusText: statusText(req.Status), Final: final(req.Status)}
	if req.Status == api.StatusActive {
		v.TimeLeft = timeLeft(req.ExpiresAt, s.now())
	}
	return c.JSON(http.StatusOK, v)
}

// portalAction answers the portal's forms on a request: cancel, revoke,
// extend and decide, each through the function the API's call uses.
func (s *Server) portalAction(c echo.Context) error {
	action := c.Param("action")
	if !slices.Contains([]string{"cancel", "revoke", "extend", "decide"}, action) {
		return s.portalFail(c, http.StatusNotFound, "Not found",
			fmt.Sprintf("There is no action %q; the portal's actions are cancel, revoke, extend and decide.", action))
	}
	id, d, err := s.actionRequest(c)
	if err != nil {
		return s.portalError(c, err)
	}
	form := c.Request().PostForm
	done, back := "", portalHome
	switch action {
	case "cancel":
		done = "canceled"
		_, err = s.cancelAs(c, id)
	case "revoke":
		done = "revoked"
		body := revokeBody{Reason: form.Get("reason")}
		if err = checkText(&body); err == nil {
			_, err = s.revokeAs(c, id, body.Reason)
		}
	case "extend":
		done = "extended"
		body := extendBody{Duration: form.Get("duration"), Justification: form.Get("justification")}
		if err = checkText(&body); err == nil {
			_, err = s.extendAs(c, id, d, body)
		}
	case "decide":
		back = portalQueue
		decision := form.Get("decision")
		body := decideBody{Comment: form.Get("comment")}
		switch {
		case decision != api.DecisionApprove && decision != api.DecisionDeny:
			err = fieldError(http.StatusBadRequest, "decision", "the form field decision must be %q or %q; it was %q", api.DecisionApprove, api.DecisionDeny, decision)
		default:
			done = pastTense(decision)
			if err = checkText(&body); err == nil {
				_, err = s.decideAs(c, id, d, decision, body.Comment)
			}
		}
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, portalRequestAt+id+"?done="+done)
	}
	ae := s.toAPIError(err, c)
	if ae.status >= http.StatusInternalServerError {
		s.log.Warn("portal action failed", "action", action, "status", ae.status, "request_id", httpRequestID(c), "error", err)
	}
	p := portalPage{status: ae.status, Kind: pageError, Title: "Nothing was done", Back: back,
		Message: fmt.Sprintf("Request %s: %s.", id, ae.detail)}
	if ae.status == http.StatusUnauthorized {
		if role, ok := s.policy(c).Role(d.role); ok && role.StepUp.Required() {
			p.Title = "Stronger sign-in needed"
			p.Message = fmt.Sprintf("Request %s: role %s needs %s, which your sign-in lacks. Sign in again with it, then retry.", id, role.Name, stepUpWords(role.StepUp))
			p.SignInURL, p.SignInLabel = stepUpURL(role.Name, back), "Sign in again with "+stepUpWords(role.StepUp)
		}
	}
	return s.renderPortal(c, p)
}
