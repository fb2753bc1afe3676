package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// List limits.
const (
	defaultListLimit = 50
	maxListLimit     = 200
	maxListPages     = 20 // bounds the calls one listing makes
)

var listParams = []string{"status", "requester", "role", "created_after", "created_before", "limit", "page_token"}

// Summary is one request in a listing as visibility knows it: the listing
// finds requests with it, then reads each one's full object.
type Summary struct {
	ID          string           `json:"id"`
	Status      workflows.Status `json:"status"`
	Role        string           `json:"role"`
	Requester   string           `json:"requester"`
	RequesterID string           `json:"requester_id"`
	CreatedAt   time.Time        `json:"created_at"`
	EndedAt     *time.Time       `json:"ended_at"`
	// view is the request's view its workflow kept in its memo
	// (workflows.MemoRequest) as of its last change; nil when there is
	// none to trust (see memoView).
	view *workflows.Request
}

// listBody is the answer of GET /api/v1/requests: full request objects,
// and the token of the next page when there is one.
type listBody = api.RequestList

// listQueries bounds the queries one listing runs at once.
const listQueries = 8

type listFilter struct {
	status        workflows.Status
	requesterID   string
	role          string
	createdAfter  time.Time
	createdBefore time.Time
	limit         int
	pageToken     string
}

// listRequests lists the requests the caller may see, a page at a time.
// Operators and auditors see every request; others their own and those
// they may approve.
func (s *Server) listRequests(c echo.Context) error {
	f, err := s.listFilter(c, c.QueryParams())
	if err != nil {
		return err
	}
	me := currentIdentity(c)
	q := s.listQuery(f, me)
	var token []byte
	if f.pageToken != "" {
		if token, err = s.pages.unwrap(f.pageToken, me.person.ID, q); err != nil {
			return err
		}
	}
	requests, next, err := s.listed(c.Request().Context(), f, me, q, token)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listBody{Requests: requests, NextPageToken: s.pages.wrap(me.person.ID, q, next)})
}

// listed reads one page of the listing q (listQuery of f for me) from
// token, as full request objects, and visibility's token for the rest:
// for the API's list and the portal's.
func (s *Server) listed(ctx context.Context, f listFilter, me *identity, q string, token []byte) ([]workflows.Request, []byte, error) {
	out, next, err := s.list(ctx, q, f.limit, token)
	if err != nil {
		if isInvalidArgument(err) && len(token) > 0 {
			return nil, nil, fieldError(http.StatusBadRequest, "page_token", "page_token has expired; start the listing again without it")
		}
		return nil, nil, temporalFailure(err, "list requests")
	}
	var recent []Summary
	if len(token) == 0 {
		// The first page also shows what this server started a moment
		// ago, which visibility may not list yet.
		recent = s.recent.matching(f, me, out)
	}
	all := s.views(ctx, append(recent, out...))
	// A recent request's status may have moved on since its start.
	requests := slices.DeleteFunc(all[:len(recent):len(recent)], func(r workflows.Request) bool {
		return f.status != "" && r.Status != f.status
	})
	return append(requests, all[len(recent):]...), next, nil
}

