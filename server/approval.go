package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// maxFormBytes bounds a decision form: a comment and a few fields.
const maxFormBytes = 16 << 10

func (s *Server) approvalRoutes() {
	if s.approvalKeys == nil {
		return
	}
	e := s.echo
	// Anyone may load these pages: each load is limited per client address
	// before it costs a token check and a Temporal call.
	mw := []echo.MiddlewareFunc{pageHeaders, s.limitAddress}
	e.GET("/approvals/:token", s.showApproval, mw...)
	e.HEAD("/approvals/:token", s.showApproval, mw...)
	e.POST("/approvals/:token", s.decideByLink, mw...)
	if s.signIn != nil {
		e.GET("/approvals/:token/signin", s.startSignIn, mw...)
		e.GET(SignInCallbackPath, s.finishSignIn, mw...)
	}
}

// approval is a verified link and the request it names, as it stands.
type approval struct {
	token    string
	claims   approvals.Claims
	req      workflows.Request
	role     *policies.Role // nil when the policy no longer has the role
	approver string         // the link's approver, by principal name
}

// loadApproval checks the link and the request's state. It answers a page
// (with its status) whenever the link cannot decide now, and says why.
func (s *Server) loadApproval(c echo.Context) (*approval, *page) {
	token := c.Param("token")
	claims, err := s.approvalKeys.Verify(token, s.now())
	if err != nil {
		return nil, tokenPage(err)
	}
	// One Temporal call per page: the query alone says all the page needs
	// (the link's signature already ties the id to an access request).
	req, err := s.queryRequest(c.Request().Context(), claims.RequestID)
	if isNotFound(err) {
		p := failPage(http.StatusNotFound, "Request not found", fmt.Sprintf("Request %s no longer exists, so this link cannot decide anything.", claims.RequestID))
		return nil, &p
	}
	if err != nil {
		return nil, s.failurePage(c, temporalFailure(err, "read the request"))
	}
	a := &approval{token: token, claims: claims, req: req, approver: s.displayName(claims.ApproverID, req)}
	pol := s.policy(c)
	a.role, _ = pol.Role(req.Role)
	if p := a.refusal(c.Request().Context(), pol, s.directory); p != nil {
		p.Request = s.pageSummary(a)
		return nil, p
	}
	return a, nil
}

// refusal says why the link cannot decide the request as it stands now.
func (a *approval) refusal(ctx context.Context, pol *policies.Policy, dir policies.Directory) *page {
	c, req := a.claims, a.req
	if c.Extension > 0 {
		return a.extensionRefusal(ctx, pol, dir)
	}
	for _, d := range req.Decisions {
		if d.ApproverID == c.ApproverID && d.Extension == 0 {
			p := failPage(http.StatusConflict, "Already decided",
				fmt.Sprintf("%s already %s this request (stage %d) at %s. Each approver decides once; this link cannot decide again.",
					a.approver, pastTense(d.Decision), d.Stage, stamp(d.Time)))
			return &p
		}
	}
	if req.Status != api.StatusPending {
		p := failPage(http.StatusConflict, "No longer waiting for a decision",
			fmt.Sprintf("Request %s was already decided: it is now %s. This link cannot change that.", req.ID, statusText(req.Status)))
		return &p
	}
	if req.Stage > c.Stage {
		p := failPage(http.StatusConflict, "Stage already decided",
			fmt.Sprintf("This link was for stage %d, which is already decided; the request now waits for stage %d.", c.Stage, req.Stage))
		return &p
	}
	if req.Stage < c.Stage {
		p := failPage(http.StatusConflict, "Stage not begun",
			fmt.Sprintf("This link is for stage %d, but the request is still at stage %d.", c.Stage, req.Stage))
		return &p
	}
	if p := a.approverRefusal(ctx, pol, dir); p != nil {
		return p
	}
	if !isApprover(req.Approvers, c.ApproverID) {
		p := failPage(http.StatusForbidden, "You are not an approver of this stage",
			fmt.Sprintf("%s is not among the people who may decide stage %d of request %s now.", a.approver, req.Stage, req.ID))
		return &p
	}
	return nil
}

// approverRefusal refuses a link whose approver the live policy no longer
// lets decide (policies.Policy.MayStillDecide).
func (a *approval) approverRefusal(ctx context.Context, pol *policies.Policy, dir policies.Directory) *page {
	_, err := pol.MayStillDecide(ctx, dir, a.req.Role, a.claims.ApproverID, a.req.RequesterID)
	if err == nil {
		return nil
	}
	if !errors.Is(err, policies.ErrNoLongerApprover) {
		p := failPage(http.StatusServiceUnavailable, "Try again shortly",
			"Whether you may still decide could not be checked: the directory (Microsoft Graph) did not answer. Nothing was decided; reload this page in a moment.")
		return &p
	}
	p := failPage(http.StatusForbidden, "You are no longer an approver",
		fmt.Sprintf("The current policy no longer lets %s decide: %v. This link cannot decide.", a.approver, err))
	return &p
}

