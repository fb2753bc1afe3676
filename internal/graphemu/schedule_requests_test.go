package graphemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAssignAnswersLikeGraphAndCreatesInstance(t *testing.T) {
	e, _ := newEmu(t, Options{})
	body := assign(alice, globalReader, "PT1H").with("ticketInfo", map[string]any{"ticketNumber": "CHG-7", "ticketSystem": "ServiceNow"})
	w := call(t, e, http.MethodPost, requestsPath, body,
		"Authorization", "Bearer anything", "client-request-id", "c0ffee00-0000-0000-0000-000000000000")
	got := decode[ScheduleRequest](t, w, http.StatusCreated)

	if w.Header().Get("request-id") == "" {
		t.Error("no request-id header")
	}
	if h := w.Header().Get("client-request-id"); h != "c0ffee00-0000-0000-0000-000000000000" {
		t.Errorf("client-request-id %q, want the client's", h)
	}
	end := t0.Add(time.Hour)
	switch {
	case got.ID == "":
		t.Error("no id")
	case got.Status != StatusProvisioned:
		t.Errorf("status %q", got.Status)
	case got.Action != ActionAdminAssign || got.PrincipalID != alice || got.RoleDefinitionID != globalReader || got.DirectoryScopeID != "/":
		t.Errorf("echoed fields wrong: %+v", got)
	case got.Justification != "incident 42":
		t.Errorf("justification %q", got.Justification)
	case deref(got.TicketInfo.TicketNumber) != "CHG-7" || deref(got.TicketInfo.TicketSystem) != "ServiceNow":
		t.Errorf("ticketInfo %+v", got.TicketInfo)
	case !got.CreatedDateTime.Equal(t0) || got.CompletedDateTime == nil || !got.CompletedDateTime.Equal(t0):
		t.Errorf("created %v completed %v, want %v", got.CreatedDateTime, got.CompletedDateTime, t0)
	case got.ScheduleInfo.StartDateTime == nil || !got.ScheduleInfo.StartDateTime.Equal(t0):
		t.Errorf("scheduleInfo.startDateTime %v, want %v", got.ScheduleInfo.StartDateTime, t0)
	case got.ScheduleInfo.Expiration.Type != ExpirationAfterDuration || deref(got.ScheduleInfo.Expiration.Duration) != "PT1H":
		t.Errorf("expiration %+v", got.ScheduleInfo.Expiration)
	}
	// Times are written as Graph does: RFC 3339 in UTC.
	if !strings.Contains(w.Body.String(), `"createdDateTime":"2026-11-26T06:00:00Z"`) {
		t.Errorf("createdDateTime not in Graph's format: %s", w.Body)
	}

	insts := listInstances(t, e, "principalId eq '"+alice+"'")
	if len(insts) != 1 {
		t.Fatalf("instances %+v, want one", insts)
	}
	inst := insts[0]
	if inst.RoleDefinitionID != globalReader || inst.DirectoryScopeID != "/" || !inst.StartDateTime.Equal(t0) ||
		inst.EndDateTime == nil || !inst.EndDateTime.Equal(end) || inst.AssignmentType != "Assigned" || inst.MemberType != "Direct" ||
		inst.ID == "" || inst.RoleAssignmentOriginID == "" || inst.RoleAssignmentScheduleID != got.TargetScheduleID {
		t.Errorf("instance %+v (request targetScheduleId %s)", inst, got.TargetScheduleID)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func TestAssignRemoveLifecycle(t *testing.T) {
	e, _ := newEmu(t, Options{})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	wantGraphError(t, post(t, e, assign(alice, globalReader, "PT2H")), http.StatusBadRequest, CodeRoleAssignmentExists, "already exists")

	// Other principals, roles and scopes are separate assignments.
	decode[ScheduleRequest](t, post(t, e, assign(bob, globalReader, "PT1H")), http.StatusCreated)
	decode[ScheduleRequest](t, post(t, e, assign(alice, securityAdm, "PT1H")), http.StatusCreated)
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H").with("directoryScopeId", "/administrativeUnits/x")), http.StatusCreated)
	if n := len(e.Instances()); n != 4 {
		t.Fatalf("%d instances, want 4", n)
	}

	// Ids compare case-insensitively, as in Graph.
	got := decode[ScheduleRequest](t, post(t, e, remove(strings.ToUpper(alice), strings.ToUpper(globalReader))), http.StatusCreated)
	if got.Status != StatusRevoked || got.TargetScheduleID == "" {
		t.Errorf("remove answered %+v", got)
	}
	if insts := listInstances(t, e, "principalId eq '"+alice+"' and directoryScopeId eq '/'"); len(insts) != 1 || insts[0].RoleDefinitionID != securityAdm {
		t.Errorf("after remove: %+v", insts)
	}
	wantGraphError(t, post(t, e, remove(alice, globalReader)), http.StatusBadRequest, CodeRoleAssignmentDoesNotExist, "does not exist")

	var counts = map[string]int{}
	for _, r := range e.Requests() {
		counts[r.Action+"/"+r.Status]++
	}
	want := map[string]int{"adminAssign/Provisioned": 4, "adminAssign/Failed": 1, "adminRemove/Revoked": 1, "adminRemove/Failed": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("Requests(): %s = %d, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
}

func TestExtendAndUpdateMoveTheEnd(t *testing.T) {
	e, c := newEmu(t, Options{})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H")), http.StatusCreated)
	c.Advance(10 * time.Minute)

	ext := assign(alice, globalReader, "PT2H").with("action", ActionAdminExtend)
	got := decode[ScheduleRequest](t, post(t, e, ext), http.StatusCreated)
	if got.Status != StatusProvisioned {
		t.Errorf("extend status %q", got.Status)
	}
	inst := e.Instances()[0]
	if !inst.StartDateTime.Equal(t0) || !inst.EndDateTime.Equal(t0.Add(10*time.Minute+2*time.Hour)) {
		t.Errorf("after extend: start %v end %v", inst.StartDateTime, inst.EndDateTime)
	}

	until := t0.Add(5 * time.Hour)
	upd := assign(alice, globalReader, "").with("action", "ADMINUPDATE").with("scheduleInfo",
		map[string]any{"expiration": map[string]any{"type": "afterDateTime", "endDateTime": until.Format(time.RFC3339)}})
	got = decode[ScheduleRequest](t, post(t, e, upd), http.StatusCreated)
	if got.Action != ActionAdminUpdate {
		t.Errorf("action echoed as %q, want Graph's spelling", got.Action)
	}
	if end := e.Instances()[0].EndDateTime; !end.Equal(until) {
		t.Errorf("after update: end %v, want %v", end, until)
	}

	wantGraphError(t, post(t, e, ext.with("principalId", bob)), http.StatusBadRequest, CodeRoleAssignmentDoesNotExist, "does not exist")
}

func TestValidationOnlyChangesNothing(t *testing.T) {
	e, _ := newEmu(t, Options{})
	got := decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT1H").with("isValidationOnly", true)), http.StatusCreated)
	if got.Status != StatusGranted || len(e.Instances()) != 0 {
		t.Errorf("status %q, %d instances; want Granted and none", got.Status, len(e.Instances()))
	}
}

func TestNoExpirationMakesPermanentAssignment(t *testing.T) {
	e, c := newEmu(t, Options{})
	body := assign(alice, globalReader, "").with("scheduleInfo", map[string]any{"expiration": map[string]any{"type": "noExpiration"}})
	decode[ScheduleRequest](t, post(t, e, body), http.StatusCreated)
	c.Advance(10 * 365 * 24 * time.Hour)
	insts := listInstances(t, e, "")
	if len(insts) != 1 || insts[0].EndDateTime != nil {
		t.Errorf("instances %+v, want one without an end", insts)
	}
}

func TestFutureStartIsListedOnceStarted(t *testing.T) {
	e, c := newEmu(t, Options{})
	body := assign(alice, globalReader, "PT1H")
	body["scheduleInfo"].(map[string]any)["startDateTime"] = t0.Add(time.Hour).Format(time.RFC3339)
	decode[ScheduleRequest](t, post(t, e, body), http.StatusCreated)
	if insts := listInstances(t, e, ""); len(insts) != 0 {
		t.Errorf("listed before its start: %+v", insts)
	}
	c.Advance(time.Hour)
	if insts := listInstances(t, e, ""); len(insts) != 1 || !insts[0].EndDateTime.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("after start: %+v", insts)
	}
}

func TestScheduleRequestErrors(t *testing.T) {
	ok := assign(alice, globalReader, "PT1H")
	exp := func(x map[string]any) request { return ok.with("scheduleInfo", map[string]any{"expiration": x}) }
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		want   string
	}{
		{"malformed json", `{"action":`, 400, CodeMalformedBody, "JSON"},
		{"wrong type", ok.with("principalId", 5), 400, CodeMalformedBody, "principalId"},
		{"bad date", exp(map[string]any{"type": "afterDateTime", "endDateTime": "tomorrow"}), 400, CodeMalformedBody, "RFC 3339"},
		{"no action", ok.with("action", nil), 400, CodeBadRequest, "action is required"},
		{"unknown action", ok.with("action", "adminDance"), 400, CodeBadRequest, "'adminDance' is not a valid"},
		{"self action", ok.with("action", "selfActivate"), 400, CodeBadRequest, "'selfActivate' is not emulated"},
		{"no principal", ok.with("principalId", nil), 400, CodeBadRequest, "principalId is required"},
		{"principal not guid", ok.with("principalId", "alice@example.com"), 400, CodeBadRequest, "principalId 'alice@example.com' is not a valid object id"},
		{"no role", ok.with("roleDefinitionId", nil), 400, CodeBadRequest, "roleDefinitionId is required"},
		{"role not guid", ok.with("roleDefinitionId", "Global Reader"), 400, CodeBadRequest, "roleDefinitionId 'Global Reader' is not a valid id"},
		{"no scope", ok.with("directoryScopeId", nil), 400, CodeBadRequest, "directoryScopeId is required"},
		{"relative scope", ok.with("directoryScopeId", "tenant"), 400, CodeBadRequest, "must start with '/'"},
		{"app scope", ok.with("appScopeId", "/"), 400, CodeBadRequest, "appScopeId"},
		{"unknown role", ok.with("roleDefinitionId", unknownRole), 404, CodeResourceNotFound, unknownRole},
		{"no schedule", ok.with("scheduleInfo", nil), 400, CodePolicyValidationFailed, "ExpirationRule"},
		{"no expiration", ok.with("scheduleInfo", map[string]any{}), 400, CodePolicyValidationFailed, "ExpirationRule"},
		{"no type", exp(map[string]any{"duration": "PT1H"}), 400, CodeInvalidExpiration, "type is required"},
		{"bad type", exp(map[string]any{"type": "whenever"}), 400, CodeInvalidExpiration, "'whenever' is not valid"},
		{"no duration", exp(map[string]any{"type": "afterDuration"}), 400, CodeInvalidExpiration, "duration is required"},
		{"go duration", exp(map[string]any{"type": "afterDuration", "duration": "1h"}), 400, CodeInvalidExpiration, `"1h" does not start with P`},
		{"zero duration", exp(map[string]any{"type": "afterDuration", "duration": "PT0S"}), 400, CodeInvalidExpiration, "longer than zero"},
		{"over maximum", exp(map[string]any{"type": "afterDuration", "duration": "P366D"}), 400, CodePolicyValidationFailed, `["ExpirationRule"]`},
		{"no end", exp(map[string]any{"type": "afterDateTime"}), 400, CodeInvalidExpiration, "endDateTime is required"},
		{"end before start", exp(map[string]any{"type": "afterDateTime", "endDateTime": t0.Add(-time.Minute).Format(time.RFC3339)}), 400, CodeInvalidExpiration, "must be after the start"},
		{"ends in the past", ok.with("scheduleInfo", map[string]any{"startDateTime": t0.Add(-2 * time.Hour).Format(time.RFC3339),
			"expiration": map[string]any{"type": "afterDuration", "duration": "PT1H"}}), 400, CodeInvalidExpiration, "not in the future"},
		{"remove missing", remove(alice, globalReader), 400, CodeRoleAssignmentDoesNotExist, "does not exist"},
		{"extend missing", ok.with("action", ActionAdminExtend), 400, CodeRoleAssignmentDoesNotExist, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEmu(t, Options{})
			wantGraphError(t, post(t, e, tt.body), tt.status, tt.code, tt.want)
			if n := len(e.Instances()); n != 0 {
				t.Errorf("%d instances after a refused request", n)
			}
		})
	}
}

func TestMaxDurationOption(t *testing.T) {
	e, _ := newEmu(t, Options{MaxDuration: 2 * time.Hour})
	decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, "PT2H")), http.StatusCreated)
	wantGraphError(t, post(t, e, assign(bob, globalReader, "PT2H0M1S")), http.StatusBadRequest, CodePolicyValidationFailed, "maximum duration of an active assignment is PT2H")
}

func TestRequestBodyEncodings(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if err := json.NewEncoder(zw).Encode(assign(alice, globalReader, "PT30S")); err != nil {
		t.Fatal(err)
	}
	zw.Close()

	tests := []struct {
		name    string
		body    []byte
		headers []string
		status  int
	}{
		{"gzip", gz.Bytes(), []string{"Content-Encoding", "gzip"}, http.StatusCreated},
		{"not gzip", []byte(`{"action":"adminAssign"}`), []string{"Content-Encoding", "gzip"}, http.StatusBadRequest},
		{"brotli", gz.Bytes(), []string{"Content-Encoding", "br"}, http.StatusUnsupportedMediaType},
		{"xml", []byte("<x/>"), []string{"Content-Type", "application/xml"}, http.StatusUnsupportedMediaType},
		{"too big", append([]byte(`{"justification":"`), bytes.Repeat([]byte("x"), maxBody)...), nil, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEmu(t, Options{})
			w := call(t, e, http.MethodPost, requestsPath, tt.body, tt.headers...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status >= 400 {
				var body graphErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Message == "" {
					t.Errorf("no Graph error body: %s", w.Body)
				}
			}
		})
	}
}