// views reads the full request object of each listed request: the view
// its workflow keeps in its memo, which visibility returned with the row
// (as of the workflow's last change: a moment behind it at most), or, for
// requests started before workflows kept one, a query to the workflow, a
// few at a time. The queries of a listing share one short
// deadline, listWait: a request whose workflow has not answered by then (its
// first task still to run, a busy worker, a slow replay) is listed as
// submitted, from its start, with the status visibility knows.
func (s *Server) views(ctx context.Context, sums []Summary) []workflows.Request {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	queryCtx, cancelQueries := context.WithTimeout(ctx, listWait)
	defer cancelQueries()
	out := make([]workflows.Request, len(sums))
	sem := make(chan struct{}, listQueries)
	var wg sync.WaitGroup
	for i, sum := range sums {
		if sum.view != nil {
			out[i] = *sum.view
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A describe (Temporal's database, no worker) says whether the
			// workflow has run its first task and whether its history grew
			// since its view was kept.
			rec := recorded{status: sum.Status, endedAt: sum.EndedAt}
			if d, err := s.describe(queryCtx, sum.ID); err == nil {
				rec = d.recorded()
			}
			req, err := s.currentOrSubmitted(ctx, queryCtx, sum.ID, rec)
			if err != nil {
				s.log.Warn("list: request neither read from its workflow nor from its start; listing what visibility knows", "access_request_id", sum.ID, "error", err)
				req = sum.request()
				req.View = api.ViewSubmitted
			}
			out[i] = req
		}()
	}
	wg.Wait()
	submitted := 0
	for _, req := range out {
		if req.View != "" {
			submitted++
		}
	}
	if submitted > 0 {
		s.log.Info("list: requests listed as submitted, their workflows not answering in time", "submitted", submitted, "listed", len(out), "wait", listWait)
	}
	return out
}

func (s *Server) listFilter(c echo.Context, params url.Values) (listFilter, error) {
	pol := s.policy(c)
	f := listFilter{limit: defaultListLimit}
	for name, vals := range params {
		if !slices.Contains(listParams, name) {
			return f, fieldError(http.StatusBadRequest, name, "unknown query parameter %q; accepted: %s", name, strings.Join(listParams, ", "))
		}
		if len(vals) > 1 {
			return f, fieldError(http.StatusBadRequest, name, "query parameter %q is given %d times; give it once", name, len(vals))
		}
	}
	if v := params.Get("status"); v != "" {
		if !slices.Contains(api.Statuses, workflows.Status(v)) {
			return f, fieldError(http.StatusBadRequest, "status", "unknown status %q; accepted: %s", v, statusNames())
		}
		f.status = workflows.Status(v)
	}
	if v := params.Get("role"); v != "" {
		if _, ok := pol.Role(v); !ok {
			return f, fieldError(http.StatusBadRequest, "role", "unknown role %q; roles: %s", v, roleNames(pol))
		}
		f.role = v
	}
	if v := params.Get("requester"); v != "" {
		id, ok := s.lookupUser(c, v)
		if !ok {
			return f, fieldError(http.StatusBadRequest, "requester", "unknown requester %q; give a user principal name (alice@example.com) or object id from the directory", v)
		}
		f.requesterID = id
	}
	var err error
	if f.createdAfter, err = timeParam(params, "created_after"); err != nil {
		return f, err
	}
	if f.createdBefore, err = timeParam(params, "created_before"); err != nil {
		return f, err
	}
	if !f.createdAfter.IsZero() && !f.createdBefore.IsZero() && !f.createdAfter.Before(f.createdBefore) {
		return f, fieldError(http.StatusBadRequest, "created_before", "created_before (%s) must be later than created_after (%s)",
			f.createdBefore.Format(time.RFC3339), f.createdAfter.Format(time.RFC3339))
	}
	f.pageToken = params.Get("page_token")
	if v := params.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			return f, fieldError(http.StatusBadRequest, "limit", "limit %q is not accepted; give a whole number from 1 to %d (default %d)", v, maxListLimit, defaultListLimit)
		}
		f.limit = n
	}
	return f, nil
}

// timeParam reads an RFC 3339 time such as 2026-11-26T09:00:00Z.
func timeParam(params url.Values, name string) (time.Time, error) {
	v := params.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fieldError(http.StatusBadRequest, name, "%s %q is not a time; give an RFC 3339 time such as 2026-11-26T09:00:00Z", name, v)
	}
	return t.UTC(), nil
}

// lookupUser finds a user's object id by principal name, object id or short
// name: in the policy's users list, else in the Entra directory (any object
// id stands for itself there: filtering on one nobody has finds nothing).
func (s *Server) lookupUser(c echo.Context, v string) (string, bool) {
	pol := s.policy(c)
	if u, ok := pol.UserByUPN(v); ok {
		return u.ID, true
	}
	if u, ok := pol.UserByID(strings.ToLower(v)); ok {
		return u.ID, true
	}
	if u, ok := pol.UserByName(v); ok {
		return u.ID, true
	}
	if policies.IsObjectID(v) {
		return strings.ToLower(v), true
	}
	if s.directory != nil && strings.Contains(v, "@") {
		if u, err := s.directory.User(c.Request().Context(), v); err == nil {
			return u.ID, true
		}
	}
	return "", false
}

