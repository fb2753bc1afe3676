package graphemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/jitflow/jitflow/durations"
)

// emulatedActions are the unifiedRoleScheduleRequestActions the emulator
// carries out; the self-service ones need a signed-in user's token, which
// jitflow never uses.
var emulatedActions = []string{ActionAdminAssign, ActionAdminRemove, ActionAdminUpdate, ActionAdminExtend}

// graphOnlyActions are valid in Graph but not emulated.
var graphOnlyActions = []string{"adminRenew", "selfActivate", "selfDeactivate", "selfExtend", "selfRenew"}

const actionHelp = "the emulator supports adminAssign, adminRemove, adminUpdate and adminExtend"

// createScheduleRequest serves POST .../roleAssignmentScheduleRequests.
func (e *Emulator) createScheduleRequest(w http.ResponseWriter, r *http.Request, _ string) {
	e.createRequest(w, r, false)
}

// createGroupScheduleRequest serves POST
// .../privilegedAccess/group/assignmentScheduleRequests.
func (e *Emulator) createGroupScheduleRequest(w http.ResponseWriter, r *http.Request, _ string) {
	e.createRequest(w, r, true)
}

func (e *Emulator) createRequest(w http.ResponseWriter, r *http.Request, group bool) {
	var in scheduleRequestInput
	if err := readJSON(r, &in); err != nil {
		e.writeError(w, err)
		return
	}
	req, apiErr := e.handleScheduleRequest(in, group)
	e.log.Info("graph schedule request", "action", req.Action, "principal_id", req.PrincipalID,
		"role_definition_id", req.RoleDefinitionID, "directory_scope_id", req.DirectoryScopeID,
		"group_id", req.GroupID, "access_id", req.AccessID, "status", req.Status, "error", errorCode(apiErr))
	if apiErr != nil {
		e.writeError(w, apiErr)
		return
	}
	if group {
		writeJSON(w, http.StatusCreated, groupRequestOf(req))
		return
	}
	writeJSON(w, http.StatusCreated, req)
}

func errorCode(err *apiError) string {
	if err == nil {
		return ""
	}
	return err.code
}

// handleScheduleRequest records the request and carries it out.
func (e *Emulator) handleScheduleRequest(in scheduleRequestInput, group bool) (ScheduleRequest, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now().UTC()
	e.expireLocked(now)
	req := newScheduleRequest(in, now, group)
	apiErr := e.applyLocked(&req, in, now, group)
	if apiErr != nil {
		req.Status = StatusFailed
	}
	e.requests = append(e.requests, req)
	e.changedLocked()
	return req, apiErr
}

// newScheduleRequest echoes the input the way Graph does before acting on it.
func newScheduleRequest(in scheduleRequestInput, now time.Time, group bool) ScheduleRequest {
	req := ScheduleRequest{
		ID:               uuid.NewString(),
		Action:           canonicalAction(in.Action),
		PrincipalID:      in.PrincipalID,
		RoleDefinitionID: in.RoleDefinitionID,
		AppScopeID:       in.AppScopeID,
		Justification:    in.Justification,
		IsValidationOnly: in.IsValidationOnly,
		CreatedDateTime:  now,
	}
	if group {
		req.RoleDefinitionID = ""
		req.GroupID, req.AccessID = in.GroupID, strings.ToLower(in.AccessID)
	} else if in.DirectoryScopeID != nil {
		req.DirectoryScopeID = *in.DirectoryScopeID
	}
	if in.TicketInfo != nil {
		req.TicketInfo = *in.TicketInfo
	}
	if si := in.ScheduleInfo; si != nil {
		if si.StartDateTime != nil {
			start := si.StartDateTime.UTC()
			req.ScheduleInfo.StartDateTime = &start
		}
		if x := si.Expiration; x != nil {
			req.ScheduleInfo.Expiration = Expiration{Type: canonicalExpiration(x.Type), Duration: x.Duration}
			if x.EndDateTime != nil {
				end := x.EndDateTime.UTC()
				req.ScheduleInfo.Expiration.EndDateTime = &end
			}
		}
	}
	return req
}

// canonicalAction spells a known action as Graph does; enum values are
// matched case-insensitively.
func canonicalAction(a string) string {
	for _, known := range slices.Concat(emulatedActions, graphOnlyActions) {
		if strings.EqualFold(a, known) {
			return known
		}
	}
	return a
}

func canonicalExpiration(t string) string {
	for _, known := range []string{ExpirationAfterDuration, ExpirationAfterDateTime, ExpirationNone} {
		if strings.EqualFold(t, known) {
			return known
		}
	}
	return t
}