func isApprover(approvers []workflows.Approver, id string) bool {
	return slices.ContainsFunc(approvers, func(ap workflows.Approver) bool { return ap.ApproverID == id })
}

// showApproval answers GET and HEAD: it shows the request and a form and
// never decides, so a mail scanner that fetches or renders the link
// changes nothing.
func (s *Server) showApproval(c echo.Context) error {
	a, fail := s.loadApproval(c)
	if fail != nil {
		return s.render(c, *fail)
	}
	who, need := s.signInGate(c, a)
	if need != nil {
		return s.render(c, *need)
	}
	p := s.formPage(a)
	p.SignedInAs = who
	return s.render(c, p)
}

func (s *Server) formPage(a *approval) page {
	if a.claims.Extension > 0 {
		return s.extensionFormPage(a)
	}
	return page{
		status:      http.StatusOK,
		Title:       fmt.Sprintf("%s asks for %s", a.req.Requester, a.req.Role),
		Message:     fmt.Sprintf("Approve or deny this request for %s of role %s.", duration(a.req), a.req.Role),
		Request:     s.pageSummary(a),
		Approver:    a.approver,
		LinkExpires: stamp(a.claims.Expires),
		Form:        true,
	}
}

// decideByLink answers POST: the one way a link decides. The decision
// goes through the same workflow update as the API's, so the workflow's
// rules (no self-approval, the current stage and tier only, one decision
// per approver) hold for links too; an approver's single decision is what
// makes each link single-use, kept in the request's own history.
func (s *Server) decideByLink(c echo.Context) error {
	if c.Request().Header.Get("Sec-Fetch-Site") == "cross-site" {
		return s.render(c, failPage(http.StatusForbidden, "Not sent from this page", "Decisions are accepted only from the approval page itself."))
	}
	a, fail := s.loadApproval(c)
	if fail != nil {
		return s.render(c, *fail)
	}
	signedIn, need := s.signInGate(c, a)
	if need != nil {
		need.status, need.Kind = http.StatusForbidden, pageError
		return s.render(c, *need)
	}
	decision, comment, bad := readDecisionForm(c)
	if bad != "" {
		p := s.formPage(a)
		p.status, p.Kind, p.Title, p.Message = http.StatusBadRequest, pageError, "Nothing was decided", bad
		return s.render(c, p)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), updateTimeout)
	defer cancel()
	req, err := s.decideUpdate(ctx, a, decision, comment, signedIn)
	if err != nil {
		p := s.failurePage(c, s.toAPIError(s.updateFailure(c.Request().Context(), a.claims.RequestID, workflows.UpdateDecide, err), c))
		p.Request = s.pageSummary(a)
		return s.render(c, *p)
	}
	a.req = req
	message := fmt.Sprintf("You %s request %s. It is now %s.", pastTense(decision), req.ID, statusText(req.Status))
	if a.claims.Extension > 0 {
		message = extensionDoneMessage(a, decision)
	}
	return s.render(c, page{
		status:  http.StatusOK,
		Kind:    pageDone,
		Title:   "Thank you: " + pastTense(decision),
		Message: message,
		Request: s.pageSummary(a),
	})
}

// decideUpdate sends a link's decision with the server's proof: the
// channel is the email link (its id), the identity the link's approver and,
// when the role asks for it, the approver's sign-in.
func (s *Server) decideUpdate(ctx context.Context, a *approval, decision, comment, signedIn string) (workflows.Request, error) {
	via := fmt.Sprintf("approval link %s for %s (oid %s)", a.claims.ID, a.approver, a.claims.ApproverID)
	if signedIn != "" {
		via += "; signed in as " + signedIn
	}
	in, err := workflows.DecideInput{
		ApproverID: a.claims.ApproverID, Decision: decision, Comment: comment, Stage: a.claims.Stage,
		Extension: a.claims.Extension, LinkID: a.claims.ID,
	}.Sign(s.proofs, proof.Statement{RequestID: a.claims.RequestID, Channel: proof.ChannelEmailLink, LinkID: a.claims.ID, Via: via}, s.now())
	if err != nil {
		return workflows.Request{}, err
	}
	var req workflows.Request
	err = s.runUpdate(ctx, a.claims.RequestID, workflows.UpdateDecide, in, &req)
	return req, err
}

