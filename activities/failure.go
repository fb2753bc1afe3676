package activities

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// FailureText reduces an activity error to what went wrong, for people:
// the activity's own message, without Temporal's wrapping.
func FailureText(err error) string {
	var app *temporal.ApplicationError
	hasApp := errors.As(err, &app)
	var timeout *temporal.TimeoutError
	if errors.As(err, &timeout) {
		text := fmt.Sprintf("gave up after a %s timeout", timeout.TimeoutType())
		if hasApp {
			text += "; last error: " + app.Message()
		}
		return text
	}
	if hasApp {
		return app.Message()
	}
	var act *temporal.ActivityError
	if errors.As(err, &act) && errors.Unwrap(act) != nil {
		return errors.Unwrap(act).Error()
	}
	return err.Error()
}
