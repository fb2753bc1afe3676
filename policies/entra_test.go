package policies

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Entra object ids of entraPolicy's groups and the fake directory's users.
const (
	gEngineers = "aaaaaaaa-0000-4000-8000-000000000001" // ann, and platform (nested)
	gLeads     = "aaaaaaaa-0000-4000-8000-000000000002" // lee
	gEmpty     = "aaaaaaaa-0000-4000-8000-000000000003"
	gPlatform  = "aaaaaaaa-0000-4000-8000-000000000004" // ben
	gSecOps    = "aaaaaaaa-0000-4000-8000-00000000000f" // vic

	uAnn = "22222222-2222-4222-8222-000000000001" // engineer, PIM-eligible; manager lee
	uBen = "22222222-2222-4222-8222-000000000002" // platform engineer; no manager
	uLee = "22222222-2222-4222-8222-000000000003" // lead; manager max
	uMax = "22222222-2222-4222-8222-000000000004" // director
	uSam = "22222222-2222-4222-8222-000000000005" // security, named by UPN
	uTom = "22222222-2222-4222-8222-000000000006" // in nothing
	uVic = "22222222-2222-4222-8222-000000000007" // security by object id; operator through secops
)

// entraPolicy names everyone through Entra: no users list.
const entraPolicy = `tenant_id: 00000000-0000-4000-8000-000000000001
operators: {groups: [AAAAAAAA-0000-4000-8000-00000000000F]}
roles:
  - name: reader
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [aaaaaaaa-0000-4000-8000-000000000001]}
    duration: {min: 1m, max: 8h}
    approval:
      stages:
        - name: lead
          tiers:
            - {approvers: {manager: 1}, timeout: 10m}
            - {approvers: {groups: [aaaaaaaa-0000-4000-8000-000000000002]}, timeout: 1h}
  - name: admin
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {pim_eligible: true}
    duration: {min: 1m, max: 2h}
    approval:
      stages:
        - name: security
          approvals: 2
          tiers:
            - {approvers: {users: [sam@example.com, 22222222-2222-4222-8222-000000000007]}, timeout: 10m}
            - {approvers: {groups: [aaaaaaaa-0000-4000-8000-000000000003]}, timeout: 1h}
  - name: two-up
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {groups: [aaaaaaaa-0000-4000-8000-000000000001]}
    duration: {min: 1m, max: 2h}
    approval:
      stages:
        - tiers: [{approvers: {manager: 2}, timeout: 1h}]
  - name: emergency
    role_definition_id: 62e90394-69f5-4237-9190-012177145e10
    requesters: {users: [Ann@Example.com]}
    duration: {min: 1m, max: 1h}
    break_glass: true
    notify: {groups: [aaaaaaaa-0000-4000-8000-00000000000f]}
`

func entraDirectory() *fakeDirectory {
	user := func(id, name string) User {
		return User{ID: id, UPN: name + "@example.com", Email: name + "@example.com"}
	}
	return &fakeDirectory{
		users: []User{user(uAnn, "ann"), user(uBen, "ben"), user(uLee, "lee"), user(uMax, "max"), user(uSam, "sam"), user(uTom, "tom"), user(uVic, "vic")},
		members: map[string][]string{
			gEngineers: {uAnn, gPlatform},
			gPlatform:  {uBen},
			gLeads:     {uLee},
			gEmpty:     {},
			gSecOps:    {uVic},
		},
		managers: map[string]string{uAnn: uLee, uLee: uMax},
		eligible: map[string]bool{uAnn: true},
	}
}

