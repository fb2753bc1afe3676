package graphemu

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A small directory: carol manages bob, who manages alice; dave has no
// manager; erin's manager is not in the directory.
const (
	carol = "33333333-3333-3333-3333-333333333333"
	dave  = "44444444-4444-4444-4444-444444444444"
	erin  = "55555555-5555-5555-5555-555555555555"
	gone  = "66666666-6666-6666-6666-666666666666"
)

func directoryUsers() []User {
	return []User{
		{ID: alice, DisplayName: "Alice", UPN: "alice@example.com", Mail: "alice@mail.example.com", ManagerID: bob},
		{ID: bob, DisplayName: "Bob", UPN: "bob@example.com", ManagerID: strings.ToUpper(carol)},
		{ID: strings.ToUpper(carol), DisplayName: "Carol", UPN: "Carol@Example.com"},
		{ID: dave, DisplayName: "Dave", UPN: "dave@example.com"},
		{ID: erin, DisplayName: "Erin", UPN: "erin@example.com", ManagerID: gone},
	}
}

func withUsers(t *testing.T) *Emulator {
	t.Helper()
	e, _ := newEmu(t, Options{})
	if err := e.SetUsers(directoryUsers()); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestGetUserByIDOrPrincipalName(t *testing.T) {
	e := withUsers(t)
	for _, key := range []string{alice, "ALICE@example.COM"} {
		got := decode[map[string]any](t, call(t, e, http.MethodGet, "/v1.0/users/"+key+"?%24select=id,displayName,userPrincipalName,mail", nil), http.StatusOK)
		want := map[string]any{"id": alice, "displayName": "Alice", "userPrincipalName": "alice@example.com", "mail": "alice@mail.example.com",
			"@odata.context": "http://example.com/v1.0/$metadata#users(id,displayName,userPrincipalName,mail)/$entity"}
		if !maps.Equal(got, want) {
			t.Errorf("GET user %s = %v, want %v", key, got, want)
		}
	}
	// Ids compare case-insensitively and come back in lower case.
	got := decode[map[string]any](t, call(t, e, http.MethodGet, "/v1.0/Users/"+carol+"?%24select=ID,mail", nil), http.StatusOK)
	if got["id"] != carol || got["mail"] != nil || len(got) != 3 {
		t.Errorf("GET carol with $select=ID,mail = %v, want her id and a null mail only", got)
	}
	// Without $select: Graph's default set.
	got = decode[map[string]any](t, call(t, e, http.MethodGet, "/v1.0/users/"+dave, nil), http.StatusOK)
	for _, p := range userProperties {
		if _, ok := got[p]; !ok {
			t.Errorf("default properties %v lack %s", got, p)
		}
	}
	if got["userPrincipalName"] != "dave@example.com" || got["managerId"] != nil {
		t.Errorf("default properties %v", got)
	}
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+gone, nil), http.StatusNotFound, CodeResourceNotFound, gone)
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/nobody@example.com", nil), http.StatusNotFound, CodeResourceNotFound, "nobody@example.com")
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+alice+"?%24select=id,salary", nil), http.StatusBadRequest, CodeMalformedBody, "'salary'")
}

func TestUsersUnknownBeforeSet(t *testing.T) {
	e, _ := newEmu(t, Options{})
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+alice, nil), http.StatusNotFound, CodeResourceNotFound, alice)
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+alice+"/manager", nil), http.StatusNotFound, CodeResourceNotFound, alice)
}

func TestManager(t *testing.T) {
	e := withUsers(t)
	got := decode[map[string]any](t, call(t, e, http.MethodGet, "/v1.0/users/alice@example.com/manager?%24select=id,displayName,userPrincipalName,mail", nil), http.StatusOK)
	if got["@odata.type"] != "#microsoft.graph.user" || got["id"] != bob || got["userPrincipalName"] != "bob@example.com" || got["mail"] != nil {
		t.Errorf("alice's manager = %v, want bob typed as a user", got)
	}
	got = decode[map[string]any](t, call(t, e, http.MethodGet, "/v1.0/users/"+bob+"/manager", nil), http.StatusOK)
	if got["id"] != carol || got["displayName"] != "Carol" {
		t.Errorf("bob's manager = %v, want carol", got)
	}
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+dave+"/manager", nil), http.StatusNotFound, CodeResourceNotFound, "'manager'")
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+erin+"/manager", nil), http.StatusNotFound, CodeResourceNotFound, "'manager'")
	wantGraphError(t, call(t, e, http.MethodGet, "/v1.0/users/"+gone+"/manager", nil), http.StatusNotFound, CodeResourceNotFound, gone)
}

