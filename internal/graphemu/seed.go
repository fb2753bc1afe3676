package graphemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Target names what a seeded assignment or eligibility is for: a role at a
// directory scope, or a group's member or owner access.
type Target struct {
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId,omitempty"`
	DirectoryScopeID string `json:"directoryScopeId,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
	AccessID         string `json:"accessId,omitempty"`
	// EndDateTime is when it ends; nil means never (a standing assignment
	// or a permanent eligibility).
	EndDateTime *time.Time `json:"endDateTime,omitempty"`
	// AssignmentType is "Assigned" (the default: made by an administrator)
	// or "Activated" (the principal's own PIM activation); assignments only.
	AssignmentType string `json:"assignmentType,omitempty"`
}

func (t Target) key() assignmentKey {
	scope := t.DirectoryScopeID
	if scope == "" && t.GroupID == "" {
		scope = "/"
	}
	return assignmentKey{t.PrincipalID, t.RoleDefinitionID, scope, t.GroupID, strings.ToLower(t.AccessID)}
}

// validate names the wrong field and what is accepted.
func (t Target) validate() error {
	k := t.key()
	switch {
	case !guidPattern.MatchString(k.principal):
		return fmt.Errorf("principalId must be a GUID, got %q", t.PrincipalID)
	case k.group != "" && k.role != "":
		return fmt.Errorf("give roleDefinitionId (with directoryScopeId) or groupId (with accessId), not both")
	case k.group != "" && !guidPattern.MatchString(k.group):
		return fmt.Errorf("groupId must be a GUID, got %q", t.GroupID)
	case k.group != "" && k.access != AccessMember && k.access != AccessOwner:
		return fmt.Errorf("accessId must be member or owner, got %q", t.AccessID)
	case k.group == "" && !guidPattern.MatchString(k.role):
		return fmt.Errorf("roleDefinitionId must be a GUID, got %q (or give groupId and accessId)", t.RoleDefinitionID)
	case k.group == "" && !strings.HasPrefix(k.scope, "/"):
		return fmt.Errorf("directoryScopeId must start with /, got %q", t.DirectoryScopeID)
	case t.AssignmentType != "" && t.AssignmentType != AssignmentTypeAssigned && t.AssignmentType != AssignmentTypeActivated:
		return fmt.Errorf("assignmentType must be %s or %s, got %q", AssignmentTypeAssigned, AssignmentTypeActivated, t.AssignmentType)
	}
	return nil
}

// validateEligibility is validate for an eligibility, which has no
// assignment type.
func (t Target) validateEligibility() error {
	if err := t.validate(); err != nil {
		return err
	}
	if t.AssignmentType != "" {
		return fmt.Errorf("assignmentType applies to assignments only, got %q for an eligibility", t.AssignmentType)
	}
	return nil
}

// SeedAssignment adds an assignment made outside jitflow (a standing one
// when t.EndDateTime is nil), as if an administrator had made it in the
// portal. Seeding one that exists changes nothing and returns it.
func (e *Emulator) SeedAssignment(t Target) (Instance, error) {
	if err := t.validate(); err != nil {
		return Instance{}, fmt.Errorf("graph emulator assignment: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seedAssignmentLocked(t), nil
}

func (e *Emulator) seedAssignmentLocked(t Target) Instance {
	k := t.key()
	if i := e.findLocked(k); i >= 0 {
		return e.instances[i]
	}
	typ := t.AssignmentType
	if typ == "" {
		typ = AssignmentTypeAssigned
	}
	inst := Instance{
		ID: uuid.NewString(), PrincipalID: k.principal, RoleDefinitionID: k.role, DirectoryScopeID: k.scope,
		GroupID: k.group, AccessID: k.access, StartDateTime: e.now().UTC(), EndDateTime: utcPtr(t.EndDateTime),
		AssignmentType: typ, MemberType: MemberTypeDirect,
		RoleAssignmentOriginID: uuid.NewString(), RoleAssignmentScheduleID: uuid.NewString(),
	}
	e.instances = append(e.instances, inst)
	e.changedLocked()
	return inst
}

// SeedEligibility makes the principal eligible for the target. Seeding one
// that exists changes nothing and returns it.
func (e *Emulator) SeedEligibility(t Target) (Eligibility, error) {
	if err := t.validateEligibility(); err != nil {
		return Eligibility{}, fmt.Errorf("graph emulator eligibility: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seedEligibilityLocked(t), nil
}

func (e *Emulator) seedEligibilityLocked(t Target) Eligibility {
	k := t.key()
	for _, el := range e.eligibilities {
		if el.fields().same(k) {
			return el
		}
	}
	el := Eligibility{
		ID: uuid.NewString(), PrincipalID: k.principal, RoleDefinitionID: k.role, DirectoryScopeID: k.scope,
		GroupID: k.group, AccessID: k.access, StartDateTime: e.now().UTC(), EndDateTime: utcPtr(t.EndDateTime),
		MemberType: MemberTypeDirect, ScheduleID: uuid.NewString(),
	}
	e.eligibilities = append(e.eligibilities, el)
	e.changedLocked()
	return el
}

// Eligibilities returns the eligibilities the emulator holds.
func (e *Emulator) Eligibilities() []Eligibility {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Eligibility(nil), e.eligibilities...)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// readTarget decodes a seed body strictly, so a misspelt field is an error.
func readTarget(r *http.Request, eligibility bool) (Target, *apiError) {
	var t Target
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&t)
	}
	switch {
	case err == nil && eligibility:
		err = t.validateEligibility()
	case err == nil:
		err = t.validate()
	}
	if err != nil {
		return Target{}, &apiError{http.StatusBadRequest, CodeMalformedBody, fmt.Sprintf(
			`Bad target: %v. Send {"principalId","roleDefinitionId","directoryScopeId"} or {"principalId","groupId","accessId":"member|owner"}, with an optional "endDateTime" (none: permanent) and, for an assignment, "assignmentType" (Assigned or Activated).`, err)}
	}
	return t, nil
}

// addAssignment serves POST /_emulator/assignments.
func (e *Emulator) addAssignment(w http.ResponseWriter, r *http.Request, _ string) {
	t, apiErr := readTarget(r, false)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	e.mu.Lock()
	inst := e.seedAssignmentLocked(t)
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, inst)
}

// addEligibility serves POST /_emulator/eligibilities.
func (e *Emulator) addEligibility(w http.ResponseWriter, r *http.Request, _ string) {
	t, apiErr := readTarget(r, true)
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	e.mu.Lock()
	el := e.seedEligibilityLocked(t)
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, el)
}

// listEligibilities serves GET /_emulator/eligibilities.
func (e *Emulator) listEligibilities(w http.ResponseWriter, r *http.Request, _ string) {
	writeJSON(w, http.StatusOK, collection[Eligibility]{odataContext(r, "eligibilities"), append([]Eligibility{}, e.Eligibilities()...)})
}