func parseEntra(t *testing.T) *Policy {
	t.Helper()
	p, err := Parse("entra.yaml", []byte(entraPolicy))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseEntraReferences(t *testing.T) {
	const guid = "5F1C0E8A-0000-4000-8000-000000000009"
	tests := []struct {
		name string
		yaml string
		get  func(p *Policy) Subjects
		want Subjects
	}{
		{"users by object id and principal name",
			edit(t, "{users: [bob]}", "{users: [bob, "+guid+", Zoe@Example.com]}"),
			tierApprovers, Subjects{Users: []string{"bob"}, UserIDs: []string{strings.ToLower(guid), "Zoe@Example.com"}}},
		{"a listed user's id or principal name is that user",
			edit(t, "{users: [bob]}", "{users: [11111111-1111-4111-8111-000000000001, BOB@example.com]}"),
			tierApprovers, Subjects{Users: []string{"alice", "bob"}}},
		{"groups by name and object id",
			edit(t, "{users: [bob]}", "{groups: [leads, "+guid+"]}"),
			tierApprovers, Subjects{Groups: []string{"leads"}, GroupIDs: []string{strings.ToLower(guid)}}},
		{"the manager", edit(t, "{users: [bob]}", "{manager: 1}"), tierApprovers, Subjects{Manager: 1}},
		{"the manager's manager beside a user", edit(t, "{users: [bob]}", "{users: [bob], manager: 2}"), tierApprovers, Subjects{Users: []string{"bob"}, Manager: 2}},
		{"PIM eligibility", edit(t, "{groups: [engineers]}", "{pim_eligible: true}"),
			func(p *Policy) Subjects { return p.Roles[0].Requesters }, Subjects{Eligible: true}},
		{"operators as a list", edit(t, "roles:\n", "operators: [bob]\nroles:\n"),
			func(p *Policy) Subjects { return p.Operators }, Subjects{Users: []string{"bob"}}},
		{"operators as a mapping", edit(t, "roles:\n", "operators: {users: [bob, ops@example.com], groups: [leads, "+guid+"]}\nroles:\n"),
			func(p *Policy) Subjects { return p.Operators },
			Subjects{Users: []string{"bob"}, UserIDs: []string{"ops@example.com"}, Groups: []string{"leads"}, GroupIDs: []string{strings.ToLower(guid)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}

	p := parseEntra(t)
	if len(p.Users) != 0 || !p.UsesDirectory() || !reflect.DeepEqual(p.Operators, Subjects{GroupIDs: []string{gSecOps}}) {
		t.Errorf("entra policy: users %v, uses directory %v, operators %+v", p.Users, p.UsesDirectory(), p.Operators)
	}
	if Dev().UsesDirectory() {
		t.Error("the dev policy names no Entra reference, yet UsesDirectory says it does")
	}
}

func tierApprovers(p *Policy) Subjects { return p.Roles[0].Stages[0].Tiers[0].Approvers }

func TestParseEntraErrors(t *testing.T) {
	const tier = "t.yaml:13: roles[0].approval.stages[0].tiers[0].approvers"
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error, in this order
	}{
		{"manager out of range", edit(t, "{users: [bob]}", "{manager: 3}"),
			[]string{tier + `.manager: expected 1 (the requester's manager) or 2 (the manager's manager); got "3"`}},
		{"manager not a number", edit(t, "{users: [bob]}", "{manager: boss}"),
			[]string{tier + `.manager: expected 1 (the requester's manager) or 2 (the manager's manager); got "boss"`}},
		{"manager among requesters", edit(t, "{groups: [engineers]}", "{groups: [engineers], manager: 1}"),
			[]string{`t.yaml:8: roles[0].requesters.manager: is accepted only in an approval tier (approval.stages[].tiers[].approvers), where it asks the requester's manager`}},
		{"manager told of break-glass", edit(t, "    approval:", "    break_glass: true\n    notify: {manager: 1}\n    approvel:"),
			[]string{`t.yaml:11: roles[0].notify.manager: is accepted only in an approval tier`}},
		{"manager as operator", edit(t, "roles:\n", "operators: {manager: 1}\nroles:\n"),
			[]string{`t.yaml:5: operators.manager: is accepted only in an approval tier`}},
		{"eligibility in a tier", edit(t, "{users: [bob]}", "{users: [bob], pim_eligible: true}"),
			[]string{tier + `.pim_eligible: is accepted only under a role's requesters, where it lets anyone with a PIM eligibility for the role request it`}},
		{"eligibility as operator", edit(t, "roles:\n", "operators: {pim_eligible: true}\nroles:\n"),
			[]string{`t.yaml:5: operators.pim_eligible: is accepted only under a role's requesters`}},
		{"eligibility not a bool", edit(t, "{groups: [engineers]}", "{pim_eligible: yes}"),
			[]string{`t.yaml:8: roles[0].requesters.pim_eligible: must be true or false; got "yes"`}},
		{"eligibility false names no one", edit(t, "{groups: [engineers]}", "{pim_eligible: false}"),
			[]string{`t.yaml:8: roles[0].requesters: names no one; give users: [...], groups: [...] and/or pim_eligible: true`}},
		{"an empty tier is told about manager", edit(t, "{users: [bob]}", "{}"),
			[]string{tier + `: names no one; give users: [...], groups: [...] and/or manager: 1`}},
		{"neither name nor id nor principal name", edit(t, "{users: [bob]}", "{users: [zoe]}"),
			[]string{tier + `.users[0]: unknown user "zoe"; users of this file: alice, bob; or give an Entra user's object id (a GUID) or user principal name (name@domain)`}},
		{"a broken principal name", edit(t, "{users: [bob]}", "{users: [zoe@a@b]}"),
			[]string{tier + `.users[0]: "zoe@a@b" is not a user principal name; expected name@domain`}},
		{"neither group name nor id", edit(t, "{users: [bob]}", "{groups: [ops]}"),
			[]string{tier + `.groups[0]: unknown group "ops"; a group exists when some user lists it under groups; groups of this file: engineers, leads; or give an Entra group's object id (a GUID)`}},
		{"a user by name and by id", edit(t, "{users: [bob]}", "{users: [bob, 11111111-1111-4111-8111-000000000002]}"),
			[]string{tier + `.users[1]: "11111111-1111-4111-8111-000000000002" is user "bob", already listed as roles[0].approval.stages[0].tiers[0].approvers.users[0]; keep one`}},
		{"an id listed twice in two cases", edit(t, "{users: [bob]}", "{users: [5f1c0e8a-0000-4000-8000-00000000000a, 5F1C0E8A-0000-4000-8000-00000000000A]}"),
			[]string{tier + `.users[1]: "5F1C0E8A-0000-4000-8000-00000000000A" is listed twice`}},
		{"misspelt key", edit(t, "{users: [bob]}", "{managers: 1}"),
			[]string{tier + `.managers: unknown key "managers" (did you mean "manager"?); accepted keys: users, groups, manager, pim_eligible`}},
		{"operator mapping with an unknown name", edit(t, "roles:\n", "operators: {users: [mallory]}\nroles:\n"),
			[]string{`t.yaml:5: operators.users[0]: unknown user "mallory"`}},
		{"a name without a users list", strings.Replace(edit(t, "{users: [bob]}", "{users: [bob], groups: [5f1c0e8a-0000-4000-8000-000000000001]}"),
			"users:\n  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}\n  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com, groups: [leads]}\n", "", 1),
			[]string{`t.yaml:5: roles[0].requesters.groups[0]: unknown group "engineers"; a group exists when some user lists it under groups; groups of this file: (none)`,
				`t.yaml:10: roles[0].approval.stages[0].tiers[0].approvers.users[0]: unknown user "bob"; users of this file: (none)`}},
		{"static people still may not approve two stages", basePolicy + "        - tiers: [{approvers: {users: [bob], manager: 1}, timeout: 1m}]\n",
			[]string{`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.users[0]: user "bob" also approves stage "stage 1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("Parse accepted a broken policy")
			}
			rest := err.Error()
			for _, want := range tt.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("error lacks (or misorders) %q; got:\n%s", want, err)
				}
				rest = rest[i+len(want):]
			}
		})
	}
}

// A stage naming Entra approvers has as many people as the directory
// gives it when it starts: its approvals are not counted at load time.
func TestApprovalsAreCountedOnlyWithoutEntra(t *testing.T) {
	withGroup := edit(t, "- tiers:\n            - approvers: {users: [bob]}", "- approvals: 3\n          tiers:\n            - approvers: {users: [bob], groups: [5f1c0e8a-0000-4000-8000-000000000001]}")
	if _, err := Parse("t.yaml", []byte(withGroup)); err != nil {
		t.Errorf("approvals over the listed people were refused in a stage with an Entra group: %v", err)
	}
}

func TestResolveEntra(t *testing.T) {
	throttled := errors.New("graph: HTTP 429 too many requests")
	tests := []struct {
		name, role string
		caller     Caller
		fail       error
		wantDetail string // NotEligible detail; "" when the request is accepted
		wantErr    error  // a directory failure
	}{
		{name: "direct member of the group", role: "reader", caller: Caller{ID: uAnn}},
		{name: "member through a nested group", role: "reader", caller: Caller{ID: uBen}},
		{name: "member by the token's group ids", role: "reader", caller: Caller{ID: "33333333-3333-4333-8333-000000000001", Groups: []string{strings.ToUpper(gEngineers)}}},
		{name: "not a member", role: "reader", caller: Caller{ID: uTom, UPN: "tom@example.com"},
			wantDetail: `tom@example.com may not request role "reader"; it is for members of Entra groups ` + gEngineers},
		{name: "not in the directory", role: "reader", caller: Caller{ID: "33333333-3333-4333-8333-000000000001"},
			wantDetail: `may not request role "reader"`},
		{name: "PIM-eligible", role: "admin", caller: Caller{ID: uAnn}},
		{name: "not PIM-eligible", role: "admin", caller: Caller{ID: uBen, UPN: "ben@example.com"},
			wantDetail: `ben@example.com may not request role "admin"; it is for holders of a PIM eligibility for it in Entra`},
		{name: "named by principal name", role: "emergency", caller: Caller{ID: uAnn}},
		{name: "another principal name", role: "emergency", caller: Caller{ID: uBen}, wantDetail: "it is for Entra users Ann@Example.com"},
		{name: "groups unreadable", role: "reader", caller: Caller{ID: uBen}, fail: throttled, wantErr: throttled},
		{name: "eligibility unreadable", role: "admin", caller: Caller{ID: uAnn}, fail: throttled, wantErr: throttled},
		{name: "user reference unreadable", role: "emergency", caller: Caller{ID: uAnn}, fail: throttled, wantErr: throttled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, dir := parseEntra(t), entraDirectory()
			dir.fail(tt.fail)
			_, err := p.Resolve(t.Context(), dir, tt.caller, RequestInput{Role: tt.role, Duration: time.Hour})
			switch {
			case tt.wantErr != nil:
				var de *DirectoryError
				if re := (*RequestError)(nil); errors.As(err, &re) || !errors.As(err, &de) || !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v; want a *DirectoryError wrapping %v, never a refusal", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "could not read the directory (") || !strings.HasSuffix(err.Error(), "; try again") {
					t.Errorf("error reads %q", err)
				}
			case tt.wantDetail != "":
				checkRequestError(t, err, NotEligible, "role", tt.wantDetail)
			case err != nil:
				t.Fatalf("Resolve: %v", err)
			}
		})
	}
}

func TestResolveEntraPlan(t *testing.T) {
	p, dir := parseEntra(t), entraDirectory()
	plan, err := p.Resolve(t.Context(), dir, Caller{ID: uAnn}, RequestInput{Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	want := []PlanTier{
		{Directory: ApproverRefs{Manager: 1}, Timeout: 10 * time.Minute, RemindBefore: 150 * time.Second},
		{Directory: ApproverRefs{GroupIDs: []string{gLeads}}, Timeout: time.Hour, RemindBefore: 15 * time.Minute},
	}
	if len(plan.Stages) != 1 || !reflect.DeepEqual(plan.Stages[0].Tiers, want) {
		t.Errorf("tiers = %+v\nwant %+v", plan.Stages, want)
	}
	if n := dir.count("GroupMembers") + dir.count("Manager"); n != 0 {
		t.Errorf("Resolve read %d groups or managers; they are resolved when the stage starts", n)
	}

	// Entra users are looked up once per policy, whoever asks.
	for range 3 {
		plan, err = p.Resolve(t.Context(), dir, Caller{ID: uAnn}, RequestInput{Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
	}
	tiers := plan.Stages[0].Tiers
	if got := userNames2(tiers[0].Approvers); got != "sam@example.com,vic@example.com" || !reflect.DeepEqual(tiers[1].Directory, ApproverRefs{GroupIDs: []string{gEmpty}}) {
		t.Errorf("admin tiers: %s then %+v", got, tiers[1].Directory)
	}
	if n := dir.count("User"); n != 2 {
		t.Errorf("%d user lookups for two references over three requests, want 2", n)
	}
	for range 2 {
		if _, err := p.Resolve(t.Context(), dir, Caller{ID: uAnn}, RequestInput{Role: "emergency"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := dir.count("User"); n != 3 {
		t.Errorf("%d user lookups after a principal name was checked twice, want 3", n)
	}

	// Break-glass resolves the notify list's groups at once.
	plan, err = p.Resolve(t.Context(), dir, Caller{ID: uAnn}, RequestInput{Role: "emergency"})
	if err != nil || userNames2(plan.Notify) != "vic@example.com" {
		t.Errorf("break-glass notify = %v, %v; want vic, the group's member", plan.Notify, err)
	}
	if _, err := p.Resolve(t.Context(), nil, Caller{ID: uAnn}, RequestInput{Role: "reader"}); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("Resolve without a directory = %v, want ErrNoDirectory", err)
	}
}

// A stage whose Entra user references are all the requester (or gone)
// and which names no group or manager cannot be decided.
func TestResolveStageWithNobody(t *testing.T) {
	src := edit(t, "{users: [bob]}", "{users: [bob, "+uSam+", gone@example.com]}")
	p, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Resolve(t.Context(), entraDirectory(), Caller{ID: devID(1)}, RequestInput{Role: "reader"})
	if err != nil || userNames2(plan.Stages[0].Tiers[0].Approvers) != "bob@example.com,sam@example.com" {
		t.Fatalf("plan %+v, %v; want bob then sam (gone@example.com is not in the directory)", plan.Stages, err)
	}
	only := strings.Replace(src, "users: [bob, ", "users: [", 1)
	p, err = Parse("t.yaml", []byte(only))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Resolve(t.Context(), entraDirectory(), Caller{ID: uSam, Groups: []string{"engineers"}}, RequestInput{Role: "reader"})
	checkRequestError(t, err, Invalid, "role", `no one but you can approve stage "stage 1" of role "reader"`)
}

func userNames2(users []User) string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.UPN
	}
	return strings.Join(out, ",")
}

func TestMayStillDecideEntra(t *testing.T) {
	throttled := errors.New("graph: HTTP 503")
	tests := []struct {
		name          string
		role          string
		approver      string
		requester     string
		change        func(d *fakeDirectory)
		refusal       string // "" when they still may
		directoryFail error
	}{
		{name: "the requester's manager", role: "reader", approver: uLee, requester: uAnn},
		{name: "a member of the group", role: "reader", approver: uLee, requester: uBen},
		{name: "the manager, having left the group", role: "reader", approver: uLee, requester: uAnn,
			change: func(d *fakeDirectory) { d.members[gLeads] = nil }},
		{name: "removed from the group", role: "reader", approver: uLee, requester: uBen,
			change:  func(d *fakeDirectory) { d.members[gLeads] = nil },
			refusal: "user " + uLee + " is not an approver of role reader under the current policy (not a member of Entra group " + gLeads + "; not the manager of requester " + uBen + ")"},
		{name: "no longer the manager", role: "reader", approver: uLee, requester: uAnn,
			change:  func(d *fakeDirectory) { d.members[gLeads] = nil; d.managers[uAnn] = uMax },
			refusal: "not the manager of requester " + uAnn},
		{name: "the new manager", role: "reader", approver: uMax, requester: uAnn,
			change: func(d *fakeDirectory) { d.managers[uAnn] = uMax }},
		{name: "the manager's manager", role: "two-up", approver: uMax, requester: uAnn},
		{name: "the manager is not the manager's manager", role: "two-up", approver: uLee, requester: uAnn,
			refusal: "not the level-2 manager of requester " + uAnn},
		{name: "a user reference", role: "admin", approver: uVic, requester: uAnn},
		{name: "a principal name reference", role: "admin", approver: uSam, requester: uAnn},
		{name: "never named", role: "admin", approver: uTom, requester: uAnn, refusal: "user " + uTom + " is not an approver of role admin"},
		{name: "notified of break-glass, not an approver", role: "emergency", approver: uVic, requester: uAnn, refusal: "is not an approver of role emergency"},
		{name: "groups unreadable", role: "reader", approver: uLee, requester: uBen, directoryFail: throttled},
		{name: "manager unreadable", role: "two-up", approver: uLee, requester: uAnn, directoryFail: throttled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, dir := parseEntra(t), entraDirectory()
			if tt.change != nil {
				tt.change(dir)
			}
			dir.fail(tt.directoryFail)
			role, err := p.MayStillDecide(t.Context(), dir, tt.role, tt.approver, tt.requester)
			switch {
			case tt.directoryFail != nil:
				var de *DirectoryError
				if !errors.As(err, &de) || !errors.Is(err, tt.directoryFail) || errors.Is(err, ErrNoLongerApprover) {
					t.Fatalf("got %v; want a *DirectoryError, not a refusal", err)
				}
			case tt.refusal != "":
				var r *DecideRefusal
				if !errors.As(err, &r) || !errors.Is(err, ErrNoLongerApprover) || !strings.Contains(r.Reason, tt.refusal) || role != nil {
					t.Fatalf("got %v, %v; want a refusal saying %q", role, err, tt.refusal)
				}
			case err != nil || role == nil || role.Name != tt.role:
				t.Fatalf("got %v, %v; want the role", role, err)
			}
		})
	}
	if _, err := parseEntra(t).MayStillDecide(t.Context(), nil, "reader", uLee, uAnn); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("without a directory: %v, want ErrNoDirectory", err)
	}
}

func TestIsOperatorAndRoleApproverEntra(t *testing.T) {
	p, dir := parseEntra(t), entraDirectory()
	for id, want := range map[string]bool{uVic: true, uTom: false, "": false, "33333333-3333-4333-8333-000000000001": false} {
		if got, err := p.IsOperator(t.Context(), dir, id); got != want || err != nil {
			t.Errorf("IsOperator(%q) = %v, %v; want %v", id, got, err, want)
		}
	}
	role := func(name string) *Role { r, _ := p.Role(name); return r }
	tests := []struct {
		role, user, requester string
		want                  bool
	}{
		{"reader", uLee, uAnn, true}, // manager and group member
		{"reader", uMax, uAnn, false},
		{"two-up", uMax, uAnn, true},
		{"two-up", uMax, uBen, false}, // ben has no manager
		{"admin", uSam, uAnn, true},
		{"emergency", uVic, uAnn, true}, // told of break-glass: may look and revoke
		{"emergency", uAnn, uAnn, false},
	}
	for _, tt := range tests {
		if got, err := p.IsRoleApprover(t.Context(), dir, role(tt.role), tt.user, tt.requester); got != tt.want || err != nil {
			t.Errorf("IsRoleApprover(%s, %s, requester %s) = %v, %v; want %v", tt.role, tt.user, tt.requester, got, err, tt.want)
		}
	}
	dir.fail(errors.New("graph down"))
	if _, err := p.IsOperator(t.Context(), dir, uTom); !errors.As(err, new(*DirectoryError)) {
		t.Errorf("IsOperator with the directory down = %v, want a *DirectoryError", err)
	}
	if _, err := p.IsOperator(t.Context(), nil, uVic); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("IsOperator without a directory = %v, want ErrNoDirectory", err)
	}
	// The dev policy needs no directory.
	dev := Dev()
	r, _ := dev.Role("admin")
	if ok, err := dev.IsRoleApprover(t.Context(), nil, r, devID(4), devID(1)); !ok || err != nil {
		t.Errorf("dave approves admin in the dev policy: %v, %v", ok, err)
	}
	if ok, err := dev.IsRoleApprover(t.Context(), nil, r, devID(5), devID(1)); ok || err != nil {
		t.Errorf("erin does not approve admin in the dev policy: %v, %v", ok, err)
	}
}

var explainNoon = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func explainText(t *testing.T, e Explanation) string {
	t.Helper()
	var b strings.Builder
	if err := e.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestExplainDev(t *testing.T) {
	p := Dev()
	e, err := p.Explain(t.Context(), nil, "alice", "reader", 0, explainNoon)
	if err != nil {
		t.Fatal(err)
	}
	want := `User: alice@example.com (alice, 11111111-1111-4111-8111-000000000001)
  groups: engineers
Role: reader (role f2ef992c-3afb-46b9-b7cf-a126ee74c451 at /)
May request: yes
Duration: 1h would be granted
Conditions: none
Stage 1 "team-lead": needs 1 approval
  Tier 1, timeout 20s, would ask:
    - bob@example.com (bob, 11111111-1111-4111-8111-000000000002) (user bob)
  Tier 2, timeout 1m, would ask:
    - carol@example.com (carol, 11111111-1111-4111-8111-000000000003) (user carol)
Note: rules were evaluated as for a caller without multi-factor sign-in (caller.mfa false) and without app roles (caller.roles empty), with an empty justification and ticket, at 2030-01-01T12:00:00Z
`
	if got := explainText(t, e); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// By principal name and object id too; bob may not, and 9h is too long.
	for _, user := range []string{"BOB@example.com", devID(2)} {
		e, err = p.Explain(t.Context(), nil, user, "reader", 9*time.Hour, explainNoon)
		if err != nil {
			t.Fatal(err)
		}
		text := explainText(t, e)
		for _, want := range []string{
			`May request: NO: bob@example.com may not request role "reader"; it is for groups engineers`,
			`Duration: REFUSED: 9h is over the maximum of role "reader"; accepted: 10s to 8h`,
			"Tier 1, timeout 20s, would ask:\n    (nobody)\n    (the requester is named here and left out: nobody approves their own request)\n    PROBLEM: nobody would be asked in this tier",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("explanation for %s lacks %q:\n%s", user, want, text)
			}
		}
	}

	e, err = p.Explain(t.Context(), nil, "dave", "breakglass", 0, explainNoon)
	if err != nil || !strings.Contains(explainText(t, e), "Break-glass: activates at once without approval\nWould tell:\n    - dave@example.com (dave, 11111111-1111-4111-8111-000000000004) (group security)\n") {
		t.Errorf("break-glass: %v\n%s", err, explainText(t, e))
	}

	for _, tc := range []struct{ user, role, want string }{
		{"mallory", "reader", `--user "mallory" is not in the policy's users list; give a short name of the policy's users list (alice, bob, carol, dave, erin), a user principal name (name@domain) or an Entra object id (a GUID)`},
		{"zoe@example.com", "reader", `--user "zoe@example.com" is not in the policy's users list, and no directory (Microsoft Graph) is configured to look it up`},
		{"", "reader", "--user is empty"},
		{"alice", "root", `--role "root" is not a role of this policy; roles: reader, admin, breakglass`},
	} {
		if _, err := p.Explain(t.Context(), nil, tc.user, tc.role, 0, explainNoon); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Explain(%q, %q) = %v, want %q", tc.user, tc.role, err, tc.want)
		}
	}
}

func TestExplainRules(t *testing.T) {
	p := parseRules(t, rulesPolicy)
	night := time.Date(2030, 1, 1, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name, user string
		d          time.Duration
		at         time.Time
		want       []string
	}{
		{"an on-call engineer asking briefly is auto-approved", "erin", 10 * time.Minute, explainNoon, []string{
			"Conditions: all hold\nAuto-approval: rule \"oncall-short\" would approve at once",
			"Note: requesters and approvers must sign in with multi-factor authentication (require_mfa)",
			"Note: requesters and approvers must pass Entra authentication context c1 (auth_context)",
		}},
		{"longer, people decide", "erin", time.Hour, explainNoon, []string{"Auto-approval: no rule would approve; the stages below decide"}},
		{"at night a condition refuses", "alice", time.Hour, night, []string{
			"Conditions that would REFUSE the request:\n  - condition \"office-hours\" does not hold: outside 06:00-22:00 UTC, use the breakglass role",
			"at 2030-01-01T23:00:00Z",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := p.Explain(t.Context(), nil, tt.user, "reader", tt.d, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			text := explainText(t, e)
			for _, want := range tt.want {
				if !strings.Contains(text, want) {
					t.Errorf("explanation lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestExplainEntra(t *testing.T) {
	p, dir := parseEntra(t), entraDirectory()
	dir.members[gLeads] = []string{uLee, uAnn}
	e, err := p.Explain(t.Context(), dir, "ann@example.com", "reader", 0, explainNoon)
	if err != nil {
		t.Fatal(err)
	}
	want := `User: ann@example.com (` + uAnn + `)
  (not in the policy's users list; found in the directory)
  groups: ` + gEngineers + `, ` + gLeads + `
Role: reader (role f2ef992c-3afb-46b9-b7cf-a126ee74c451 at /)
May request: yes
Duration: 1h would be granted
Conditions: none
Stage 1 "lead": needs 1 approval
  Tier 1, timeout 10m, would ask:
    - lee@example.com (` + uLee + `) (manager)
  Tier 2, timeout 1h, would ask:
    - lee@example.com (` + uLee + `) (Entra group ` + gLeads + `)
    (the requester is named here and left out: nobody approves their own request)
`
	if got := explainText(t, e); !strings.HasPrefix(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// ben has no manager; the admin role's second tier is an empty group.
	for _, tc := range []struct{ user, role string }{{uBen, "reader"}, {"ben@example.com", "admin"}} {
		e, err := p.Explain(t.Context(), dir, tc.user, tc.role, 0, explainNoon)
		if err != nil {
			t.Fatal(err)
		}
		text := explainText(t, e)
		wants := map[string][]string{
			"reader": {"Tier 1, timeout 10m, would ask:\n    (nobody)\n    PROBLEM: requester " + uBen + " has no manager in the directory\n    PROBLEM: nobody would be asked in this tier"},
			"admin": {
				`May request: NO: ben@example.com may not request role "admin"; it is for holders of a PIM eligibility for it in Entra`,
				"    - sam@example.com (" + uSam + ") (Entra user sam@example.com)\n    - vic@example.com (" + uVic + ") (Entra user " + uVic + ")",
				"Tier 2, timeout 1h, would ask:\n    (nobody)\n    PROBLEM: group " + gEmpty + " has no members\n    PROBLEM: nobody would be asked in this tier",
			},
		}[tc.role]
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s/%s lacks %q:\n%s", tc.user, tc.role, want, text)
			}
		}
	}

	// A stage short of people says so loudly.
	dir.members[gSecOps] = nil
	e, err = p.Explain(t.Context(), dir, "ann@example.com", "emergency", 0, explainNoon)
	if err != nil || !strings.Contains(explainText(t, e), "PROBLEM: nobody would be told of the activation") {
		t.Errorf("emergency with an empty notify group: %v\n%s", err, explainText(t, e))
	}
	dir.users = append(dir.users, User{ID: "22222222-2222-4222-8222-000000000008", UPN: "evil\x1b[31m@example.com"})
	dir.managers[uAnn] = "22222222-2222-4222-8222-000000000008"
	e, err = p.Explain(t.Context(), dir, uAnn, "reader", 0, explainNoon)
	if text := explainText(t, e); err != nil || strings.Contains(text, "\x1b") || !strings.Contains(text, `evil\x1b[31m@example.com`) {
		t.Errorf("a control character from the directory reached the text (%v):\n%q", err, text)
	}

	for _, tc := range []struct {
		user string
		fail error
		want string
	}{
		{"nobody@example.com", nil, `--user "nobody@example.com" is neither in the policy's users list nor in the directory`},
		{"ann", nil, `--user "ann" is not in the policy's users list; give a short name of the policy's users list ((none))`},
		{uAnn, errors.New("graph: HTTP 429"), "could not read the directory (look up user " + uAnn + "): graph: HTTP 429; try again"},
	} {
		dir.fail(tc.fail)
		if _, err := p.Explain(t.Context(), dir, tc.user, "reader", 0, explainNoon); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Explain(%q) = %v, want %q", tc.user, err, tc.want)
		}
	}
	if _, err := p.Explain(t.Context(), nil, uAnn, "reader", 0, explainNoon); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("Explain without a directory = %v, want ErrNoDirectory", err)
	}
	if !slices.Contains(p.RoleNames(), "two-up") {
		t.Error("entraPolicy lost a role")
	}
}

// One loaded policy serves every API request at once.
func TestResolveEntraConcurrently(t *testing.T) {
	p, dir := parseEntra(t), entraDirectory()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := p.Resolve(t.Context(), dir, Caller{ID: uAnn}, RequestInput{Role: "admin"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Requests racing on an empty cache may each look up; once it is
	// filled, nobody does.
	before := dir.count("User")
	if _, err := p.Resolve(t.Context(), dir, Caller{ID: uAnn}, RequestInput{Role: "admin"}); err != nil || dir.count("User") != before {
		t.Errorf("after the cache filled: %v, %d lookups then %d", err, before, dir.count("User"))
	}
}
