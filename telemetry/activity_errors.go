package telemetry

import (
	"errors"
	"regexp"
	"strconv"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/graph"
)

// graphMessage reads status and code out of the message of a permanent
// Graph refusal, which carries the GraphError's text but not the error
// itself ("graph assign: HTTP 400 InvalidRequest: ...").
var graphMessage = regexp.MustCompile(`graph [a-z ]+: HTTP (\d{3})(?: ([A-Za-z0-9_.]+))?:`)

// Label values when a part of an error is not known.
const (
	labelNone      = "none"
	labelRetryable = "retryable"
)

// observeActivityError counts one failed activity attempt.
func (m *Metrics) observeActivityError(activityType string, args []any, err error) {
	if status, code, ok := graphFailure(err); ok {
		m.GraphErrors.WithLabelValues(activityType, status, code).Inc()
		return
	}
	for _, a := range args {
		if in, ok := a.(activities.EmailInput); ok {
			m.MailFailures.WithLabelValues(in.Kind, mailReason(err)).Inc()
			return
		}
	}
}

// graphFailure finds the Graph answer behind an activity error: the
// provider's GraphError when it is in the chain, or the text of a
// permanent refusal. A Graph call that got no answer has status "none".
func graphFailure(err error) (status, code string, ok bool) {
	var ge *graph.Error
	if errors.As(err, &ge) {
		status = labelNone
		if ge.Status != 0 {
			status = strconv.Itoa(ge.Status)
		}
		return status, orNone(ge.Code), true
	}
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return "", "", false
	}
	if m := graphMessage.FindStringSubmatch(app.Message()); m != nil {
		return m[1], orNone(m[2]), true
	}
	if app.Type() == graph.ErrRejected {
		return labelNone, labelNone, true
	}
	return "", "", false
}

// mailReason is the application error type of a permanent mail failure
// (MailRejected, BadEmail), or "retryable".
func mailReason(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() && app.Type() != "" {
		return app.Type()
	}
	return labelRetryable
}

func orNone(s string) string {
	if s == "" {
		return labelNone
	}
	return s
}
