package policies

import (
	"slices"
	"testing"
	"time"
)

// devID is the object id dev.yaml gives the nth user (alice is 1).
func devID(n int) string {
	return "11111111-1111-4111-8111-00000000000" + string(rune('0'+n))
}

func TestDevPolicyFollowsTheContract(t *testing.T) {
	p := Dev()
	wantUsers := []struct {
		name   string
		groups []string
	}{
		{"alice", []string{"engineers"}},
		{"bob", nil},
		{"carol", nil},
		{"dave", []string{"security"}},
		{"erin", []string{"engineers", "oncall"}},
	}
	if len(p.Users) != len(wantUsers) {
		t.Fatalf("dev policy has %d users, want %d", len(p.Users), len(wantUsers))
	}
	for i, want := range wantUsers {
		u := p.Users[i]
		if u.Name != want.name || u.ID != devID(i+1) || u.UPN != want.name+"@example.com" ||
			u.Email != want.name+"@example.com" || !slices.Equal(u.Groups, want.groups) {
			t.Errorf("user %d = %+v, want %s with groups %v", i, u, want.name, want.groups)
		}
	}
	if !slices.Equal(p.Operators.Users, []string{"dave"}) || p.Operators.Entra() || len(p.Operators.Groups) > 0 {
		t.Errorf("operators = %v, want [dave]", p.Operators)
	}
	tier := func(user string, timeout time.Duration) Tier {
		return Tier{Approvers: Subjects{Users: []string{user}}, Timeout: timeout}
	}
	lead := Stage{Name: "team-lead", Approvals: 1, Tiers: []Tier{tier("bob", 20*time.Second), tier("carol", 60*time.Second)}}
	wantRoles := []Role{
		{
			Name: "reader", RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
			Requesters:  Subjects{Groups: []string{"engineers"}},
			MinDuration: 10 * time.Second, MaxDuration: 8 * time.Hour, DefaultDuration: time.Hour,
			RequireJustification: true,
			Stages:               []Stage{lead},
		},
		{
			Name: "admin", RoleDefinitionID: "194ae4cb-b126-40b2-bd5b-6091b380977d",
			Requesters:  Subjects{Groups: []string{"engineers"}},
			MinDuration: 10 * time.Second, MaxDuration: 2 * time.Hour, DefaultDuration: 30 * time.Minute,
			RequireJustification: true, RequireTicket: true,
			Stages: []Stage{lead, {Name: "security", Approvals: 1, Tiers: []Tier{tier("dave", 10*time.Minute)}}},
		},
		{
			Name: "breakglass", RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10",
			Requesters:  Subjects{Groups: []string{"oncall"}},
			MinDuration: 10 * time.Second, MaxDuration: time.Hour, DefaultDuration: 15 * time.Minute,
			RequireJustification: true,
			BreakGlass:           true, Notify: Subjects{Groups: []string{"security"}},
		},
	}
	if len(p.Roles) != len(wantRoles) {
		t.Fatalf("dev policy has %d roles, want %d", len(p.Roles), len(wantRoles))
	}
	for i, want := range wantRoles {
		got := p.Roles[i]
		if got.Description == "" || got.DirectoryScopeID != "/" {
			t.Errorf("role %s: description %q, scope %q", got.Name, got.Description, got.DirectoryScopeID)
		}
		got.Description, got.DirectoryScopeID = "", ""
		if !sameRole(got, want) {
			t.Errorf("role %d =\n%+v\nwant\n%+v", i, got, want)
		}
	}
}

func sameRole(a, b Role) bool {
	sameSubjects := func(x, y Subjects) bool {
		return slices.Equal(x.Users, y.Users) && slices.Equal(x.Groups, y.Groups)
	}
	sameStage := func(x, y Stage) bool {
		return x.Name == y.Name && x.Approvals == y.Approvals && slices.EqualFunc(x.Tiers, y.Tiers, func(s, t Tier) bool {
			return s.Timeout == t.Timeout && sameSubjects(s.Approvers, t.Approvers)
		})
	}
	return a.Name == b.Name && a.RoleDefinitionID == b.RoleDefinitionID &&
		a.MinDuration == b.MinDuration && a.MaxDuration == b.MaxDuration && a.DefaultDuration == b.DefaultDuration &&
		a.RequireJustification == b.RequireJustification && a.RequireTicket == b.RequireTicket &&
		a.BreakGlass == b.BreakGlass && sameSubjects(a.Requesters, b.Requesters) && sameSubjects(a.Notify, b.Notify) &&
		slices.EqualFunc(a.Stages, b.Stages, sameStage)
}

func TestDevReturnsIndependentCopies(t *testing.T) {
	a, b := Dev(), Dev()
	a.Roles[0].Stages[0].Tiers[0].Timeout = time.Millisecond
	if b.Roles[0].Stages[0].Tiers[0].Timeout != 20*time.Second {
		t.Error("changing one Dev() policy changed another")
	}
}

func TestLookups(t *testing.T) {
	p := Dev()
	tests := []struct {
		name   string
		lookup func() (User, bool)
		want   string // user name; empty means not found
	}{
		{"by name", func() (User, bool) { return p.UserByName("carol") }, "carol"},
		{"by unknown name", func() (User, bool) { return p.UserByName("mallory") }, ""},
		{"by id", func() (User, bool) { return p.UserByID(devID(2)) }, "bob"},
		{"by empty id", func() (User, bool) { return p.UserByID("") }, ""},
		{"by upn", func() (User, bool) { return p.UserByUPN("dave@example.com") }, "dave"},
		{"by upn in other case", func() (User, bool) { return p.UserByUPN("Dave@Example.COM") }, "dave"},
		{"by unknown upn", func() (User, bool) { return p.UserByUPN("dave@example.org") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := tt.lookup()
			if ok != (tt.want != "") || u.Name != tt.want {
				t.Errorf("got %q, %v; want %q", u.Name, ok, tt.want)
			}
		})
	}
	if r, ok := p.Role("admin"); !ok || r != &p.Roles[1] {
		t.Error("Role(admin) should point into Roles")
	}
	if _, ok := p.Role("root"); ok {
		t.Error("Role(root) found a role that does not exist")
	}
	if !slices.Equal(p.RoleNames(), []string{"reader", "admin", "breakglass"}) {
		t.Errorf("RoleNames = %v", p.RoleNames())
	}
}

func TestIsOperator(t *testing.T) {
	p := Dev()
	for id, want := range map[string]bool{devID(4): true, devID(1): false, "": false, "00000000-0000-4000-8000-000000000009": false} {
		if got, err := p.IsOperator(t.Context(), nil, id); got != want || err != nil {
			t.Errorf("IsOperator(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
}

func TestRoleApproverIDs(t *testing.T) {
	p := Dev()
	tests := map[string][]string{
		"reader":     {devID(2), devID(3)},
		"admin":      {devID(2), devID(3), devID(4)},
		"breakglass": {devID(4)}, // the notified security approver stands in
	}
	for role, want := range tests {
		r, _ := p.Role(role)
		if got := p.RoleApproverIDs(r); !slices.Equal(got, want) {
			t.Errorf("RoleApproverIDs(%s) = %v, want %v", role, got, want)
		}
	}
}
