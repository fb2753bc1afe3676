package graphemu

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Routes of directory users; {id} is an object id or a user principal
// name, as in Graph.
const (
	pathUser    = "v1.0/users/{id}"
	pathManager = "v1.0/users/{id}/manager"
)

// User is a directory user of the emulated tenant.
type User struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	UPN         string `json:"userPrincipalName"`
	Mail        string `json:"mail,omitempty"`
	// ManagerID is the object id of the user's manager; "" for none.
	ManagerID string `json:"managerId,omitempty"`
}

// validate names the field that is wrong and what is accepted.
func (u User) validate() error {
	local, domain, _ := strings.Cut(u.UPN, "@")
	switch {
	case !guidPattern.MatchString(u.ID):
		return fmt.Errorf("id must be the user's object id, a GUID; got %q", u.ID)
	case strings.TrimSpace(u.DisplayName) == "":
		return errors.New("displayName is required")
	case local == "" || domain == "" || strings.ContainsAny(u.UPN, " /"):
		return fmt.Errorf("userPrincipalName must look like name@domain; got %q", u.UPN)
	case u.Mail != "" && !strings.Contains(u.Mail, "@"):
		return fmt.Errorf("mail must be an address like name@domain, or left out; got %q", u.Mail)
	case u.ManagerID != "" && !guidPattern.MatchString(u.ManagerID):
		return fmt.Errorf("managerId must be the manager's object id, a GUID, or left out; got %q", u.ManagerID)
	case u.ManagerID != "" && strings.EqualFold(u.ManagerID, u.ID):
		return errors.New("managerId: a user cannot be their own manager")
	}
	return nil
}

func normalUser(u User) User {
	u.ID, u.ManagerID = strings.ToLower(u.ID), strings.ToLower(u.ManagerID)
	return u
}

// SetUsers replaces the users the emulator knows. Object ids and principal
// names compare case-insensitively, as in Graph; each must be unique. A
// manager need not be among the users: one that is not reads as no
// manager, as in Graph once the manager's account is deleted.
func (e *Emulator) SetUsers(users []User) error {
	out := make([]User, len(users))
	for i, u := range users {
		if err := u.validate(); err != nil {
			return fmt.Errorf("graph emulator: users[%d]: %w", i, err)
		}
		if j := slices.IndexFunc(out[:i], func(x User) bool { return sameUser(x, u) }); j >= 0 {
			return fmt.Errorf("graph emulator: users[%d] has the id or userPrincipalName of users[%d]", i, j)
		}
		out[i] = normalUser(u)
	}
	e.dirMu.Lock()
	defer e.dirMu.Unlock()
	e.dirUsers = out
	return nil
}

// Users returns the users the emulator knows, ids in lower case.
func (e *Emulator) Users() []User {
	_, users := e.directory()
	return slices.Clone(users)
}

func sameUser(x, u User) bool {
	return strings.EqualFold(x.ID, u.ID) || strings.EqualFold(x.UPN, u.UPN)
}

// putUser adds u or replaces the user with its id. Another user with u's
// principal name is an error.
func (e *Emulator) putUser(u User) error {
	u = normalUser(u)
	e.dirMu.Lock()
	defer e.dirMu.Unlock()
	us := slices.Clone(e.dirUsers)
	if slices.ContainsFunc(us, func(x User) bool { return x.ID != u.ID && strings.EqualFold(x.UPN, u.UPN) }) {
		return fmt.Errorf("userPrincipalName %q is already another user's", u.UPN)
	}
	if i := slices.IndexFunc(us, func(x User) bool { return x.ID == u.ID }); i >= 0 {
		us[i] = u
	} else {
		us = append(us, u)
	}
	e.dirUsers = us
	return nil
}