func statusNames() string {
	names := make([]string, len(api.Statuses))
	for i, st := range api.Statuses {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// listQuery builds the visibility query. Every value is quoted, though
// each was checked against a known set or comes from a verified token.
func (s *Server) listQuery(f listFilter, me *identity) string {
	clauses := []string{"WorkflowType=" + quoteValue(workflows.WorkflowName)}
	if f.status != "" {
		clauses = append(clauses, workflows.SearchStatus.GetName()+"="+quoteValue(string(f.status)))
	}
	if f.requesterID != "" {
		clauses = append(clauses, workflows.SearchRequesterID.GetName()+"="+quoteValue(f.requesterID))
	}
	if f.role != "" {
		clauses = append(clauses, workflows.SearchRole.GetName()+"="+quoteValue(f.role))
	}
	if !f.createdAfter.IsZero() {
		clauses = append(clauses, "StartTime>="+quoteValue(f.createdAfter.Format(time.RFC3339Nano)))
	}
	if !f.createdBefore.IsZero() {
		clauses = append(clauses, "StartTime<"+quoteValue(f.createdBefore.Format(time.RFC3339Nano)))
	}
	if !me.operator && !me.auditor {
		clauses = append(clauses, fmt.Sprintf("(%s=%s OR %s=%s)",
			workflows.SearchRequesterID.GetName(), quoteValue(me.person.ID),
			workflows.SearchApproverIDs.GetName(), quoteValue(me.person.ID)))
	}
	return strings.Join(clauses, " AND ")
}

// quoteValue makes v a visibility query string literal.
func quoteValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// list reads up to limit requests from visibility, starting at token, and
// returns visibility's token for the rest ("" at the end).
func (s *Server) list(ctx context.Context, query string, limit int, token []byte) ([]Summary, []byte, error) {
	out := []Summary{}
	for range maxListPages {
		resp, err := s.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, PageSize: int32(limit - len(out)), NextPageToken: token,
		})
		if err != nil {
			return nil, nil, err
		}
		for _, ex := range resp.GetExecutions() {
			out = append(out, s.summary(ex))
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 || len(out) >= limit {
			break
		}
	}
	// Visibility orders open workflows by start and closed ones by close
	// time; within a page, callers want the newest requests first.
	slices.SortStableFunc(out, func(a, b Summary) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, token, nil
}

// request is the request object as far as visibility knows it.
func (sum Summary) request() workflows.Request {
	return workflows.Request{
		ID: sum.ID, Status: sum.Status, Role: sum.Role, Requester: sum.Requester, RequesterID: sum.RequesterID,
		CreatedAt: sum.CreatedAt, EndedAt: sum.EndedAt, Decisions: []workflows.Decision{}, Approvers: []workflows.Approver{},
	}
}

func (s *Server) summary(ex *workflowpb.WorkflowExecutionInfo) Summary {
	attrs := rawAttrs(ex.GetSearchAttributes().GetIndexedFields())
	sum := Summary{
		ID:          ex.GetExecution().GetWorkflowId(),
		Status:      statusOf(attrs.keyword(workflows.SearchStatus), ex.GetStatus()),
		Role:        attrs.keyword(workflows.SearchRole),
		RequesterID: attrs.keyword(workflows.SearchRequesterID),
		CreatedAt:   ex.GetStartTime().AsTime().UTC(),
	}
	if u, ok := s.policies.Current().UserByID(sum.RequesterID); ok {
		sum.Requester = u.UPN
	}
	if ex.GetCloseTime() != nil {
		t := ex.GetCloseTime().AsTime().UTC()
		sum.EndedAt = &t
	}
	sum.view = s.memoView(ex, sum)
	return sum
}

// memoView is the view a listed request's workflow kept in its memo, or
// nil for the row to ask its workflow instead:
//   - no view kept (a request started before workflows kept one);
//   - a memo its own run did not write: a start through Temporal may carry
//     any memo, but not the run id Temporal then gives the run (see
//     workflows.MemoRun);
//   - a view behind the status visibility holds (both come from the same
//     visibility record, so they differ only for a workflow ended from
//     outside, which never wrote its last view, or while an activation
//     settles).
func (s *Server) memoView(ex *workflowpb.WorkflowExecutionInfo, sum Summary) *workflows.Request {
	fields := ex.GetMemo().GetFields()
	p := fields[workflows.MemoRequest]
	if p == nil {
		return nil
	}
	dc := converter.GetDefaultDataConverter()
	var run string
	if err := dc.FromPayload(fields[workflows.MemoRun], &run); err != nil || run == "" || run != ex.GetExecution().GetRunId() {
		s.log.Warn("list: request's memo was not written by its run; asking its workflow", "access_request_id", sum.ID)
		return nil
	}
	var v workflows.Request
	if err := dc.FromPayload(p, &v); err != nil {
		s.log.Warn("list: request's memo not read; asking its workflow", "access_request_id", sum.ID, "error", err)
		return nil
	}
	if v.Status != sum.Status || v.ID != sum.ID {
		return nil
	}
	return &v
}
