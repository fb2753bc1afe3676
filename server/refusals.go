package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// refused are the answers that turn a caller away: a bad token, a caller
// not allowed to act, an action that does not fit the request's state.
var refused = map[int]bool{http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusConflict: true}

// recordRefusals logs and counts every refused call. A refused update
// leaves nothing in workflow history (its validator rejects it before it
// is written), so this log line and the jitflow_refusals_total series are
// the only record of self-approvals, forged tokens and the like.
func (s *Server) recordRefusals(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		status, detail := refusal(c, err)
		if !refused[status] {
			return err
		}
		attrs := []any{
			"method", c.Request().Method,
			"route", c.Path(),
			"status", status,
			"detail", detail,
			"request_id", httpRequestID(c),
		}
		if id := c.Param("id"); id != "" {
			attrs = append(attrs, "access_request_id", id)
		}
		if id, ok := c.Get(ctxIdentity).(*identity); ok {
			attrs = append(attrs, "caller_id", id.person.ID)
		}
		s.log.Warn("call refused", attrs...)
		if s.metrics != nil {
			s.metrics.Refusals.WithLabelValues(c.Request().Method, c.Path(), strconv.Itoa(status)).Inc()
		}
		return err
	}
}

// refusal is the status and reason of an answer: from the error a handler
// returned, or from what a page handler already wrote.
func refusal(c echo.Context, err error) (int, string) {
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.detail
	case errors.As(err, &he):
		return he.Code, http.StatusText(he.Code)
	case err == nil && c.Response().Committed:
		return c.Response().Status, ""
	}
	return 0, ""
}
