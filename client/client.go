// Package client is a Go client for jitflow's HTTP API: typed requests and
// answers, problem documents as *Error values, pagination, waiting for a
// request to settle, and the credentials the API accepts (Entra ID tokens
// through azidentity, fixed tokens, dev tokens).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds what is read of a successful answer.
const maxBody = 32 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is where the API is, e.g. "http://127.0.0.1:8080".
	BaseURL string
	// Credentials give the bearer token of each call; nil sends none.
	Credentials Credentials
	// HTTPClient defaults to a client with a one-minute timeout.
	HTTPClient *http.Client
	// UserAgent names the caller in the API's logs.
	UserAgent string
}

// Client calls the API. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	creds Credentials
	http  *http.Client
	agent string
}

// New checks the configuration and builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("API URL %q: give an http or https URL such as http://127.0.0.1:8080", cfg.BaseURL)
	}
	c := &Client{base: base, creds: cfg.Credentials, http: cfg.HTTPClient, agent: cfg.UserAgent}
	if c.http == nil {
		c.http = &http.Client{Timeout: time.Minute}
	}
	if c.agent == "" {
		c.agent = "jitflow-client"
	}
	return c, nil
}

// WithCredentials is a copy of c that signs its calls with creds.
func (c *Client) WithCredentials(creds Credentials) *Client {
	cp := *c
	cp.creds = creds
	return &cp
}

// BaseURL is the API's base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// call is one API call.
type call struct {
	method string
	path   string // escaped, from the API root
	query  url.Values
	body   any // marshalled to JSON when not nil
	header http.Header
	auth   bool
}

// do runs a call and decodes a 2xx answer into out (when not nil), giving
// back the raw body. A 401 with a claims challenge is retried once with a
// token that satisfies it, when the credentials can get one: the API
// refused before acting, so a retry is safe for every call.
func (c *Client) do(ctx context.Context, cl call, out any) (json.RawMessage, error) {
	raw, err := c.once(ctx, cl, "", out)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Claims() == "" {
		return raw, err
	}
	cc, ok := c.creds.(ClaimsCredentials)
	if !ok || !cl.auth {
		return raw, err
	}
	claims := apiErr.Claims()
	tok, terr := cc.TokenWithClaims(ctx, claims)
	if terr != nil {
		// Keep the API's 401 in the chain: it says what is missing.
		return nil, errors.Join(err, fmt.Errorf("%w: sign in again with the claims the API asks for (%s): %w", ErrSignIn, claims, terr))
	}
	return c.once(ctx, cl, tok, out)
}

// once runs a call; token, when set, is sent instead of the credentials'.
func (c *Client) once(ctx context.Context, cl call, token string, out any) (json.RawMessage, error) {
	req, err := c.newRequest(ctx, cl, token)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the method and URL
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrUnavailable, cl.method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, newError(resp, body)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: reading the answer: %w", ErrUnavailable, cl.method, req.URL.Redacted(), err)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, fmt.Errorf("%s %s: the answer is not what the API sends: %w", cl.method, req.URL.Redacted(), err)
		}
	}
	return body, nil
}

func (c *Client) newRequest(ctx context.Context, cl call, token string) (*http.Request, error) {
	target := c.base.String() + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return nil, fmt.Errorf("encode the request body: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range cl.header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.agent)
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.auth && token == "" && c.creds != nil {
		if token, err = c.creds.Token(ctx); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSignIn, err)
		}
	}
	if cl.auth && token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}