func TestSetUsersRefusesBadUsers(t *testing.T) {
	e, _ := newEmu(t, Options{})
	ok := User{ID: alice, DisplayName: "Alice", UPN: "alice@example.com"}
	tests := []struct {
		users []User
		want  string
	}{
		{[]User{{ID: "alice", DisplayName: "Alice", UPN: "alice@example.com"}}, "users[0]: id must be"},
		{[]User{ok, {ID: bob, DisplayName: "Bob", UPN: "bob"}}, "users[1]: userPrincipalName must look like name@domain"},
		{[]User{{ID: alice, UPN: "alice@example.com"}}, "displayName is required"},
		{[]User{{ID: alice, DisplayName: "Alice", UPN: "alice@example.com", Mail: "alice"}}, "mail must be"},
		{[]User{{ID: alice, DisplayName: "Alice", UPN: "alice@example.com", ManagerID: "bob"}}, "managerId must be"},
		{[]User{{ID: alice, DisplayName: "Alice", UPN: "alice@example.com", ManagerID: alice}}, "their own manager"},
		{[]User{ok, {ID: bob, DisplayName: "Bob", UPN: "ALICE@example.com"}}, "users[1] has the id or userPrincipalName of users[0]"},
	}
	for _, tt := range tests {
		err := e.SetUsers(tt.users)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SetUsers(%+v) = %v, want an error with %q", tt.users, err, tt.want)
		}
	}
	if len(e.Users()) != 0 {
		t.Errorf("refused users were kept: %+v", e.Users())
	}
}

func TestUsersAdmin(t *testing.T) {
	e, _ := newEmu(t, Options{})
	body := `{"id":"` + strings.ToUpper(alice) + `","displayName":"Alice","userPrincipalName":"alice@example.com","managerId":"` + bob + `"}`
	got := decode[User](t, call(t, e, http.MethodPost, "/_emulator/users", body), http.StatusOK)
	if got.ID != alice || got.ManagerID != bob {
		t.Errorf("POST user answered %+v", got)
	}
	decode[User](t, call(t, e, http.MethodPost, "/_emulator/users", `{"id":"`+bob+`","displayName":"Bob","userPrincipalName":"bob@example.com"}`), http.StatusOK)
	// The same id again replaces the user.
	decode[User](t, call(t, e, http.MethodPost, "/_emulator/users", `{"id":"`+alice+`","displayName":"Alice B.","userPrincipalName":"alice@example.com","mail":"ab@example.com"}`), http.StatusOK)
	list := decode[collection[User]](t, call(t, e, http.MethodGet, "/_emulator/users", nil), http.StatusOK)
	want := []User{{ID: alice, DisplayName: "Alice B.", UPN: "alice@example.com", Mail: "ab@example.com"}, {ID: bob, DisplayName: "Bob", UPN: "bob@example.com"}}
	if !slices.Equal(list.Value, want) {
		t.Errorf("GET users = %+v, want %+v", list.Value, want)
	}
	for body, field := range map[string]string{
		`{"id":"x","displayName":"X","userPrincipalName":"x@example.com"}`:                               "id must be",
		`{"id":"` + dave + `","displayName":"D","userPrincipalName":"dave"}`:                             "userPrincipalName",
		`{"id":"` + dave + `","displayName":"D","userPrincipalName":"d@example.com","managerId":"boss"}`: "managerId",
		`{"id":"` + dave + `","displayName":"D","userPrincipalName":"d@example.com","manager":"x"}`:      `unknown field "manager"`,
		`{"id":"` + dave + `","displayName":"D","userPrincipalName":"BOB@example.com"}`:                  "already another user's",
	} {
		wantGraphError(t, call(t, e, http.MethodPost, "/_emulator/users", body), http.StatusBadRequest, CodeMalformedBody, field)
	}
	if n := len(e.Users()); n != 2 {
		t.Errorf("%d users after refused posts, want 2", n)
	}
}
