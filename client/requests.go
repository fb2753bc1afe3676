package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jitflow/jitflow/api"
)

const requestsPath = "/api/v1/requests"

func requestPath(id, action string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("request id is empty; give an id such as req-0123abcd-...")
	}
	p := requestsPath + "/" + url.PathEscape(id)
	if action != "" {
		p += "/" + action
	}
	return p, nil
}

// Create submits a new request (POST /api/v1/requests).
func (c *Client) Create(ctx context.Context, in CreateInput) (Request, error) {
	var h http.Header
	if in.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
	}
	body := api.CreateBody{Role: in.Role, Duration: in.Duration, Justification: in.Justification, Ticket: in.Ticket}
	return c.requestCall(ctx, call{method: http.MethodPost, path: requestsPath, body: body, header: h, auth: true})
}

// Get reads one request (GET /api/v1/requests/{id}).
func (c *Client) Get(ctx context.Context, id string) (Request, error) {
	return c.action(ctx, http.MethodGet, id, "", nil)
}

// Approve records the caller's approval of the request's current stage.
func (c *Client) Approve(ctx context.Context, id, comment string) (Request, error) {
	return c.action(ctx, http.MethodPost, id, "approve", api.DecideBody{Comment: comment})
}

// Deny records the caller's denial, which ends the request.
func (c *Client) Deny(ctx context.Context, id, comment string) (Request, error) {
	return c.action(ctx, http.MethodPost, id, "deny", api.DecideBody{Comment: comment})
}

// Cancel withdraws the caller's own pending request.
func (c *Client) Cancel(ctx context.Context, id string) (Request, error) {
	return c.action(ctx, http.MethodPost, id, "cancel", api.CancelBody{})
}

// Revoke ends an active grant now; reason is recorded in the audit trail.
func (c *Client) Revoke(ctx context.Context, id, reason string) (Request, error) {
	return c.action(ctx, http.MethodPost, id, "revoke", api.RevokeBody{Reason: reason})
}

// Extend asks for more time on an active grant. It goes through the role's
// approval again unless the policy grants short extensions at once; the
// answer shows the extension pending, or the new expiry.
func (c *Client) Extend(ctx context.Context, id, duration, justification string) (Request, error) {
	return c.action(ctx, http.MethodPost, id, "extend", api.ExtendBody{Duration: duration, Justification: justification})
}

func (c *Client) action(ctx context.Context, method, id, action string, body any) (Request, error) {
	p, err := requestPath(id, action)
	if err != nil {
		return Request{}, err
	}
	return c.requestCall(ctx, call{method: method, path: p, body: body, auth: true})
}

func (c *Client) requestCall(ctx context.Context, cl call) (Request, error) {
	var r Request
	raw, err := c.do(ctx, cl, &r)
	if err != nil {
		return Request{}, err
	}
	r.Raw = raw
	return r, nil
}

// Audit reads a request's audit trail (GET /api/v1/requests/{id}/audit).
func (c *Client) Audit(ctx context.Context, id string) (Audit, error) {
	p, err := requestPath(id, "audit")
	if err != nil {
		return Audit{}, err
	}
	var a Audit
	raw, err := c.do(ctx, call{method: http.MethodGet, path: p, auth: true}, &a)
	if err != nil {
		return Audit{}, err
	}
	a.Raw = raw
	return a, nil
}

// List reads one page of the requests the caller may see, newest first.
func (c *Client) List(ctx context.Context, opts ListOptions) (ListPage, error) {
	var page ListPage
	raw, err := c.do(ctx, call{method: http.MethodGet, path: requestsPath, query: opts.query(), auth: true}, &page)
	if err != nil {
		return ListPage{}, err
	}
	page.Raw = raw
	return page, nil
}

// All lists every request that matches opts, following page tokens; it
// stops at the first error, which it yields.
func (c *Client) All(ctx context.Context, opts ListOptions) iter.Seq2[Request, error] {
	return func(yield func(Request, error) bool) {
		for {
			page, err := c.List(ctx, opts)
			if err != nil {
				yield(Request{}, err)
				return
			}
			for _, r := range page.Requests {
				if !yield(r, nil) {
					return
				}
			}
			if page.NextPageToken == "" || page.NextPageToken == opts.PageToken {
				return
			}
			opts.PageToken = page.NextPageToken
		}
	}
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", string(o.Status))
	set("role", o.Role)
	set("requester", o.Requester)
	if !o.CreatedAfter.IsZero() {
		q.Set("created_after", o.CreatedAfter.UTC().Format(time.RFC3339))
	}
	if !o.CreatedBefore.IsZero() {
		q.Set("created_before", o.CreatedBefore.UTC().Format(time.RFC3339))
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	set("page_token", o.PageToken)
	return q
}

// DevToken asks a dev stack's token issuer (GET /dev/token?user=NAME) for
// a token of a dev user. Production APIs do not serve it.
func (c *Client) DevToken(ctx context.Context, user string) (string, error) {
	return c.devToken(ctx, url.Values{"user": {user}})
}

func (c *Client) devToken(ctx context.Context, q url.Values) (string, error) {
	user := q.Get("user")
	var out struct {
		Token string `json:"token"`
	}
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/dev/token", query: q}, &out)
	if err != nil {
		return "", fmt.Errorf("dev token for %q from %s/dev/token (only jitflow dev serves it): %w", user, c.base, err)
	}
	if out.Token == "" {
		return "", fmt.Errorf("dev token for %q: the answer has no token", user)
	}
	return out.Token, nil
}
