package graphemu

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// maxBody bounds a request body, before and after decompression.
const maxBody = 1 << 20

// scheduleRequestInput is what a client may send to create a schedule
// request. Unknown properties (such as "@odata.type") are ignored.
type scheduleRequestInput struct {
	Action           string             `json:"action"`
	PrincipalID      string             `json:"principalId"`
	RoleDefinitionID string             `json:"roleDefinitionId"`
	DirectoryScopeID *string            `json:"directoryScopeId"`
	AppScopeID       *string            `json:"appScopeId"`
	Justification    string             `json:"justification"`
	IsValidationOnly bool               `json:"isValidationOnly"`
	ScheduleInfo     *scheduleInfoInput `json:"scheduleInfo"`
	TicketInfo       *TicketInfo        `json:"ticketInfo"`
	GroupID          string             `json:"groupId"`
	AccessID         string             `json:"accessId"`
}

type scheduleInfoInput struct {
	StartDateTime *time.Time       `json:"startDateTime"`
	Expiration    *expirationInput `json:"expiration"`
}

type expirationInput struct {
	Type        string     `json:"type"`
	EndDateTime *time.Time `json:"endDateTime"`
	Duration    *string    `json:"duration"`
}

// readJSON decodes a request body, gunzipping it when the client says so
// (msgraph-sdk-go compresses request bodies by default).
func readJSON(r *http.Request, v any) *apiError {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &apiError{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				fmt.Sprintf("Content-Type %q is not supported; send application/json.", ct)}
		}
	}
	body := io.LimitReader(r.Body, maxBody+1)
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return &apiError{http.StatusBadRequest, CodeMalformedBody, "The request body says Content-Encoding gzip but is not gzip data: " + err.Error()}
		}
		defer zr.Close()
		body = io.LimitReader(zr, maxBody+1)
	default:
		// 415 makes msgraph-sdk-go resend the body uncompressed.
		return &apiError{http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %q is not supported; send gzip or no encoding.", enc)}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return &apiError{http.StatusBadRequest, CodeMalformedBody, "Unable to read the request body: " + err.Error()}
	}
	if len(data) > maxBody {
		return &apiError{http.StatusRequestEntityTooLarge, CodeMalformedBody, fmt.Sprintf("The request body is larger than %d bytes.", maxBody)}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &apiError{http.StatusBadRequest, CodeMalformedBody, "Unable to read JSON request payload: " + jsonProblem(err)}
	}
	return nil
}

// jsonProblem names the field a type mismatch is in, since that is what the
// caller has to fix.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("property %s must be a JSON %s, got %s.", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%q is not an RFC 3339 date-time such as 2026-11-26T06:00:00Z.", pe.Value)
	}
	return err.Error() + "."
}

func jsonKind(goKind string) string {
	switch goKind {
	case "struct", "map":
		return "object"
	case "slice":
		return "array"
	case "bool":
		return "boolean"
	case "ptr":
		return "value of the right type"
	}
	return goKind
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validateIDs checks the fields every action needs, in the order Graph
// reports them.
func validateIDs(in scheduleRequestInput, group bool) *apiError {
	if group {
		return validateGroupIDs(in)
	}
	switch {
	case in.PrincipalID == "":
		return badRequest("principalId is required: the object id (a GUID) of the user, group or service principal.")
	case !guidPattern.MatchString(in.PrincipalID):
		return badRequest("principalId '%s' is not a valid object id: expected a GUID such as 00000000-0000-0000-0000-000000000000.", in.PrincipalID)
	case in.RoleDefinitionID == "":
		return badRequest("roleDefinitionId is required: the id (a GUID) of the role definition, e.g. f2ef992c-3afb-46b9-b7cf-a126ee74c451 for Global Reader.")
	case !guidPattern.MatchString(in.RoleDefinitionID):
		return badRequest("roleDefinitionId '%s' is not a valid id: expected a GUID such as f2ef992c-3afb-46b9-b7cf-a126ee74c451.", in.RoleDefinitionID)
	case in.AppScopeID != nil:
		return badRequest("appScopeId is not supported by the emulator; use directoryScopeId.")
	case in.DirectoryScopeID == nil || *in.DirectoryScopeID == "":
		return badRequest("directoryScopeId is required: '/' for the whole tenant or '/administrativeUnits/{id}'.")
	case !strings.HasPrefix(*in.DirectoryScopeID, "/"):
		return badRequest("directoryScopeId '%s' must start with '/': '/' for the whole tenant or '/administrativeUnits/{id}'.", *in.DirectoryScopeID)
	}
	return nil
}

// validateGroupIDs checks a PIM for Groups request's ids.
func validateGroupIDs(in scheduleRequestInput) *apiError {
	switch {
	case in.PrincipalID == "":
		return badRequest("principalId is required: the object id (a GUID) of the user or group.")
	case !guidPattern.MatchString(in.PrincipalID):
		return badRequest("principalId '%s' is not a valid object id: expected a GUID such as 00000000-0000-0000-0000-000000000000.", in.PrincipalID)
	case in.GroupID == "":
		return badRequest("groupId is required: the object id (a GUID) of the group.")
	case !guidPattern.MatchString(in.GroupID):
		return badRequest("groupId '%s' is not a valid object id: expected a GUID such as 00000000-0000-0000-0000-000000000000.", in.GroupID)
	case !strings.EqualFold(in.AccessID, AccessMember) && !strings.EqualFold(in.AccessID, AccessOwner):
		return badRequest("accessId '%s' is not valid: member or owner.", in.AccessID)
	}
	return nil
}
