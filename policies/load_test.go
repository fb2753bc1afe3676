package policies

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// basePolicy is a small valid policy; the cases below break one line of it
// at a time, so the line numbers in their expectations are stable.
const basePolicy = `tenant_id: 00000000-0000-4000-8000-000000000001
users:
  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}
  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com, groups: [leads]}
roles:
  - name: reader
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 8h}
    approval:
      stages:
        - tiers:
            - approvers: {users: [bob]}
              timeout: 20s
`

// edit replaces old (which must occur in basePolicy) with replacement.
func edit(t *testing.T, old, replacement string) string {
	t.Helper()
	if !strings.Contains(basePolicy, old) {
		t.Fatalf("basePolicy has no %q", old)
	}
	return strings.Replace(basePolicy, old, replacement, 1)
}

func TestBasePolicyParses(t *testing.T) {
	p, err := Parse("t.yaml", []byte(basePolicy))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Role("reader")
	if r.DirectoryScopeID != "/" || r.DefaultDuration != time.Hour || r.Stages[0].Name != "stage 1" || r.Stages[0].Approvals != 1 {
		t.Errorf("defaults not applied: %+v", r)
	}
	if u, _ := p.UserByName("bob"); u.Email != "bob@example.com" {
		t.Errorf("email should default to the UPN, got %q", u.Email)
	}
}

