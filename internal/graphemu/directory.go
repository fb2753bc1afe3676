package graphemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The directory's controls under /_emulator: list and put users and
// groups, and change a group's members, e.g. to take an approver out of a
// group while a request waits.

// decodeStrict reads a JSON body into v; a misspelt field is an error.
func decodeStrict(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// listUsersAdmin serves GET /_emulator/users.
func (e *Emulator) listUsersAdmin(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, collection[User]{odataContext(r, "users"), append([]User{}, e.Users()...)})
}

// putUserAdmin serves POST /_emulator/users: adds the user or replaces the
// one with its id.
func (e *Emulator) putUserAdmin(w http.ResponseWriter, r *http.Request, _ string) {
	var u User
	err := decodeStrict(r, &u)
	if err == nil {
		err = u.validate()
	}
	if err == nil {
		err = e.putUser(u)
	}
	if err != nil {
		e.writeError(w, &apiError{http.StatusBadRequest, CodeMalformedBody, fmt.Sprintf(
			`Bad user: %v. Send {"id":"<GUID>","displayName":"Alice","userPrincipalName":"alice@example.com"} with optional "mail" and "managerId" (the manager's object id).`, err)})
		return
	}
	writeJSON(w, http.StatusOK, normalUser(u))
}

// listGroupsAdmin serves GET /_emulator/groups.
func (e *Emulator) listGroupsAdmin(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, collection[Group]{odataContext(r, "groups"), append([]Group{}, e.Groups()...)})
}

// putGroupAdmin serves POST /_emulator/groups: adds the group or replaces
// the one with its id.
func (e *Emulator) putGroupAdmin(w http.ResponseWriter, r *http.Request, _ string) {
	var g Group
	err := decodeStrict(r, &g)
	if err == nil {
		err = g.validate()
	}
	if err != nil {
		e.writeError(w, &apiError{http.StatusBadRequest, CodeMalformedBody, fmt.Sprintf(
			`Bad group: %v. Send {"id":"<GUID>","displayName":"oncall","members":["<user or group object id>", ...]}.`, err)})
		return
	}
	e.putGroup(g)
	writeJSON(w, http.StatusOK, normalGroup(g))
}

// memberRef is the body of POST /_emulator/groups/{id}/members.
type memberRef struct {
	ID string `json:"id"`
}

// addMemberAdmin serves POST /_emulator/groups/{id}/members with
// {"id": member}.
func (e *Emulator) addMemberAdmin(w http.ResponseWriter, r *http.Request, groupID string) {
	var m memberRef
	err := decodeStrict(r, &m)
	if err == nil && !guidPattern.MatchString(m.ID) {
		err = fmt.Errorf("id must be the object id (a GUID) of a user or a group; got %q", m.ID)
	}
	if err != nil {
		e.writeError(w, &apiError{http.StatusBadRequest, CodeMalformedBody, fmt.Sprintf(`Bad member: %v. Send {"id":"<GUID>"}.`, err)})
		return
	}
	e.writeMemberEdit(w, groupID, e.AddMember(groupID, m.ID))
}

// removeMemberAdmin serves DELETE /_emulator/groups/{id}/members/{member}.
func (e *Emulator) removeMemberAdmin(w http.ResponseWriter, r *http.Request, groupID string) {
	e.writeMemberEdit(w, groupID, e.RemoveMember(groupID, r.PathValue("member")))
}

// writeMemberEdit answers a membership edit with the group as it now
// stands, or why it failed: 404 for an unknown group or a member not in
// it, 400 otherwise.
func (e *Emulator) writeMemberEdit(w http.ResponseWriter, groupID string, err error) {
	if err != nil {
		status, code := http.StatusBadRequest, CodeMalformedBody
		if errors.Is(err, errNoGroup) || errors.Is(err, errNotMember) {
			status, code = http.StatusNotFound, CodeResourceNotFound
		}
		e.writeError(w, &apiError{status, code, err.Error()})
		return
	}
	for _, g := range e.Groups() {
		if strings.EqualFold(g.ID, groupID) {
			writeJSON(w, http.StatusOK, g)
			return
		}
	}
	e.writeError(w, notFound(groupID))
}
