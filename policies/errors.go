package policies

import (
	"fmt"
	"strconv"
)

// FieldError is one problem in a policy file. Parse joins all of them
// (errors.Join), ordered by position; errors.As finds the first.
type FieldError struct {
	File   string
	Line   int    // 1-based; 0 when the YAML parser gave none
	Column int    // 1-based; 0 when unknown
	Path   string // e.g. "roles[1].duration.max"; empty for the whole file
	Msg    string // what is wrong and what is accepted
}

// Error reads "file:line: path: message".
func (e *FieldError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Msg
}

// ErrorKind says how the API should answer a RequestError.
type ErrorKind int

// The kinds of RequestError.
const (
	Invalid     ErrorKind = iota // the request breaks the role's rules (HTTP 422)
	NotEligible                  // the caller may not request this role (HTTP 403)
)

// String names the kind.
func (k ErrorKind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotEligible:
		return "not eligible"
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// RequestError says why a request breaks the policy.
type RequestError struct {
	Kind   ErrorKind // NotEligible (API answers 403) or Invalid (422)
	Field  string    // "role", "duration", "justification", "ticket"
	Detail string    // human readable: what was wrong and what is accepted
}

// Error reads "field: detail".
func (e *RequestError) Error() string {
	return e.Field + ": " + e.Detail
}

func invalid(field, format string, args ...any) *RequestError {
	return &RequestError{Kind: Invalid, Field: field, Detail: fmt.Sprintf(format, args...)}
}