// findUser finds a user by object id or principal name.
func findUser(users []User, idOrUPN string) (User, bool) {
	i := slices.IndexFunc(users, func(u User) bool {
		return strings.EqualFold(u.ID, idOrUPN) || strings.EqualFold(u.UPN, idOrUPN)
	})
	if i < 0 {
		return User{}, false
	}
	return users[i], true
}

// userProperties are the user properties the emulator answers, in Graph's
// spelling: the ones it models, then the rest of Graph's default set,
// always empty here.
var userProperties = []string{"id", "displayName", "userPrincipalName", "mail",
	"businessPhones", "givenName", "jobTitle", "mobilePhone", "officeLocation", "preferredLanguage", "surname"}

// selectedUserFields reads $select: the properties asked for, in Graph's
// spelling, or Graph's default set without one.
func selectedUserFields(r *http.Request) ([]string, *apiError) {
	q := r.URL.Query()
	if !q.Has("$select") {
		return userProperties, nil
	}
	var out []string
	for _, f := range strings.Split(q.Get("$select"), ",") {
		f = strings.TrimSpace(f)
		i := slices.IndexFunc(userProperties, func(p string) bool { return strings.EqualFold(p, f) })
		if i < 0 {
			return nil, &apiError{http.StatusBadRequest, CodeMalformedBody, fmt.Sprintf(
				"Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.user'. The emulator answers %s.", f, strings.Join(userProperties, ", "))}
		}
		out = append(out, userProperties[i])
	}
	return out, nil
}

// usersContext is the entity set of @odata.context, with the selected
// properties as Graph writes them.
func usersContext(r *http.Request) string {
	if sel := r.URL.Query().Get("$select"); sel != "" {
		return "users(" + sel + ")"
	}
	return "users"
}

// userJSON is u with the given properties; withType adds @odata.type, as
// Graph does where the collection or property is of a base type
// (directoryObject) or a cast.
func userJSON(u User, fields []string, withType bool) map[string]any {
	out := make(map[string]any, len(fields)+1)
	if withType {
		out["@odata.type"] = "#microsoft.graph.user"
	}
	for _, f := range fields {
		switch f {
		case "id":
			out[f] = u.ID
		case "displayName":
			out[f] = nullable(u.DisplayName)
		case "userPrincipalName":
			out[f] = nullable(u.UPN)
		case "mail":
			out[f] = nullable(u.Mail)
		case "businessPhones":
			out[f] = []string{}
		default:
			out[f] = nil
		}
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// getUser serves GET /users/{id or userPrincipalName}.
func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request, id string) {
	u, _, fields, ok := e.userRequest(w, r, id)
	if !ok {
		return
	}
	body := userJSON(u, fields, false)
	body["@odata.context"] = odataContext(r, usersContext(r)+"/$entity")
	writeJSON(w, http.StatusOK, body)
}

// userRequest finds the user a /users/{id} call names and the fields it
// selects; otherwise it answers the error and reports false.
func (e *Emulator) userRequest(w http.ResponseWriter, r *http.Request, id string) (User, []User, []string, bool) {
	_, users := e.directory()
	u, ok := findUser(users, id)
	if !ok {
		e.writeError(w, notFound(id))
		return User{}, nil, nil, false
	}
	fields, apiErr := selectedUserFields(r)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return User{}, nil, nil, false
	}
	return u, users, fields, true
}

// getManager serves GET /users/{id or userPrincipalName}/manager: a
// directoryObject that is a user. A user without a manager is a 404 on
// "manager", as in Graph.
func (e *Emulator) getManager(w http.ResponseWriter, r *http.Request, id string) {
	u, users, fields, ok := e.userRequest(w, r, id)
	if !ok {
		return
	}
	m, ok := findUser(users, u.ManagerID)
	if u.ManagerID == "" || !ok {
		e.writeError(w, notFound("manager"))
		return
	}
	body := userJSON(m, fields, true)
	body["@odata.context"] = odataContext(r, "directoryObjects/$entity")
	writeJSON(w, http.StatusOK, body)
}
