package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jitflow/jitflow/api"
)

// ErrUnavailable is matched (errors.Is) by every failure that says the API
// cannot serve right now: no connection, or a 502, 503 or 504 answer.
var ErrUnavailable = errors.New("jitflow API unavailable")

// ErrSignIn is matched (errors.Is) when the credentials could not give a
// token, so no call was made.
var ErrSignIn = errors.New("sign-in failed")

// Error is an error answer of the API: its RFC 9457 problem document, or
// what could be made of a body that was not one.
type Error struct {
	Status    int    // HTTP status
	Type      string // problem type URI, usually about:blank
	Title     string
	Detail    string // what went wrong, for people
	Instance  string
	Field     string // the request field at fault, if one is
	RequestID string // the request an answer refers to (the existing one on a 409)
	// RetryAfter is how long the API asked to wait (429, 503); 0 if it did not say.
	RetryAfter time.Duration
	// Challenge is the WWW-Authenticate header of a 401.
	Challenge string
}

func (e *Error) Error() string {
	detail := e.Detail
	if detail == "" {
		detail = e.Title
	}
	if e.Status == http.StatusTooManyRequests && e.RetryAfter > 0 {
		return fmt.Sprintf("%s (HTTP %d; retry after %s)", detail, e.Status, e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("%s (HTTP %d)", detail, e.Status)
}

// Is makes errors.Is(err, ErrUnavailable) true for 502, 503 and 504.
func (e *Error) Is(target error) bool {
	return target == ErrUnavailable && e.unavailable()
}

func (e *Error) unavailable() bool {
	switch e.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Claims returns the claims a 401's challenge asks the next token to carry
// (Entra's claims challenge, decoded to JSON), or "" when it asks none.
func (e *Error) Claims() string {
	enc := authParam(e.Challenge, "claims")
	if enc == "" {
		return ""
	}
	for _, dec := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := dec.DecodeString(enc); err == nil && json.Valid(b) {
			return string(b)
		}
	}
	return ""
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// newError reads an error answer. A body that is not a problem document (a
// proxy's HTML page) still gives a useful detail: its first line.
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{
		Status:     resp.StatusCode,
		Title:      http.StatusText(resp.StatusCode),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After")),
		Challenge:  resp.Header.Get("WWW-Authenticate"),
	}
	var p api.Problem
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if (mt == api.ProblemContentType || mt == "application/json") && json.Unmarshal(body, &p) == nil && p.Detail+p.Title != "" {
		e.Type, e.Detail, e.Instance, e.Field, e.RequestID = p.Type, p.Detail, p.Instance, p.Field, p.RequestID
		if p.Title != "" {
			e.Title = p.Title
		}
		return e
	}
	e.Detail = firstLine(string(body))
	if e.Detail == "" {
		e.Detail = e.Title
	}
	return e
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	const max = 200
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// authParam finds one parameter of a WWW-Authenticate header such as
// `Bearer realm="", error="insufficient_claims", claims="eyJ..."`.
func authParam(header, name string) string {
	s := header
	for s != "" {
		i := strings.IndexByte(s, '=')
		if i < 0 {
			return ""
		}
		key := s[:i]
		if j := strings.LastIndexAny(key, " ,"); j >= 0 {
			key = key[j+1:]
		}
		val, rest := authValue(s[i+1:])
		if strings.EqualFold(key, name) {
			return val
		}
		s = rest
	}
	return ""
}

// authValue reads a token or quoted string and returns it and what follows.
func authValue(s string) (string, string) {
	if !strings.HasPrefix(s, `"`) {
		if i := strings.IndexByte(s, ','); i >= 0 {
			return strings.TrimSpace(s[:i]), s[i+1:]
		}
		return strings.TrimSpace(s), ""
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}