// applyLocked validates the request and changes the assignments it names.
func (e *Emulator) applyLocked(req *ScheduleRequest, in scheduleRequestInput, now time.Time, group bool) *apiError {
	switch {
	case req.Action == "":
		return badRequest("action is required; %s.", actionHelp)
	case slices.Contains(graphOnlyActions, req.Action):
		return badRequest("action '%s' is not emulated; %s.", req.Action, actionHelp)
	case !slices.Contains(emulatedActions, req.Action):
		return badRequest("action '%s' is not a valid unifiedRoleScheduleRequestActions value; %s.", req.Action, actionHelp)
	}
	if err := validateIDs(in, group); err != nil {
		return err
	}
	if _, ok := findRole(in.RoleDefinitionID); !ok && !group {
		return notFound(in.RoleDefinitionID)
	}
	switch req.Action {
	case ActionAdminAssign:
		return e.assignLocked(req, in, now)
	case ActionAdminRemove:
		return e.removeLocked(req, now)
	default:
		return e.extendLocked(req, in, now)
	}
}

func (e *Emulator) assignLocked(req *ScheduleRequest, in scheduleRequestInput, now time.Time) *apiError {
	start, end, err := e.schedule(in.ScheduleInfo, now)
	if err != nil {
		return err
	}
	if err := e.checkRules(req.fields(), in, start, end); err != nil {
		return err
	}
	if e.findLocked(req.fields()) >= 0 {
		return &apiError{http.StatusBadRequest, CodeRoleAssignmentExists, "The Role assignment already exists."}
	}
	req.ScheduleInfo.StartDateTime = &start
	if in.IsValidationOnly {
		req.Status = StatusGranted
		return nil
	}
	inst := Instance{
		ID:                       uuid.NewString(),
		PrincipalID:              req.PrincipalID,
		RoleDefinitionID:         req.RoleDefinitionID,
		DirectoryScopeID:         req.DirectoryScopeID,
		StartDateTime:            start,
		EndDateTime:              end,
		AssignmentType:           AssignmentTypeAssigned,
		MemberType:               MemberTypeDirect,
		RoleAssignmentOriginID:   uuid.NewString(),
		RoleAssignmentScheduleID: uuid.NewString(),
		GroupID:                  req.GroupID,
		AccessID:                 req.AccessID,
	}
	e.instances = append(e.instances, inst)
	if e.listDelay > 0 {
		e.madeAt[inst.ID] = now
	}
	e.completed(req, StatusProvisioned, inst.RoleAssignmentScheduleID, now)
	return nil
}

func (e *Emulator) removeLocked(req *ScheduleRequest, now time.Time) *apiError {
	i := e.findLocked(req.fields())
	if i < 0 {
		return &apiError{http.StatusBadRequest, CodeRoleAssignmentDoesNotExist, "The Role assignment does not exist."}
	}
	inst := e.instances[i]
	if e.minActive > 0 && now.Sub(inst.StartDateTime) < e.minActive {
		return &apiError{http.StatusBadRequest, CodeActiveDurationTooShort, fmt.Sprintf(
			"The assignment has been active since %s; it can be removed once it has been active for %s, from %s.",
			inst.StartDateTime.Format(time.RFC3339), durations.FormatISO(e.minActive), inst.StartDateTime.Add(e.minActive).Format(time.RFC3339))}
	}
	if req.IsValidationOnly {
		req.Status = StatusGranted
		return nil
	}
	e.instances = slices.Delete(e.instances, i, i+1)
	delete(e.madeAt, inst.ID)
	e.completed(req, StatusRevoked, inst.RoleAssignmentScheduleID, now)
	return nil
}

// extendLocked serves adminUpdate and adminExtend: the existing assignment
// keeps its start and gets the end the new schedule gives. The role's
// maximum counts from that start (unverified: Entra may count from the
// request), so repeated extensions cannot add up past it.
func (e *Emulator) extendLocked(req *ScheduleRequest, in scheduleRequestInput, now time.Time) *apiError {
	i := e.findLocked(req.fields())
	if i < 0 {
		return &apiError{http.StatusBadRequest, CodeRoleAssignmentDoesNotExist, "The Role assignment does not exist."}
	}
	start := e.instances[i].StartDateTime
	_, end, err := e.schedule(in.ScheduleInfo, now)
	if err != nil {
		return err
	}
	if err := e.checkRules(req.fields(), in, start, end); err != nil {
		return err
	}
	req.ScheduleInfo.StartDateTime = &start
	if req.IsValidationOnly {
		req.Status = StatusGranted
		return nil
	}
	e.instances[i].EndDateTime = end
	e.completed(req, StatusProvisioned, e.instances[i].RoleAssignmentScheduleID, now)
	return nil
}

func (e *Emulator) completed(req *ScheduleRequest, status, scheduleID string, now time.Time) {
	req.Status = status
	req.TargetScheduleID = scheduleID
	req.CompletedDateTime = &now
}

// findLocked returns the index of the assignment with the key, or -1.
func (e *Emulator) findLocked(k assignmentKey) int {
	return slices.IndexFunc(e.instances, func(inst Instance) bool { return inst.fields().same(k) })
}
