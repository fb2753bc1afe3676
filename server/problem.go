package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/api"
)

// ProblemContentType is the media type of every error answer (RFC 9457).
const ProblemContentType = api.ProblemContentType

// Problem is an RFC 9457 problem document (api.Problem).
type Problem = api.Problem

// apiError is an error a handler returns to be answered as a problem.
type apiError struct {
	status    int
	detail    string
	field     string
	requestID string
	header    http.Header
	cause     error // logged, never shown
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.detail, e.cause)
	}
	return fmt.Sprintf("%d %s", e.status, e.detail)
}

func (e *apiError) Unwrap() error { return e.cause }

func problemf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, detail: fmt.Sprintf(format, args...)}
}

func fieldError(status int, field, format string, args ...any) *apiError {
	return &apiError{status: status, field: field, detail: fmt.Sprintf(format, args...)}
}

// handleError is the Echo HTTPErrorHandler: whatever went wrong (a handler's
// apiError, the router's 404/405, a body over the limit, a recovered panic),
// the client gets a problem document.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := s.toAPIError(err, c)
	if ae.status >= http.StatusInternalServerError {
		level := slog.LevelError
		if ae.status == http.StatusServiceUnavailable {
			level = slog.LevelWarn // a dependency is down, not a bug here
		}
		s.log.Log(c.Request().Context(), level, "request failed", "method", c.Request().Method,
			"path", logPath(c.Request().URL.Path), "status", ae.status, "request_id", httpRequestID(c), "error", err)
	}
	for k, vs := range ae.header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if err := writeProblem(c, ae); err != nil {
		s.log.Error("write problem", "request_id", httpRequestID(c), "error", err)
	}
}

func (s *Server) toAPIError(err error, c echo.Context) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return problemf(http.StatusRequestEntityTooLarge, "request body is over the limit of %d bytes", tooBig.Limit)
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromHTTPError(he, c)
	}
	return &apiError{status: http.StatusInternalServerError, detail: "internal error; quote request id " + httpRequestID(c), cause: err}
}

func fromHTTPError(he *echo.HTTPError, c echo.Context) *apiError {
	r := c.Request()
	switch he.Code {
	case http.StatusNotFound:
		return problemf(http.StatusNotFound, "no such resource: %s", r.URL.Path)
	case http.StatusMethodNotAllowed:
		// The router has already set the Allow header.
		return problemf(http.StatusMethodNotAllowed, "method %s is not allowed on %s; allowed: %s",
			r.Method, r.URL.Path, c.Response().Header().Get(echo.HeaderAllow))
	}
	detail := http.StatusText(he.Code)
	if msg, ok := he.Message.(string); ok && msg != "" {
		detail = msg
	}
	return &apiError{status: he.Code, detail: detail, cause: he.Internal}
}

func writeProblem(c echo.Context, ae *apiError) error {
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(ae.status),
		Status:    ae.status,
		Detail:    ae.detail,
		Instance:  c.Request().URL.Path,
		Field:     ae.field,
		RequestID: ae.requestID,
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
		return c.NoContent(ae.status)
	}
	return c.Blob(ae.status, ProblemContentType, body)
}
