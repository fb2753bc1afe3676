package graphemu

import (
	"net/http"
	"strings"
	"time"
)

// collection is Graph's envelope for a list.
type collection[T any] struct {
	Context string `json:"@odata.context"`
	Value   []T    `json:"value"`
}

func odataContext(r *http.Request, entitySet string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/v1.0/$metadata#" + entitySet
}

// queryFilter parses $filter; no $filter matches everything.
func queryFilter(r *http.Request) ([]filterClause, *apiError) {
	q := r.URL.Query()
	if !q.Has("$filter") {
		return nil, nil
	}
	return parseFilter(q.Get("$filter"))
}

// listInstances serves GET .../roleAssignmentScheduleInstances: the
// assignments in effect now (started and not expired).
func (e *Emulator) listInstances(w http.ResponseWriter, r *http.Request, _ string) {
	serveList(e, w, r, "roleManagement/directory/roleAssignmentScheduleInstances", queryFilter,
		func(c []filterClause) []Instance { return e.listedInstances(c, false) }, same[Instance])
}

// listedInstances are the instances of the kind (role or group) in effect
// now that match the filter. Like Entra, which takes a while to apply a
// request, a new instance shows only ListDelay after it was made.
func (e *Emulator) listedInstances(clauses []filterClause, group bool) []Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now().UTC()
	if e.expireLocked(now) > 0 {
		e.changedLocked()
	}
	var out []Instance
	for _, inst := range e.instances {
		k := inst.fields()
		if k.isGroup() != group || inst.StartDateTime.After(now) || now.Before(e.listedFrom(inst)) {
			continue
		}
		if matches(k, clauses) {
			out = append(out, inst)
		}
	}
	return out
}

// listedFrom is when an instance starts to be listed.
func (e *Emulator) listedFrom(inst Instance) time.Time {
	if made, ok := e.madeAt[inst.ID]; ok {
		return made.Add(e.listDelay)
	}
	return time.Time{}
}

// listScheduleRequests serves GET .../roleAssignmentScheduleRequests.
func (e *Emulator) listScheduleRequests(w http.ResponseWriter, r *http.Request, _ string) {
	serveList(e, w, r, "roleManagement/directory/roleAssignmentScheduleRequests", queryFilter,
		func(c []filterClause) []ScheduleRequest { return e.listedRequests(c, false) }, same[ScheduleRequest])
}

// same is the view of a role's items: Graph's shape is the model's.
func same[T any](x T) T { return x }

// listedRequests are the accepted schedule requests of the kind that match
// the filter, oldest first.
func (e *Emulator) listedRequests(clauses []filterClause, group bool) []ScheduleRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ScheduleRequest
	for _, req := range e.requests {
		k := req.fields()
		if req.Status != StatusFailed && k.isGroup() == group && matches(k, clauses) {
			out = append(out, req)
		}
	}
	return out
}

// getScheduleRequest serves GET .../roleAssignmentScheduleRequests/{id}.
func (e *Emulator) getScheduleRequest(w http.ResponseWriter, r *http.Request, id string) {
	e.mu.Lock()
	var found *ScheduleRequest
	for i := range e.requests {
		if strings.EqualFold(e.requests[i].ID, id) && e.requests[i].Status != StatusFailed {
			req := e.requests[i]
			found = &req
			break
		}
	}
	e.mu.Unlock()
	if found == nil {
		e.writeError(w, notFound(id))
		return
	}
	writeJSON(w, http.StatusOK, found)
}

// listRoleDefinitions serves GET .../roleDefinitions.
func (e *Emulator) listRoleDefinitions(w http.ResponseWriter, r *http.Request, _ string) {
	if r.URL.Query().Has("$filter") {
		e.writeError(w, &apiError{http.StatusBadRequest, CodeUnsupportedQuery,
			"The emulator does not filter role definitions; list them all or get one by id."})
		return
	}
	writeJSON(w, http.StatusOK, collection[RoleDefinition]{odataContext(r, "roleManagement/directory/roleDefinitions"), builtinRoles})
}

// getRoleDefinition serves GET .../roleDefinitions/{id}.
func (e *Emulator) getRoleDefinition(w http.ResponseWriter, _ *http.Request, id string) {
	role, ok := findRole(id)
	if !ok {
		e.writeError(w, notFound(id))
		return
	}
	writeJSON(w, http.StatusOK, role)
}
