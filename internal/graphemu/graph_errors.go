package graphemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Graph error codes the emulator answers with.
const (
	CodeRoleAssignmentExists       = "RoleAssignmentExists"
	CodeRoleAssignmentDoesNotExist = "RoleAssignmentDoesNotExist"
	CodePolicyValidationFailed     = "RoleAssignmentRequestPolicyValidationFailed"
	CodeActiveDurationTooShort     = "ActiveDurationTooShort"
	CodeInvalidExpiration          = "InvalidExpiration"
	CodeBadRequest                 = "Request_BadRequest"
	CodeMalformedBody              = "BadRequest"
	CodeResourceNotFound           = "Request_ResourceNotFound"
	CodeUnsupportedQuery           = "Request_UnsupportedQuery"
	CodeUnknownSegment             = "UnknownResource"
	CodeMethodNotAllowed           = "MethodNotAllowed"
	CodeUnsupportedMediaType       = "UnsupportedMediaType"
)

// apiError is a refusal in Graph's terms. Message is never empty: the SDK's
// ODataError.Error() dereferences it without a nil check.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(format, args...)}
}

func invalidExpiration(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, CodeInvalidExpiration, fmt.Sprintf(format, args...)}
}

// policyFailed reports failed rules the way Entra words it, followed by why.
func policyFailed(rule, why string) *apiError {
	return policyRulesFailed([]string{rule}, why)
}

func policyRulesFailed(rules []string, why string) *apiError {
	quoted := make([]string, len(rules))
	for i, r := range rules {
		quoted[i] = fmt.Sprintf("%q", r)
	}
	return &apiError{http.StatusBadRequest, CodePolicyValidationFailed,
		fmt.Sprintf("The following policy rules failed: [%s]. %s", strings.Join(quoted, ","), why)}
}

func notFound(id string) *apiError {
	return &apiError{http.StatusNotFound, CodeResourceNotFound,
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)}
}

// graphErrorBody is Graph's error envelope.
type graphErrorBody struct {
	Error graphErrorDetail `json:"error"`
}

type graphErrorDetail struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError innerError `json:"innerError"`
}

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// writeError answers with Graph's error body. The ids come from the response
// headers, which ServeHTTP sets before any handler runs.
func (e *Emulator) writeError(w http.ResponseWriter, err *apiError) {
	body := graphErrorBody{Error: graphErrorDetail{
		Code:    err.code,
		Message: err.message,
		InnerError: innerError{
			// Graph writes this date without a zone; it is UTC.
			Date:            e.now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       w.Header().Get("request-id"),
			ClientRequestID: w.Header().Get("client-request-id"),
		},
	}}
	writeJSON(w, err.status, body)
}

// writeJSON answers with a JSON body in Graph's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client has gone if this fails; nothing to tell it
}

// faultCode is the Graph error code that goes with an injected status.
func faultCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeMalformedBody
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken"
	case http.StatusForbidden:
		return "Authorization_RequestDenied"
	case http.StatusNotFound:
		return CodeResourceNotFound
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusInternalServerError:
		return "InternalServerError"
	case http.StatusBadGateway:
		return "BadGateway"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusGatewayTimeout:
		return "GatewayTimeout"
	}
	if text := http.StatusText(status); text != "" {
		return strings.Map(func(r rune) rune {
			if r == ' ' || r == '\'' || r == '-' {
				return -1
			}
			return r
		}, text)
	}
	return "UnknownError"
}
