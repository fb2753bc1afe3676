package graph

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"go.temporal.io/sdk/temporal"
)

// Graph error codes the client branches on.
const (
	CodeRoleAssignmentExists       = "RoleAssignmentExists"
	CodeRoleAssignmentDoesNotExist = "RoleAssignmentDoesNotExist"
	// CodeActiveDurationTooShort: Entra refuses to remove an assignment in
	// its first minutes; a later attempt succeeds, so it is retried.
	CodeActiveDurationTooShort = "ActiveDurationTooShort"
)

// Error is a failed Graph call with what Graph said about it. It holds
// copies of the SDK error's fields, never the SDK error itself: an
// ODataError without a message panics in Error(), and Temporal calls
// Error() on every error in a chain.
type Error struct {
	Op         string        // what jitflow was doing: "assign", "remove", "list instances"
	Status     int           // HTTP status; 0 when no answer arrived
	Code       string        // Graph's error code, e.g. RoleAssignmentExists
	Message    string        // Graph's error message
	RetryAfter time.Duration // Retry-After of the last answer, when given
	RequestID  string        // Graph's request-id, for Microsoft support
	Err        error         // the transport error, when no answer arrived

	retryAfterHeader string // as sent, so the message shows even "0"
}

// Error says what failed and what Graph answered.
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("graph %s: %v", e.Op, e.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "graph %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	b.WriteString(": " + e.Message)
	var notes []string
	if e.retryAfterHeader != "" {
		notes = append(notes, "Retry-After "+e.retryAfterHeader)
	}
	if e.RequestID != "" {
		notes = append(notes, "request-id "+e.RequestID)
	}
	if len(notes) > 0 {
		b.WriteString(" (" + strings.Join(notes, ", ") + ")")
	}
	return b.String()
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying again later can succeed: throttling,
// server trouble, lost answers, token trouble, and Entra's minimum active
// time. Other 4xx answers (bad ids, unknown role, policy, permissions) will
// not change by retrying.
func (e *Error) Retryable() bool {
	switch {
	case e.Status == 0, e.Status >= 500, e.Code == CodeActiveDurationTooShort:
		return true
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusConflict, http.StatusLocked, http.StatusTooManyRequests:
		return true
	}
	return false
}

// classify turns the error into what the activity returns: a plain error
// Temporal retries (the activity turns one with Retry-After into a retry at
// that time), or a non-retryable ErrRejected whose message holds all
// the details (no cause, which would only repeat them).
func (e *Error) classify() error {
	if e.Retryable() {
		return e
	}
	return temporal.NewNonRetryableApplicationError(e.Error(), ErrRejected, nil)
}

// newError reads status, code, message and headers out of an SDK error.
func newError(op string, err error) *Error {
	ge := &Error{Op: op}
	var headers *abstractions.ResponseHeaders
	var odata *odataerrors.ODataError
	var api abstractions.ApiErrorable
	switch {
	case errors.As(err, &odata):
		ge.Status, headers = odata.ResponseStatusCode, odata.GetResponseHeaders()
		if main := odata.GetErrorEscaped(); main != nil {
			ge.Code, ge.Message = deref(main.GetCode()), deref(main.GetMessage())
			if inner := main.GetInnerError(); inner != nil {
				ge.RequestID = deref(inner.GetRequestId())
			}
		}
	case errors.As(err, &api):
		// Not an OData body (a proxy's page, say): the SDK's ApiError
		// carries its own safe message.
		ge.Status, headers, ge.Message = api.GetStatusCode(), api.GetResponseHeaders(), err.Error()
	default:
		ge.Err = err
		return ge
	}
	if ge.Message == "" {
		ge.Message = "Graph sent no error message"
	}
	if headers != nil {
		if ge.RequestID == "" {
			ge.RequestID = firstHeader(headers, "request-id")
		}
		ge.retryAfterHeader = firstHeader(headers, "retry-after")
		ge.RetryAfter, _ = parseRetryAfter(ge.retryAfterHeader, time.Now())
	}
	return ge
}

func firstHeader(h *abstractions.ResponseHeaders, key string) string {
	if v := h.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date; ok is
// false when there is none or it cannot be read.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
