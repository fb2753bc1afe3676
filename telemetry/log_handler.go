package telemetry

import (
	"context"
	"log/slog"
	"slices"
	"strings"
)

// sdkWorkflowIDKey is the key the Temporal SDK logs workflow ids under.
const sdkWorkflowIDKey = "WorkflowID"

// requestPrefix starts every access request id (and so its workflow id).
const requestPrefix = "req-"

// WithRequestID wraps the handler of the Temporal SDK's logger: a line the
// SDK logs about a request's workflow (it names it as WorkflowID) also gets
// request_id, the key jitflow's own lines use, so one filter finds every
// line about a request.
func WithRequestID(h slog.Handler) slog.Handler {
	return requestIDHandler{next: h}
}

type requestIDHandler struct {
	next slog.Handler
	// named is set once an attribute added with WithAttrs named the request.
	named bool
}

func (h requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.named {
		return h.next.Handle(ctx, withoutRequestID(r))
	}
	var id string
	r.Attrs(func(a slog.Attr) bool {
		id = requestOf(a)
		return id == ""
	})
	if id != "" {
		r = withoutRequestID(r)
		r.AddAttrs(slog.String(LogKeyRequest, id))
	}
	return h.next.Handle(ctx, r)
}

// withoutRequestID drops a request_id the caller added itself (jitflow's
// workflow names its request on its logger too), so the key appears once.
func withoutRequestID(r slog.Record) slog.Record {
	has := false
	r.Attrs(func(a slog.Attr) bool {
		has = a.Key == LogKeyRequest
		return !has
	})
	if !has {
		return r
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != LogKeyRequest {
			out.AddAttrs(a)
		}
		return true
	})
	return out
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h.named {
		attrs = slices.DeleteFunc(slices.Clone(attrs), func(a slog.Attr) bool { return a.Key == LogKeyRequest })
		return requestIDHandler{next: h.next.WithAttrs(attrs), named: true}
	}
	for _, a := range attrs {
		if id := requestOf(a); id != "" {
			attrs = slices.DeleteFunc(slices.Clone(attrs), func(a slog.Attr) bool { return a.Key == LogKeyRequest })
			attrs = append(attrs, slog.String(LogKeyRequest, id))
			return requestIDHandler{next: h.next.WithAttrs(attrs), named: true}
		}
	}
	return requestIDHandler{next: h.next.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{next: h.next.WithGroup(name), named: h.named}
}

func requestOf(a slog.Attr) string {
	if a.Key != sdkWorkflowIDKey {
		return ""
	}
	if id := a.Value.String(); strings.HasPrefix(id, requestPrefix) {
		return id
	}
	return ""
}
