package graphemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestListInstancesFilter(t *testing.T) {
	e, _ := newEmu(t, Options{})
	for _, body := range []request{
		assign(alice, globalReader, "PT1H"),
		assign(alice, securityAdm, "PT1H"),
		assign(bob, globalReader, "PT1H").with("directoryScopeId", "/administrativeUnits/o'brien"),
	} {
		decode[ScheduleRequest](t, post(t, e, body), http.StatusCreated)
	}
	tests := []struct {
		filter string
		want   int
	}{
		{"", 3},
		{"principalId eq '" + alice + "'", 2},
		{"PRINCIPALID EQ '" + strings.ToUpper(alice) + "'", 2},
		{"roleDefinitionId eq '" + globalReader + "'", 2},
		{"principalId eq '" + alice + "' AND roleDefinitionId eq '" + securityAdm + "'", 1},
		{"principalId eq '" + alice + "' and roleDefinitionId eq '" + securityAdm + "' and directoryScopeId eq '/'", 1},
		{"directoryScopeId eq '/administrativeUnits/o''brien'", 1},
		{"principalId eq '" + bob + "' and directoryScopeId eq '/'", 0},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			if got := listInstances(t, e, tt.filter); len(got) != tt.want {
				t.Errorf("%d instances, want %d: %+v", len(got), tt.want, got)
			}
		})
	}

	w := call(t, e, http.MethodGet, instancesPath, nil)
	for _, field := range []string{`"@odata.context":"http://example.com/v1.0/$metadata#roleManagement/directory/roleAssignmentScheduleInstances"`,
		`"assignmentType":"Assigned"`, `"memberType":"Direct"`, `"appScopeId":null`, `"roleAssignmentOriginId":`, `"roleAssignmentScheduleId":`} {
		if !strings.Contains(w.Body.String(), field) {
			t.Errorf("list answer lacks %s: %s", field, w.Body)
		}
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestUnsupportedFilterIsRefused(t *testing.T) {
	e, _ := newEmu(t, Options{})
	for _, f := range []string{
		"principalId ne 'x'",
		"startsWith(principalId,'x')",
		"principalId eq 'x' or roleDefinitionId eq 'y'",
		"assignmentType eq 'Assigned'",
		"principalId eq x",
		"principalId eq 'x",
		"principalId eq 'x' and",
		"",
	} {
		w := call(t, e, http.MethodGet, instancesPath+"?$filter="+url.QueryEscape(f), nil)
		wantGraphError(t, w, http.StatusBadRequest, CodeUnsupportedQuery, "supported: principalId, roleDefinitionId, directoryScopeId, groupId or accessId")
	}
}

func TestScheduleRequestsCanBeReadBack(t *testing.T) {
	e, _ := newEmu(t, Options{})
	made := decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	wantGraphError(t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusBadRequest, CodeRoleAssignmentExists, "exists")

	got := decode[ScheduleRequest](t, call(t, e, http.MethodGet, requestsPath+"/"+strings.ToUpper(made.ID), nil), http.StatusOK)
	if got.ID != made.ID || got.Status != StatusProvisioned {
		t.Errorf("got %+v, want %+v", got, made)
	}
	list := decode[collection[ScheduleRequest]](t, call(t, e, http.MethodGet, requestsPath+"?$filter="+url.QueryEscape("principalId eq '"+alice+"'"), nil), http.StatusOK)
	if len(list.Value) != 1 {
		t.Errorf("listed %d requests, want only the one Graph accepted", len(list.Value))
	}
	failed := e.Requests()[1]
	wantGraphError(t, call(t, e, http.MethodGet, requestsPath+"/"+failed.ID, nil), http.StatusNotFound, CodeResourceNotFound, failed.ID)
}

func TestRoleDefinitions(t *testing.T) {
	e, _ := newEmu(t, Options{})
	for id, name := range map[string]string{
		"f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
		"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
		"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
		"FE930BE7-5E62-47DB-91AF-98C3A49A38B1": "User Administrator",
	} {
		got := decode[RoleDefinition](t, call(t, e, http.MethodGet, "/v1.0/roleManagement/directory/roleDefinitions/"+id, nil), http.StatusOK)
		if got.DisplayName != name || !strings.EqualFold(got.TemplateID, id) || !got.IsBuiltIn {
			t.Errorf("%s: %+v", id, got)
		}
	}
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/roleManagement/directory/roleDefinitions/"+unknownRole, nil),
		http.StatusNotFound, CodeResourceNotFound, unknownRole)
	list := decode[collection[RoleDefinition]](t, call(t, e, http.MethodGet, "/v1.0/roleManagement/directory/roleDefinitions", nil), http.StatusOK)
	if len(list.Value) < 10 {
		t.Errorf("%d role definitions", len(list.Value))
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	e, _ := newEmu(t, Options{})
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users", nil), http.StatusNotFound, CodeUnknownSegment, "/v1.0/users")
	wantGraphError(t, call(t, e, http.MethodGet, "/", nil), http.StatusNotFound, CodeUnknownSegment, "not found")
	w := call(t, e, http.MethodDelete, instancesPath, nil)
	wantGraphError(t, w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "'DELETE' is not allowed")
	if allow := w.Header().Get("Allow"); allow != "GET" {
		t.Errorf("Allow %q", allow)
	}
	wantGraphError(t, call(t, e, http.MethodPut, requestsPath, nil), http.StatusMethodNotAllowed, CodeMethodNotAllowed, "allowed: GET, POST")
	// Graph matches path segments without regard to case.
	decode[collection[Instance]](t, call(t, e, http.MethodGet, strings.ToLower(instancesPath)+"/", nil), http.StatusOK)
}
