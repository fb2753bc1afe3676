package cli

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/jitflow/jitflow/client"
)

// Exit codes the API commands end with, for scripts.
const (
	ExitOK          = 0
	ExitError       = 1 // anything else
	ExitUsage       = 2 // bad flags or arguments (the API's 400 included)
	ExitNotFound    = 3 // 404: no such request
	ExitNotAllowed  = 4 // sign-in failed, 401, 403
	ExitConflict    = 5 // 409: wrong state (already decided, not active, ...)
	ExitPolicy      = 6 // 422: the role's policy refuses it
	ExitRateLimited = 7 // 429
	ExitUnavailable = 8 // the API cannot be reached or answers 502/503/504
)

// exitCodesHelp documents the exit codes in `jitflow help`.
const exitCodesHelp = `Exit codes of the API commands (request, approve, deny, cancel, revoke,
list, show, audit):
  0  ok
  1  any other error; also "request --wait" or "approve --wait" when the
     request ended without becoming active (denied, timed out, ...)
  2  usage error: bad flags or arguments, or a request the API calls malformed (400)
  3  not found (404)
  4  not allowed: sign-in failed, the API refused the credentials (401), or
     the action is not permitted (403)
  5  conflict or wrong state (409), e.g. already decided, not active
  6  refused by the role's policy (422), e.g. duration over the maximum
  7  rate limited (429)
  8  the API is unavailable (no connection, 502, 503, 504)`

// ExitCode is the exit code for an error a command returned.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var usage *usageError
	if errors.As(err, &usage) {
		return ExitUsage
	}
	// An API out of reach is that, whatever the call was for; after it, a
	// failed sign-in is one even when a dev token's 404 (no such user) is
	// behind it, not a missing request.
	if errors.Is(err, client.ErrUnavailable) {
		return ExitUnavailable
	}
	if errors.Is(err, client.ErrSignIn) {
		return ExitNotAllowed
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case http.StatusBadRequest:
			return ExitUsage
		case http.StatusNotFound:
			return ExitNotFound
		case http.StatusUnauthorized, http.StatusForbidden:
			return ExitNotAllowed
		case http.StatusConflict:
			return ExitConflict
		case http.StatusUnprocessableEntity:
			return ExitPolicy
		case http.StatusTooManyRequests:
			return ExitRateLimited
		}
	}
	return ExitError
}

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// InvalidInput marks err as a mistake in what the command was given (a
// flag, an argument, a file it names): the command exits with ExitUsage.
func InvalidInput(err error) error { return &usageError{err} }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}
