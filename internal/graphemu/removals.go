package graphemu

import (
	"net/http"
	"time"
)

// Removal is one removal request (adminRemove) as it arrived, whether or not
// there was still an assignment to remove. Entra removes an expired
// assignment by itself, so the instance list cannot tell when jitflow asked
// for the removal; this record can (`jitflow bench` measures expiry lag
// with it).
type Removal struct {
	PrincipalID      string    `json:"principalId"`
	RoleDefinitionID string    `json:"roleDefinitionId,omitempty"`
	DirectoryScopeID string    `json:"directoryScopeId,omitempty"`
	GroupID          string    `json:"groupId,omitempty"`
	AccessID         string    `json:"accessId,omitempty"`
	ReceivedAt       time.Time `json:"receivedDateTime"`
	// Status is the request's outcome: Revoked, or Failed when nothing was
	// left to remove or the removal was refused.
	Status string `json:"status"`
}

// Removals returns every adminRemove request received since New (failed
// ones included, validation-only ones left out), oldest first.
func (e *Emulator) Removals() []Removal {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Removal
	for _, r := range e.requests {
		if r.Action != ActionAdminRemove || r.IsValidationOnly {
			continue
		}
		out = append(out, Removal{PrincipalID: r.PrincipalID, RoleDefinitionID: r.RoleDefinitionID, DirectoryScopeID: r.DirectoryScopeID,
			GroupID: r.GroupID, AccessID: r.AccessID, ReceivedAt: r.CreatedDateTime, Status: r.Status})
	}
	return out
}

// listRemovals serves GET /_emulator/removals: {"value":[Removal...]}.
func (e *Emulator) listRemovals(w http.ResponseWriter, _ *http.Request, _ string) {
	out := e.Removals()
	if out == nil {
		out = []Removal{}
	}
	writeJSON(w, http.StatusOK, map[string][]Removal{"value": out})
}