// readDecisionForm reads decision=approve|deny and comment; bad says what
// is wrong, in words for the approver.
func readDecisionForm(c echo.Context) (decision, comment, bad string) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return "", "", "The form could not be read (it may be over 16 KiB). Shorten the comment and try again."
	}
	decision = r.PostForm.Get("decision")
	if decision != api.DecisionApprove && decision != api.DecisionDeny {
		return "", "", fmt.Sprintf("The form field decision must be %q or %q; it was %q.", api.DecisionApprove, api.DecisionDeny, decision)
	}
	comment = strings.TrimSpace(freetext.Normalize(r.PostForm.Get("comment")))
	if err := freetext.Check("comment", comment, freetext.MultiLine); err != nil {
		return "", "", fmt.Sprintf("The comment cannot be accepted: %v.", err)
	}
	return decision, comment, ""
}

// tokenPage explains a link that did not verify.
func tokenPage(err error) *page {
	var te *approvals.TokenError
	if !errors.As(err, &te) {
		p := failPage(http.StatusBadRequest, "This link is not valid", "The approval link could not be read.")
		return &p
	}
	var p page
	switch te.Kind {
	case approvals.Expired:
		p = failPage(http.StatusGone, "This link has expired",
			fmt.Sprintf("The approval link for request %s expired at %s. It can no longer decide; use a newer email or jitflow's API.",
				te.Claims.RequestID, stamp(te.Claims.Expires)))
	case approvals.Forged:
		p = failPage(http.StatusBadRequest, "This link is not valid",
			"The approval link was altered, or was not made by this jitflow (or its key was retired). Open the link exactly as the email gave it.")
	default:
		p = failPage(http.StatusBadRequest, "This link is not valid",
			"The approval link is incomplete or malformed. Open the link exactly as the email gave it; some mail programs cut long links.")
	}
	return &p
}

// failurePage turns an API error into a page, logging what must not be
// shown.
func (s *Server) failurePage(c echo.Context, ae *apiError) *page {
	if ae.status >= http.StatusInternalServerError {
		s.log.Warn("approval page failed", "status", ae.status, "request_id", httpRequestID(c), "error", ae)
	}
	p := failPage(ae.status, "Nothing was decided", ae.detail)
	if ae.status == http.StatusConflict {
		p.Title = "Already decided"
	}
	return &p
}

// pageSummary is the request as the page shows it.
func (s *Server) pageSummary(a *approval) *requestSummary {
	r := a.req
	sum := &requestSummary{
		ID: r.ID, Status: statusText(r.Status), Requester: r.Requester, Role: r.Role,
		Scope: r.DirectoryScopeID, Duration: duration(r), Justification: freetext.Escape(r.Justification),
		Ticket: freetext.Escape(r.Ticket), CreatedAt: stamp(r.CreatedAt),
	}
	if a.role != nil {
		sum.RoleDescription = a.role.Description
	}
	if r.Stage > 0 && r.Stages > 0 {
		sum.Stage = fmt.Sprintf("%d of %d", r.Stage, r.Stages)
		if a.role != nil && r.Stage <= len(a.role.Stages) {
			sum.Stage += " (" + a.role.Stages[r.Stage-1].Name + ")"
		}
	}
	if r.Status == api.StatusPending {
		sum.Approvers = approverNames(r.Approvers)
		if r.EscalatesAt != nil {
			sum.EscalatesAt = stamp(*r.EscalatesAt)
		}
	}
	if a.claims.Extension > 0 {
		s.describeExtension(sum, a)
	}
	for _, d := range r.Decisions {
		what := fmt.Sprintf("stage %d", d.Stage)
		if d.Extension > 0 {
			what = fmt.Sprintf("extension %d, stage %d", d.Extension, d.Stage)
		}
		line := fmt.Sprintf("%s %s (%s) at %s", d.Approver, pastTense(d.Decision), what, stamp(d.Time))
		if d.Comment != "" {
			line += ": " + freetext.Escape(d.Comment)
		}
		sum.Decisions = append(sum.Decisions, line)
	}
	return sum
}

func approverNames(approvers []workflows.Approver) string {
	names := make([]string, len(approvers))
	for i, ap := range approvers {
		names[i] = ap.Approver
	}
	return strings.Join(names, ", ")
}

// displayName names an approver by principal name, from the request or the
// directory, falling back to the object id.
func (s *Server) displayName(id string, req workflows.Request) string {
	for _, ap := range req.Approvers {
		if ap.ApproverID == id && ap.Approver != "" {
			return ap.Approver
		}
	}
	if u, ok := s.policies.Current().UserByID(id); ok {
		return u.UPN
	}
	return id
}

// duration is the grant length as people write it ("30m", not "30m0s").
func duration(r workflows.Request) string {
	return durations.Format(time.Duration(r.DurationSeconds) * time.Second)
}

func pastTense(decision string) string {
	if decision == api.DecisionDeny {
		return "denied"
	}
	return "approved"
}

func statusText(st workflows.Status) string { return strings.ReplaceAll(string(st), "_", " ") }

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