func TestTargetsEligibilityAndExtension(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Role
	}{
		{"administrative unit", edit(t, "    requesters:", "    directory_scope_id: /administrativeUnits/AAAAAAAA-1111-4111-8111-000000000001\n    requesters:"),
			Role{RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/administrativeunits/aaaaaaaa-1111-4111-8111-000000000001", ExtendMax: 8 * time.Hour}},
		{"group owner with eligibility", edit(t, "    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451\n",
			"    group: {id: 22222222-2222-4222-8222-000000000001, access: owner}\n    require_eligibility: true\n"),
			Role{GroupID: "22222222-2222-4222-8222-000000000001", GroupAccess: GroupOwner, RequireEligibility: true, ExtendMax: 8 * time.Hour}},
		{"group member by default", edit(t, "    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451\n", "    group: {id: 22222222-2222-4222-8222-000000000001}\n"),
			Role{GroupID: "22222222-2222-4222-8222-000000000001", GroupAccess: GroupMember, ExtendMax: 8 * time.Hour}},
		{"short extensions without approval", edit(t, "    approval:", "    extension: {without_approval_up_to: 15m, max: 2h}\n    approval:"),
			Role{RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/", ExtendWithoutApprovalUpTo: 15 * time.Minute, ExtendMax: 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := p.Role("reader")
			got := Role{RoleDefinitionID: r.RoleDefinitionID, DirectoryScopeID: r.DirectoryScopeID, GroupID: r.GroupID, GroupAccess: r.GroupAccess,
				RequireEligibility: r.RequireEligibility, ExtendWithoutApprovalUpTo: r.ExtendWithoutApprovalUpTo, ExtendMax: r.ExtendMax}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestObjectIDsAreCaseInsensitive(t *testing.T) {
	p, err := Parse("t.yaml", []byte(edit(t, "11111111-1111-4111-8111-000000000002", "ABCDEF00-1111-4111-8111-00000000000B")))
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := p.UserByName("bob")
	if bob.ID != "abcdef00-1111-4111-8111-00000000000b" {
		t.Errorf("object id should be stored lower-case, got %q", bob.ID)
	}
	if u, ok := p.UserByID("ABCDEF00-1111-4111-8111-00000000000B"); !ok || u.Name != "bob" {
		t.Errorf("UserByID should ignore case, got %+v, %v", u, ok)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml func(t *testing.T) string
		want []string // each must appear in the error, in this order
	}{
		{
			name: "bad duration",
			yaml: func(t *testing.T) string { return edit(t, "max: 8h", "max: 2x") },
			want: []string{`t.yaml:9: roles[0].duration.max: "2x" is not a duration; use Go ("90m") or ISO-8601 ("PT1H30M")`},
		},
		{
			name: "months in ISO duration",
			yaml: func(t *testing.T) string { return edit(t, "timeout: 20s", "timeout: P1M") },
			want: []string{`t.yaml:14: roles[0].approval.stages[0].tiers[0].timeout: "P1M" uses months`},
		},
		{
			name: "misspelt key",
			yaml: func(t *testing.T) string { return edit(t, "requesters:", "requestors:") },
			want: []string{
				`t.yaml:6: roles[0].requesters: is missing`,
				`t.yaml:8: roles[0].requestors: unknown key "requestors" (did you mean "requesters"?); accepted keys: name, description, role_definition_id`,
			},
		},
		{
			name: "unknown top-level key",
			yaml: func(t *testing.T) string { return edit(t, "roles:\n", "rolez: 1\nroles:\n") },
			want: []string{`t.yaml:5: rolez: unknown key "rolez" (did you mean "roles"?); accepted keys: tenant_id, users, operators, roles`},
		},
		{
			name: "missing tenant",
			yaml: func(t *testing.T) string {
				return edit(t, "tenant_id: 00000000-0000-4000-8000-000000000001\n", "")
			},
			want: []string{`t.yaml:1: tenant_id: is missing; give the Entra tenant id, a GUID`},
		},
		{
			name: "tenant without value",
			yaml: func(t *testing.T) string {
				return edit(t, "tenant_id: 00000000-0000-4000-8000-000000000001", "tenant_id:")
			},
			want: []string{`t.yaml:1: tenant_id: has no value`},
		},
		{
			name: "bad object id",
			yaml: func(t *testing.T) string { return edit(t, "11111111-1111-4111-8111-000000000001", "xyz") },
			want: []string{`t.yaml:3: users[0].id: "xyz" is not a GUID`},
		},
		{
			name: "duplicate user name, id and upn",
			yaml: func(t *testing.T) string {
				return edit(t, "{name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com",
					"{name: alice, id: 11111111-1111-4111-8111-000000000001, upn: ALICE@example.com")
			},
			want: []string{
				`t.yaml:4: users[1].name: name "alice" is already used by users[0].name`,
				`t.yaml:4: users[1].id: object id "11111111-1111-4111-8111-000000000001" is already used by users[0].id`,
				`t.yaml:4: users[1].upn: upn "ALICE@example.com" is already used by users[0].upn`,
			},
		},
		{
			name: "bad upn and email",
			yaml: func(t *testing.T) string {
				return edit(t, "upn: bob@example.com", "upn: bob, email: 'Bob <bob@example.com>'")
			},
			want: []string{
				`t.yaml:4: users[1].upn: "bob" is not a user principal name`,
				`t.yaml:4: users[1].email: "Bob <bob@example.com>" is not an email address`,
			},
		},
		{
			name: "bad user name",
			yaml: func(t *testing.T) string { return edit(t, "name: bob", "name: Bob") },
			want: []string{`t.yaml:4: users[1].name: "Bob" is not accepted; use lower-case letters`},
		},
		{
			name: "unknown group",
			yaml: func(t *testing.T) string {
				return edit(t, "groups: [engineers]}\n    duration", "groups: [engineer]}\n    duration")
			},
			want: []string{`t.yaml:8: roles[0].requesters.groups[0]: unknown group "engineer"; a group exists when some user lists it under groups; groups of this file: engineers, leads`},
		},
		{
			name: "unknown approver",
			yaml: func(t *testing.T) string { return edit(t, "users: [bob]", "users: [bobb]") },
			want: []string{`t.yaml:13: roles[0].approval.stages[0].tiers[0].approvers.users[0]: unknown user "bobb"; users of this file: alice, bob`},
		},
		{
			name: "approver listed twice",
			yaml: func(t *testing.T) string { return edit(t, "users: [bob]", "users: [bob, bob]") },
			want: []string{`t.yaml:13: roles[0].approval.stages[0].tiers[0].approvers.users[1]: "bob" is listed twice (also roles[0].approval.stages[0].tiers[0].approvers.users[0])`},
		},
		{
			name: "subjects naming no one",
			yaml: func(t *testing.T) string { return edit(t, "{users: [bob]}", "{}") },
			want: []string{`t.yaml:13: roles[0].approval.stages[0].tiers[0].approvers: names no one`},
		},
		{
			name: "bad role name",
			yaml: func(t *testing.T) string { return edit(t, "name: reader", "name: Reader") },
			want: []string{`t.yaml:6: roles[0].name: "Reader" is not accepted; use lower-case letters, digits, '_' and '-', starting with a letter`},
		},
		{
			name: "duplicate role name",
			yaml: func(t *testing.T) string { return basePolicy + strings.SplitN(basePolicy, "roles:\n", 2)[1] },
			want: []string{`t.yaml:15: roles[1].name: role name "reader" is already used by roles[0].name`},
		},
		{
			name: "too many approvals",
			yaml: func(t *testing.T) string { return edit(t, "- tiers:", "- approvals: 2\n          tiers:") },
			want: []string{`t.yaml:12: roles[0].approval.stages[0].approvals: needs 2 approvals but its tiers name only 1 distinct approver (bob)`},
		},
		{
			name: "zero approvals",
			yaml: func(t *testing.T) string { return edit(t, "- tiers:", "- approvals: 0\n          tiers:") },
			want: []string{`t.yaml:12: roles[0].approval.stages[0].approvals: is 0; a stage needs at least 1 approval`},
		},
		{
			name: "approvals not a number",
			yaml: func(t *testing.T) string { return edit(t, "- tiers:", "- approvals: two\n          tiers:") },
			want: []string{`t.yaml:12: roles[0].approval.stages[0].approvals: must be a whole number; got "two"`},
		},
		{
			name: "zero timeout",
			yaml: func(t *testing.T) string { return edit(t, "timeout: 20s", "timeout: 0s") },
			want: []string{`t.yaml:14: roles[0].approval.stages[0].tiers[0].timeout: must be more than zero`},
		},
		{
			name: "timeout missing",
			yaml: func(t *testing.T) string { return edit(t, "\n              timeout: 20s", "") },
			want: []string{`t.yaml:13: roles[0].approval.stages[0].tiers[0].timeout: is missing`},
		},
		{
			name: "no tiers",
			yaml: func(t *testing.T) string {
				return edit(t, "- tiers:\n            - approvers: {users: [bob]}\n              timeout: 20s", "- tiers: []")
			},
			want: []string{`t.yaml:12: roles[0].approval.stages[0].tiers: is empty; list at least one tier`},
		},
		{
			name: "min over max",
			yaml: func(t *testing.T) string { return edit(t, "{min: 10s, max: 8h}", "{min: 9h, max: 8h}") },
			want: []string{`t.yaml:9: roles[0].duration.max: 8h is less than min 9h`},
		},
		{
			name: "zero min",
			yaml: func(t *testing.T) string { return edit(t, "{min: 10s, max: 8h}", "{min: 0s, max: 8h}") },
			want: []string{`t.yaml:9: roles[0].duration.min: must be more than zero`},
		},
		{
			name: "default outside bounds",
			yaml: func(t *testing.T) string { return edit(t, "{min: 10s, max: 8h}", "{min: 10s, max: 8h, default: 9h}") },
			want: []string{`t.yaml:9: roles[0].duration.default: 9h is outside min..max; accepted: 10s to 8h`},
		},
		{
			name: "duration not a mapping",
			yaml: func(t *testing.T) string { return edit(t, "{min: 10s, max: 8h}", "8h") },
			want: []string{`t.yaml:9: roles[0].duration: must be a mapping with keys min, max, default; got "8h"`},
		},
		{
			name: "scope without slash",
			yaml: func(t *testing.T) string {
				return edit(t, "    requesters:", "    directory_scope_id: tenant\n    requesters:")
			},
			want: []string{`t.yaml:8: roles[0].directory_scope_id: "tenant" is not a directory scope; accepted: "/" (the whole tenant), "/administrativeUnits/<GUID>"`},
		},
		{
			name: "administrative unit without a GUID",
			yaml: func(t *testing.T) string {
				return edit(t, "    requesters:", "    directory_scope_id: /administrativeUnits/finance\n    requesters:")
			},
			want: []string{`t.yaml:8: roles[0].directory_scope_id: "/administrativeUnits/finance" is not a directory scope`},
		},
		{
			name: "group and role definition together",
			yaml: func(t *testing.T) string {
				return edit(t, "    requesters:", "    group: {id: 22222222-2222-4222-8222-000000000001}\n    requesters:")
			},
			want: []string{`t.yaml:7: roles[0].role_definition_id: a role grants either a directory role (role_definition_id, directory_scope_id) or a group (group); remove role_definition_id or group`},
		},
		{
			name: "group access neither member nor owner",
			yaml: func(t *testing.T) string {
				return edit(t, "    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451\n", "    group: {id: 22222222-2222-4222-8222-000000000001, access: admin}\n")
			},
			want: []string{`t.yaml:7: roles[0].group.access: "admin" is not accepted; use "member" or "owner"`},
		},
		{
			name: "group without id",
			yaml: func(t *testing.T) string {
				return edit(t, "    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451\n", "    group: {access: owner}\n")
			},
			want: []string{`t.yaml:7: roles[0].group.id: is missing; give the group's Entra object id, a GUID`},
		},
		{
			name: "unknown extension key",
			yaml: func(t *testing.T) string {
				return edit(t, "    approval:", "    extension: {without_approval: 5m}\n    approval:")
			},
			want: []string{`t.yaml:10: roles[0].extension.without_approval: unknown key "without_approval"; accepted keys: without_approval_up_to, max`},
		},
		{
			name: "extension without approval longer than its max",
			yaml: func(t *testing.T) string {
				return edit(t, "    approval:", "    extension: {max: 1h, without_approval_up_to: 2h}\n    approval:")
			},
			want: []string{`t.yaml:10: roles[0].extension.without_approval_up_to: 2h is outside 0..max; accepted: 0 (every extension is approved) to 1h`},
		},
		{
			name: "bool spelt yes",
			yaml: func(t *testing.T) string {
				return edit(t, "    requesters:", "    require_ticket: yes\n    requesters:")
			},
			want: []string{`t.yaml:8: roles[0].require_ticket: must be true or false; got "yes"`},
		},
		{
			name: "no approval",
			yaml: func(t *testing.T) string {
				return strings.SplitN(basePolicy, "    approval:", 2)[0]
			},
			want: []string{`t.yaml:6: roles[0].approval: is missing; give approval: {stages: [...]}, or set break_glass: true`},
		},
		{
			name: "notify without break-glass",
			yaml: func(t *testing.T) string {
				return edit(t, "    approval:", "    notify: {users: [bob]}\n    approval:")
			},
			want: []string{`t.yaml:10: roles[0].notify: only break-glass roles notify`},
		},
		{
			name: "break-glass with approval and no notify",
			yaml: func(t *testing.T) string { return edit(t, "    approval:", "    break_glass: true\n    approval:") },
			want: []string{
				`t.yaml:6: roles[0].notify: is missing; a break-glass role must tell someone`,
				`t.yaml:11: roles[0].approval: a break-glass role activates without approval`,
			},
		},
		{
			name: "unknown operator",
			yaml: func(t *testing.T) string { return edit(t, "roles:\n", "operators: [mallory]\nroles:\n") },
			want: []string{`t.yaml:5: operators[0]: unknown user "mallory"`},
		},
		{
			name: "operators not a list",
			yaml: func(t *testing.T) string { return edit(t, "roles:\n", "operators: bob\nroles:\n") },
			want: []string{`t.yaml:5: operators: must be a list such as [dave] (or a mapping {users: [...], groups: [...]}); got "bob"`},
		},
		{
			name: "no roles",
			yaml: func(t *testing.T) string { return strings.SplitN(basePolicy, "roles:", 2)[0] + "roles: []\n" },
			want: []string{`t.yaml:5: roles: is empty; list at least one role`},
		},
		{
			name: "duplicate key",
			yaml: func(t *testing.T) string { return edit(t, "    duration:", "    name: again\n    duration:") },
			want: []string{`t.yaml:9: roles[0].name: appears twice in this mapping (first on line 6)`},
		},
		{
			name: "merge key",
			yaml: func(t *testing.T) string { return edit(t, "    duration:", "    <<: {name: x}\n    duration:") },
			want: []string{`t.yaml:9: roles[0]: YAML merge keys (<<) are not supported`},
		},
		{
			name: "not YAML",
			yaml: func(t *testing.T) string { return edit(t, "    duration:", "  duration: [") },
			want: []string{`t.yaml:`, `not valid YAML`},
		},
		{
			name: "empty file",
			yaml: func(t *testing.T) string { return "# nothing yet\n" },
			want: []string{`t.yaml: the policy is empty`},
		},
		{
			name: "two documents",
			yaml: func(t *testing.T) string { return basePolicy + "---\n" + basePolicy },
			want: []string{`t.yaml:15: a second YAML document starts here`},
		},
		{
			name: "top level is a list",
			yaml: func(t *testing.T) string { return "- a\n- b\n" },
			want: []string{`t.yaml:1: must be a mapping with keys tenant_id, users, operators, roles; got a list`},
		},
		{
			name: "alias bomb",
			yaml: func(t *testing.T) string {
				return "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
					"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
					"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			},
			want: []string{`t.yaml:1: stands for more than 100000 YAML nodes once aliases are expanded`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml(t)))
			if err == nil {
				t.Fatal("Parse accepted a broken policy")
			}
			msg := err.Error()
			rest := msg
			for _, want := range tt.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("error lacks (or misorders) %q; got:\n%s", want, msg)
				}
				rest = rest[i+len(want):]
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File != "t.yaml" {
				t.Errorf("error is not a *FieldError for t.yaml: %#v", err)
			}
		})
	}
}

func TestParseCollectsEveryErrorInLineOrder(t *testing.T) {
	broken := edit(t, "max: 8h", "max: 2x")
	broken = strings.Replace(broken, "11111111-1111-4111-8111-000000000002", "nope", 1)
	broken = strings.Replace(broken, "timeout: 20s", "timeout: -1s", 1)
	_, err := Parse("t.yaml", []byte(broken))
	if err == nil {
		t.Fatal("Parse accepted a broken policy")
	}
	lines := strings.Split(err.Error(), "\n")
	wantPrefixes := []string{"t.yaml:4: users[1].id", "t.yaml:9: roles[0].duration.max", "t.yaml:14: roles[0].approval.stages[0].tiers[0].timeout"}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(wantPrefixes), err)
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], want)
		}
	}
}

func TestAliasesAreFollowed(t *testing.T) {
	src := edit(t, "    approval:", "    approval: &chain")
	src += "  - name: writer\n    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d\n" +
		"    requesters: {users: [alice]}\n    duration: {min: 10s, max: 1h}\n    approval: *chain\n"
	p, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := p.Role("writer")
	if len(w.Stages) != 1 || w.Stages[0].Tiers[0].Approvers.Users[0] != "bob" {
		t.Errorf("alias not followed: %+v", w.Stages)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, DevYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(edit(t, "max: 8h", "max: 2x")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(good); err != nil {
		t.Errorf("Load(dev copy): %v", err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":9: roles[0].duration.max:") {
		t.Errorf("Load(bad) error should name the file and line, got %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want a not-exist error", err)
	}
}
