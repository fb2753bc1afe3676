package server

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/approvals"
)

// HeaderRequestID carries the id that ties a client's call to the server's log.
const HeaderRequestID = "X-Request-Id"

const ctxRequestID = "jitflow.request_id"

// withRequestID adopts the client's X-Request-Id when it is sane, or makes
// one, and echoes it on the answer.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(HeaderRequestID, id)
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

func httpRequestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// apiHeaders marks every answer (JSON and problems alike) as not to be
// stored by caches, since answers name people and requests, and as not to
// be sniffed into another type. A handler that sets its own Cache-Control
// (after this runs) overrides it.
func apiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		return next(c)
	}
}

// logRequests writes one line per request. Only the method, the path (no
// query string, no headers, no body) and ids go in: never tokens or
// justifications.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Answer now so the status logged is the status sent.
			c.Error(err)
		}
		attrs := []any{
			"method", c.Request().Method,
			"path", logPath(c.Request().URL.Path),
			"status", c.Response().Status,
			"latency_ms", float64(time.Since(start).Microseconds()) / 1000,
			"request_id", httpRequestID(c),
		}
		if id, ok := c.Get(ctxIdentity).(*identity); ok {
			attrs = append(attrs, "caller_id", id.person.ID)
		}
		// request_id above is the call's X-Request-Id; the access request
		// a call is about goes beside it.
		if id := c.Param("id"); id != "" {
			attrs = append(attrs, "access_request_id", id)
		}
		s.log.Info("http request", attrs...)
		return nil
	}
}

// logPath is a request path fit for logs: an approval link's token is a
// credential, so it is replaced by a marker.
func logPath(p string) string {
	rest, ok := strings.CutPrefix(p, approvals.PathPrefix)
	if !ok {
		return p
	}
	_, tail, _ := strings.Cut(rest, "/")
	if tail != "" {
		tail = "/" + tail
	}
	return approvals.PathPrefix + "REDACTED" + tail
}

// recoverPanics turns a panic in a handler into a 500 problem instead of a
// dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			stack := make([]byte, 4<<10)
			stack = stack[:runtime.Stack(stack, false)]
			s.log.Error("handler panic", "request_id", httpRequestID(c), "panic", fmt.Sprint(r), "stack", string(stack))
			err = fmt.Errorf("panic: %v", r)
		}()
		return next(c)
	}
}

// newLogger keeps a nil Config.Logger from crashing the server.
func newLogger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
