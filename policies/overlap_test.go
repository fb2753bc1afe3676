package policies

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// stagesPolicy is a policy whose role's stages the cases below write; they
// start on line 14.
const stagesPolicy = `tenant_id: 00000000-0000-4000-8000-000000000001
users:
  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}
  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com, groups: [leads]}
  - {name: carol, id: 11111111-1111-4111-8111-000000000003, upn: carol@example.com, groups: [Leads]}
  - {name: dave, id: 11111111-1111-4111-8111-000000000004, upn: dave@example.com, groups: [security]}
roles:
  - name: admin
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 2h}
    approval:
      stages:
`

// stages renders one stage per line, "name: tier; tier" with each tier
// "users=a,b groups=g", so stages[i] is on line 14+i.
func stages(t *testing.T, lines ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(stagesPolicy)
	for _, line := range lines {
		stageName, tiers, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("stage %q lacks \"name: \"", line)
		}
		var rendered []string
		for _, tier := range strings.Split(tiers, "; ") {
			var subjects []string
			for _, part := range strings.Fields(tier) {
				key, list, _ := strings.Cut(part, "=")
				subjects = append(subjects, key+": ["+strings.ReplaceAll(list, ",", ", ")+"]")
			}
			rendered = append(rendered, "{approvers: {"+strings.Join(subjects, ", ")+"}, timeout: 1m}")
		}
		b.WriteString("        - {name: " + stageName + ", tiers: [" + strings.Join(rendered, ", ") + "]}\n")
	}
	return b.String()
}

const onceRule = "; each person decides at most once per request, so stage %s could be left without approvers; use different people per stage"

func TestStagesShareNoApprover(t *testing.T) {
	tests := []struct {
		name   string
		stages []string
		want   []string // every error, in order; none: the policy loads
	}{
		{
			name:   "the same user in two stages",
			stages: []string{"team-lead: users=bob,carol", "security: users=bob"},
			want: []string{`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.users[0]: user "bob" also approves stage "team-lead" (roles[0].approval.stages[0].tiers[0].approvers.users[0])` +
				fmt.Sprintf(onceRule, `"security"`)},
		},
		{
			name:   "a later group brings in an earlier user",
			stages: []string{"team-lead: users=bob", "security: users=dave groups=leads"},
			want: []string{`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.groups[0]: user "bob" (member of group "leads") also approves stage "team-lead" (roles[0].approval.stages[0].tiers[0].approvers.users[0])` +
				fmt.Sprintf(onceRule, `"security"`)},
		},
		{
			name:   "an earlier group holds a later user, group names ignoring case",
			stages: []string{"team-lead: groups=LEADS", "security: users=carol"},
			want: []string{`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.users[0]: user "carol" also approves stage "team-lead" (roles[0].approval.stages[0].tiers[0].approvers.groups[0])` +
				fmt.Sprintf(onceRule, `"security"`)},
		},
		{
			name:   "shared through a later stage's escalation tier",
			stages: []string{"team-lead: users=bob", "security: users=dave; users=bob"},
			want:   []string{`t.yaml:15: roles[0].approval.stages[1].tiers[1].approvers.users[0]: user "bob" also approves stage "team-lead"`},
		},
		{
			name:   "each person once per later stage, at the first entry naming them",
			stages: []string{"team-lead: users=bob", "security: users=bob groups=leads"},
			want:   []string{`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.users[0]: user "bob" also approves stage "team-lead"`},
		},
		{
			name:   "each shared member of a group is named",
			stages: []string{"team-lead: users=bob,carol", "security: groups=leads"},
			want: []string{
				`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.groups[0]: user "bob" (member of group "leads") also approves stage "team-lead"`,
				`t.yaml:15: roles[0].approval.stages[1].tiers[0].approvers.groups[0]: user "carol" (member of group "leads") also approves stage "team-lead"`,
			},
		},
		{
			name:   "a third stage is checked against every earlier one",
			stages: []string{"team-lead: users=bob", "security: users=dave", "audit: users=dave,bob"},
			want: []string{
				`t.yaml:16: roles[0].approval.stages[2].tiers[0].approvers.users[0]: user "dave" also approves stage "security"`,
				`t.yaml:16: roles[0].approval.stages[2].tiers[0].approvers.users[1]: user "bob" also approves stage "team-lead"`,
			},
		},
		{
			name:   "tiers of one stage may share people",
			stages: []string{"team-lead: users=bob; users=bob,carol; groups=leads", "security: groups=security"},
		},
		{
			name:   "stages of different people, users and groups",
			stages: []string{"team-lead: groups=leads", "security: users=dave", "audit: users=alice"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(stages(t, tt.stages...)))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse refused a policy whose stages share no one: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Parse accepted stages that share an approver")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for i, want := range tt.want {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("error %d = %q, want prefix %q", i, lines[i], want)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Line == 0 || fe.Column == 0 {
				t.Errorf("error is not a *FieldError with a position: %#v", err)
			}
		})
	}
}

// One approver serving stages of different roles is fine: each request
// belongs to one role.
func TestStagesOfDifferentRolesMayShare(t *testing.T) {
	src := stages(t, "team-lead: users=bob")
	src += "  - name: reader\n    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451\n" +
		"    requesters: {groups: [engineers]}\n    duration: {min: 10s, max: 1h}\n" +
		"    approval: {stages: [{name: team-lead, tiers: [{approvers: {users: [bob]}, timeout: 1m}]}]}\n"
	if _, err := Parse("t.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
}
