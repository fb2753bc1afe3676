package graphemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// handlerFunc serves one route; id is the path's {id} segment, if any.
// Other named segments ("{member}") are the request's path values.
type handlerFunc func(e *Emulator, w http.ResponseWriter, r *http.Request, id string)

// route maps a path pattern ("{id}" and other "{name}"s match one
// segment each) to its handlers by method.
type route struct {
	pattern string
	methods map[string]handlerFunc
}

const (
	pathRequests    = "v1.0/rolemanagement/directory/roleassignmentschedulerequests"
	pathInstances   = "v1.0/rolemanagement/directory/roleassignmentscheduleinstances"
	pathDefinitions = "v1.0/rolemanagement/directory/roledefinitions"
	pathEligibility = "v1.0/rolemanagement/directory/roleeligibilityscheduleinstances"
	pathGroup       = "v1.0/identitygovernance/privilegedaccess/group/"
	pathFaults      = "_emulator/faults"
)

var routeTable = []route{
	{pathRequests, map[string]handlerFunc{http.MethodPost: (*Emulator).createScheduleRequest, http.MethodGet: (*Emulator).listScheduleRequests}},
	{pathRequests + "/{id}", map[string]handlerFunc{http.MethodGet: (*Emulator).getScheduleRequest}},
	{pathInstances, map[string]handlerFunc{http.MethodGet: (*Emulator).listInstances}},
	{pathDefinitions, map[string]handlerFunc{http.MethodGet: (*Emulator).listRoleDefinitions}},
	{pathDefinitions + "/{id}", map[string]handlerFunc{http.MethodGet: (*Emulator).getRoleDefinition}},
	{pathTransitiveGroups, map[string]handlerFunc{http.MethodGet: (*Emulator).listTransitiveGroups}},
	{pathTransitiveGroupsLong, map[string]handlerFunc{http.MethodGet: (*Emulator).listTransitiveGroups}},
	{pathUser, map[string]handlerFunc{http.MethodGet: (*Emulator).getUser}},
	{pathManager, map[string]handlerFunc{http.MethodGet: (*Emulator).getManager}},
	{pathTransitiveUsers, map[string]handlerFunc{http.MethodGet: (*Emulator).listTransitiveUsers}},
	{pathTransitiveUsersLong, map[string]handlerFunc{http.MethodGet: (*Emulator).listTransitiveUsers}},
	{pathEligibility, map[string]handlerFunc{http.MethodGet: (*Emulator).listRoleEligibilities}},
	{pathGroup + "assignmentschedulerequests", map[string]handlerFunc{http.MethodPost: (*Emulator).createGroupScheduleRequest, http.MethodGet: (*Emulator).listGroupScheduleRequests}},
	{pathGroup + "assignmentscheduleinstances", map[string]handlerFunc{http.MethodGet: (*Emulator).listGroupInstances}},
	{pathGroup + "eligibilityscheduleinstances", map[string]handlerFunc{http.MethodGet: (*Emulator).listGroupEligibilities}},
	{"_emulator/assignments", map[string]handlerFunc{http.MethodPost: (*Emulator).addAssignment}},
	{"_emulator/eligibilities", map[string]handlerFunc{http.MethodPost: (*Emulator).addEligibility, http.MethodGet: (*Emulator).listEligibilities}},
	{"_emulator/removals", map[string]handlerFunc{http.MethodGet: (*Emulator).listRemovals}},
	{"_emulator/users", map[string]handlerFunc{http.MethodGet: (*Emulator).listUsersAdmin, http.MethodPost: (*Emulator).putUserAdmin}},
	{"_emulator/groups", map[string]handlerFunc{http.MethodGet: (*Emulator).listGroupsAdmin, http.MethodPost: (*Emulator).putGroupAdmin}},
	{"_emulator/groups/{id}/members", map[string]handlerFunc{http.MethodPost: (*Emulator).addMemberAdmin}},
	{"_emulator/groups/{id}/members/{member}", map[string]handlerFunc{http.MethodDelete: (*Emulator).removeMemberAdmin}},
	{pathFaults, map[string]handlerFunc{http.MethodGet: (*Emulator).listFaults, http.MethodPost: (*Emulator).addFault, http.MethodDelete: (*Emulator).clearFaults}},
}

func (e *Emulator) routes() http.Handler { return http.HandlerFunc(e.serve) }

// serve stamps Graph's id headers, applies injected faults to Graph calls,
// and dispatches. Graph matches path segments case-insensitively; so does this.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	clientID := r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = uuid.NewString()
	}
	w.Header().Set("request-id", uuid.NewString())
	w.Header().Set("client-request-id", clientID)

	path := strings.Trim(r.URL.Path, "/")
	if lower := strings.ToLower(path); strings.HasPrefix(lower, "v1.0/") || lower == "v1.0" {
		if f, ok := e.takeFault(r); ok {
			e.writeFault(w, r, f)
			return
		}
	}
	rt, values, ok := match(path)
	if !ok {
		e.writeError(w, &apiError{http.StatusNotFound, CodeUnknownSegment,
			fmt.Sprintf("Resource not found for the segment '%s'. The emulator serves /v1.0/roleManagement/directory/{roleAssignmentScheduleRequests,roleAssignmentScheduleInstances,roleEligibilityScheduleInstances,roleDefinitions}, /v1.0/identityGovernance/privilegedAccess/group/{assignmentScheduleRequests,assignmentScheduleInstances,eligibilityScheduleInstances}, /v1.0/users/{id}, /v1.0/users/{id}/{manager,transitiveMemberOf/graph.group}, /v1.0/groups/{id}/transitiveMembers/graph.user and /_emulator/{faults,assignments,eligibilities,removals,users,groups}.", r.URL.Path)})
		return
	}
	for name, v := range values {
		r.SetPathValue(name, v)
	}
	h, ok := rt.methods[r.Method]
	if !ok {
		allowed := allowedMethods(rt)
		w.Header().Set("Allow", allowed)
		e.writeError(w, &apiError{http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("The HTTP method '%s' is not allowed on %s; allowed: %s.", r.Method, r.URL.Path, allowed)})
		return
	}
	h(e, w, r, values["id"])
}

// match finds the route for a slash-trimmed path and the values of its
// named segments.
func match(path string) (route, map[string]string, bool) {
	segs := strings.Split(path, "/")
	for _, rt := range routeTable {
		pat := strings.Split(rt.pattern, "/")
		if len(pat) != len(segs) {
			continue
		}
		values, ok := map[string]string{}, true
		for i, p := range pat {
			name, named := strings.CutPrefix(p, "{")
			switch {
			case named && segs[i] != "":
				values[strings.TrimSuffix(name, "}")] = segs[i]
			case !strings.EqualFold(p, segs[i]):
				ok = false
			}
		}
		if ok {
			return rt, values, true
		}
	}
	return route{}, nil, false
}

func allowedMethods(rt route) string {
	var ms []string
	for m := range rt.methods {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return strings.Join(ms, ", ")
}
