package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/workflows"
)

// maxRetryAfter caps how long a throttled call waits before its retry.
const maxRetryAfter = 5 * time.Second

// maxUnavailable is how many 503s in a row one read takes before the run
// gives up: the server waits a while for the worker before each.
const maxUnavailable = 30

// api calls jitflow's HTTP API with dev tokens. 429 answers, and 503
// answers to reads, are counted and retried after their Retry-After.
type api struct {
	base        string
	http        *http.Client
	throttled   atomic.Int64
	unavailable atomic.Int64
}

func newAPI(base string, conns int) *api {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	return &api{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// statusError is a call answered with an unexpected status.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.method, e.path, e.status, strings.TrimSpace(e.body))
}

// do sends one call and decodes the answer into out when its status is
// want.
func (a *api) do(ctx context.Context, method, path, token, body string, want int, out any) error {
	for busy := 0; ; {
		status, data, retry, err := a.once(ctx, method, path, token, body)
		if err != nil {
			return err
		}
		if status == http.StatusTooManyRequests || (status == http.StatusServiceUnavailable && method == http.MethodGet) {
			// A read that found the worker too busy to answer in time is
			// as safe to repeat as a throttled call.
			counter := &a.throttled
			if status == http.StatusServiceUnavailable {
				if busy++; busy > maxUnavailable {
					return &statusError{method, path, status, string(data)}
				}
				counter = &a.unavailable
			}
			counter.Add(1)
			if err := sleep(ctx, retry); err != nil {
				return err
			}
			continue
		}
		if status != want {
			return &statusError{method, path, status, string(data)}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
		return nil
	}
}

func (a *api) once(ctx context.Context, method, path, token, body string) (status int, data []byte, retry time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	retry = 100 * time.Millisecond
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retry = min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	return resp.StatusCode, data, retry, nil
}

// token gets a dev token for user from GET /dev/token.
func (a *api) token(ctx context.Context, user string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := a.do(ctx, http.MethodGet, "/dev/token?user="+url.QueryEscape(user), "", "", http.StatusOK, &out); err != nil {
		return "", fmt.Errorf("dev token for %q (the target must be a dev stack that knows the user): %w", user, err)
	}
	return out.Token, nil
}

func (a *api) create(ctx context.Context, token, role string, d time.Duration) (workflows.Request, error) {
	body, _ := json.Marshal(map[string]string{"role": role, "duration": d.String(), "justification": "jitflow bench"})
	var req workflows.Request
	err := a.do(ctx, http.MethodPost, "/api/v1/requests", token, string(body), http.StatusCreated, &req)
	return req, err
}

// action posts approve (with a comment) or revoke (with a reason) and
// returns the request as the answer shows it.
func (a *api) action(ctx context.Context, token, id, action string) (workflows.Request, error) {
	body := `{"comment":"jitflow bench"}`
	if action == "revoke" {
		body = `{"reason":"jitflow bench"}`
	}
	var req workflows.Request
	err := a.do(ctx, http.MethodPost, "/api/v1/requests/"+url.PathEscape(id)+"/"+action, token, body, http.StatusOK, &req)
	return req, err
}

func (a *api) get(ctx context.Context, token, id string) (workflows.Request, error) {
	var req workflows.Request
	err := a.do(ctx, http.MethodGet, "/api/v1/requests/"+url.PathEscape(id), token, "", http.StatusOK, &req)
	return req, err
}

// list gets one page of requests with the status: how many it holds, and
// how many of them are shown as submitted because their workflow did not
// answer in time.
func (a *api) list(ctx context.Context, token string, status workflows.Status) (n, submitted int, err error) {
	var out struct {
		Requests []workflows.Request `json:"requests"`
	}
	err = a.do(ctx, http.MethodGet, "/api/v1/requests?status="+url.QueryEscape(string(status)), token, "", http.StatusOK, &out)
	for _, req := range out.Requests {
		if req.View == apitypes.ViewSubmitted {
			submitted++
		}
	}
	return len(out.Requests), submitted, err
}

// awaitStatus polls the request every interval (0: back to back) until it
// has the status; a terminal status other than it is an error.
func (a *api) awaitStatus(ctx context.Context, token, id string, want workflows.Status, interval time.Duration) (workflows.Request, error) {
	return a.poll(ctx, token, id, interval, func(req workflows.Request) (bool, error) {
		switch {
		case req.Status == want:
			return true, nil
		case req.Status.Terminal():
			return true, fmt.Errorf("request %s ended %s (%s), want %s", id, req.Status, req.Reason, want)
		}
		return false, nil
	})
}

// poll GETs request id every interval until done says so (or fails), and
// returns the request as last read.
func (a *api) poll(ctx context.Context, token, id string, interval time.Duration, done func(workflows.Request) (bool, error)) (workflows.Request, error) {
	for {
		req, err := a.get(ctx, token, id)
		if err != nil {
			return req, err
		}
		if ok, err := done(req); ok || err != nil {
			return req, err
		}
		if err := sleep(ctx, interval); err != nil {
			return req, err
		}
	}
}

// RemovalsFromURL reads a Graph emulator's GET /_emulator/removals.
func RemovalsFromURL(graphURL string) func(context.Context) ([]graphemu.Removal, error) {
	return emulatorList[graphemu.Removal](graphURL, "/_emulator/removals", " (is --graph-url a jitflow Graph emulator?)")
}

// emulatorList reads the value list a Graph emulator serves at path; hint
// follows the status of an answer other than 200.
func emulatorList[T any](graphURL, path, hint string) func(context.Context) ([]T, error) {
	c := &http.Client{Timeout: time.Minute}
	u := strings.TrimRight(graphURL, "/") + path
	return func(ctx context.Context) ([]T, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d%s: %s", u, resp.StatusCode, hint, bytes.TrimSpace(data))
		}
		var out struct {
			Value []T `json:"value"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, fmt.Errorf("GET %s: %w", u, err)
		}
		return out.Value, nil
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
