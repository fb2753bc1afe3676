package api

// Bodies the API accepts. A string field is single-line unless its tag
// says `text:"multiline"` (the server's decoder refuses control characters
// by that tag). Empty fields are left out when sent.

// CreateBody is the body of POST /api/v1/requests. Duration is a Go or
// ISO-8601 duration ("1h", "PT1H"); empty asks for the role's default.
type CreateBody struct {
	Role          string `json:"role"`
	Duration      string `json:"duration,omitempty"`
	Justification string `json:"justification,omitempty" text:"multiline"`
	Ticket        string `json:"ticket,omitempty"`
}

// DecideBody is the body of the approve and deny calls.
type DecideBody struct {
	Comment string `json:"comment,omitempty" text:"multiline"`
}

// CancelBody is the body of the cancel call: an empty object.
type CancelBody struct{}

// RevokeBody is the body of the revoke call.
type RevokeBody struct {
	Reason string `json:"reason,omitempty" text:"multiline"`
}

// ExtendBody is the body of the extend call: the grant is to last Duration
// more than it does now.
type ExtendBody struct {
	Duration      string `json:"duration"`
	Justification string `json:"justification,omitempty" text:"multiline"`
}

// ProblemContentType is the media type of every error answer (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document. Field and RequestID are extension
// members: the request field at fault, and the request an answer refers to
// (the existing one on a 409 conflict).
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}
