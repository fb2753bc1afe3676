package crashtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jitflow/jitflow/client"
)

// users calls one jitflow API as the test's users, with tokens from the
// dev issuer at devURL. The issuer keeps its key in the data dir, so a
// token stays good across restarts.
type users struct {
	api  *client.Client
	dev  *client.Client
	mu   sync.Mutex
	byID map[string]*client.Client
}

func newUsers(t *testing.T, devURL, apiURL string) *users {
	t.Helper()
	hc := &http.Client{Timeout: 15 * time.Second}
	dev, err := client.New(client.Config{BaseURL: devURL, HTTPClient: hc, UserAgent: "jitflow-crashtest"})
	if err != nil {
		t.Fatal(err)
	}
	api, err := client.New(client.Config{BaseURL: apiURL, HTTPClient: hc, UserAgent: "jitflow-crashtest"})
	if err != nil {
		t.Fatal(err)
	}
	return &users{api: api, dev: dev, byID: map[string]*client.Client{}}
}

// as is the API as user.
func (u *users) as(user string) *client.Client {
	u.mu.Lock()
	defer u.mu.Unlock()
	c, ok := u.byID[user]
	if !ok {
		c = u.api.WithCredentials(&client.DevUser{Client: u.dev, Name: user})
		u.byID[user] = c
	}
	return c
}

// unavailable reports whether err says the API could not answer (the
// process is down or starting): the call is tried again later. Whether a
// call cut off by a kill took effect is unknown until then.
func unavailable(err error) bool {
	var apiErr *client.Error
	return errors.Is(err, client.ErrUnavailable) || !errors.As(err, &apiErr)
}

// status is err's HTTP status, or 0.
func status(err error) int {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		return apiErr.Status
	}
	return 0
}

// pause waits d or until ctx ends, and reports whether ctx is still live.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// waitFor reads the request until cond holds, the API being down or not,
// until ctx ends.
func waitFor(ctx context.Context, c *client.Client, id string, cond func(client.Request) bool) (client.Request, error) {
	var (
		last    client.Request
		lastErr error
	)
	for {
		r, err := c.Get(ctx, id)
		switch {
		case err == nil && cond(r):
			return r, nil
		case err == nil:
			last, lastErr = r, nil
		case !unavailable(err):
			return r, err
		case ctx.Err() == nil:
			lastErr = err
		}
		if !pause(ctx, 150*time.Millisecond) {
			return last, fmt.Errorf("%w; last seen: status %q, reason %q, last error %v", ctx.Err(), last.Status, last.Reason, lastErr)
		}
	}
}
