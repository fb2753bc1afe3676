package policies

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// rulesPolicy exercises conditions, auto-approval, text limits and step-up.
// Line numbers matter to TestRuleErrorsNamePosition's edits.
const rulesPolicy = `tenant_id: 00000000-0000-4000-8000-000000000001
users:
  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}
  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com}
  - {name: erin, id: 11111111-1111-4111-8111-000000000005, upn: erin@example.com, groups: [engineers, oncall]}
roles:
  - name: reader
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 8h}
    justification_max: 20
    ticket_pattern: "(CHG|INC)-[0-9]+"
    require_mfa: true
    auth_context: c1
    conditions:
      - name: office-hours
        expr: now.getHours("UTC") >= 6 && now.getHours("UTC") < 22
        message: outside 06:00-22:00 UTC, use the breakglass role
    auto_approve:
      - name: oncall-short
        expr: "'oncall' in caller.groups && request.duration < duration('30m')"
      - name: operator
        expr: |
          'operator' in caller.roles
    approval:
      stages:
        - tiers:
            - approvers: {users: [bob]}
              timeout: 20s
`

func parseRules(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse("rules.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRulesParse(t *testing.T) {
	p := parseRules(t, rulesPolicy)
	r, _ := p.Role("reader")
	if r.JustificationMax != 20 || r.TicketPattern == nil || !r.StepUp.MFA || r.StepUp.AuthContext != "c1" || !r.StepUp.Required() {
		t.Errorf("limits and step-up not read: %+v", r)
	}
	if len(r.Conditions) != 1 || r.Conditions[0].Name != "office-hours" || len(r.AutoApprove) != 2 || r.AutoApprove[1].Name != "operator" {
		t.Errorf("rules not read: %+v %+v", r.Conditions, r.AutoApprove)
	}
	dev, _ := Dev().Role("reader")
	if dev.JustificationMax != MaxJustification || dev.StepUp.Required() {
		t.Errorf("defaults: justification_max %d, step-up %+v", dev.JustificationMax, dev.StepUp)
	}
}

func TestRulesAutoApprove(t *testing.T) {
	p := parseRules(t, rulesPolicy)
	noon := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		caller   Caller
		duration time.Duration
		want     string // rule name, "" for none
	}{
		{"oncall, short", as(p, "erin")(t), 15 * time.Minute, "oncall-short"},
		{"oncall, long", as(p, "erin")(t), time.Hour, ""},
		{"not oncall", as(p, "alice")(t), 15 * time.Minute, ""},
		{"oncall through a token group", withGroups(as(p, "alice")(t), "oncall"), 15 * time.Minute, "oncall-short"},
		{"operator app role", withRoles(as(p, "alice")(t), "operator"), time.Hour, "operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := p.Resolve(t.Context(), nil, tt.caller, RequestInput{Role: "reader", Duration: tt.duration, Justification: "incident", Time: noon})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if plan.AutoApprovedBy != nil {
				got = plan.AutoApprovedBy.Name
			}
			if got != tt.want {
				t.Errorf("auto-approved by %q, want %q", got, tt.want)
			}
			if len(plan.Stages) != 1 {
				t.Errorf("plan keeps its stages (approvers may still see and revoke), got %d", len(plan.Stages))
			}
		})
	}
}

func withGroups(c Caller, g ...string) Caller { c.Groups = append(c.Groups, g...); return c }

func withRoles(c Caller, r ...string) Caller { c.Roles = append(c.Roles, r...); return c }

func TestRulesConditionsAndLimits(t *testing.T) {
	p := parseRules(t, rulesPolicy)
	noon := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	night := time.Date(2030, 1, 1, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     RequestInput
		field  string // "" means accepted
		detail string
	}{
		{"daytime", RequestInput{Justification: "incident", Time: noon}, "", ""},
		{"at night", RequestInput{Justification: "incident", Time: night}, "role", `condition "office-hours" of role "reader" does not hold: outside 06:00-22:00 UTC`},
		{"long justification", RequestInput{Justification: strings.Repeat("j", 21), Time: noon}, "justification", "at most 20"},
		{"ticket matches", RequestInput{Justification: "x", Ticket: "INC-42", Time: noon}, "", ""},
		{"ticket off pattern", RequestInput{Justification: "x", Ticket: "JIRA-42", Time: noon}, "ticket", `"JIRA-42" is not a ticket role "reader" accepts; give one matching the pattern (CHG|INC)-[0-9]+`},
		{"ticket only partly matching", RequestInput{Justification: "x", Ticket: "CHG-1 and more", Time: noon}, "ticket", "matching the pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Role = "reader"
			_, err := p.Resolve(t.Context(), nil, as(p, "alice")(t), tt.in)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Kind != Invalid || re.Field != tt.field || !strings.Contains(re.Detail, tt.detail) {
				t.Fatalf("err = %v, want invalid %s containing %q", err, tt.field, tt.detail)
			}
		})
	}
}

func TestRuleErrorsNamePosition(t *testing.T) {
	rule := `        expr: "'oncall' in caller.groups && request.duration < duration('30m')"`
	tests := []struct {
		name string
		old  string
		new  string
		want string
	}{
		{"type mismatch", rule, `        expr: "request.duration < 30"`,
			`rules.yaml:21: roles[0].auto_approve[0].expr: rule "oncall-short": CEL error at expression column 18: found no matching overload for '_<_' applied to '(duration, int)'`},
		{"unknown variable", rule, `        expr: "caller.department == 'ops'"`,
			`rules.yaml:21: roles[0].auto_approve[0].expr: rule "oncall-short": CEL error at expression column 1: undeclared reference to 'caller'`},
		{"syntax", rule, `        expr: "request.duration <"`,
			`rules.yaml:21: roles[0].auto_approve[0].expr: rule "oncall-short": CEL error at expression column`},
		{"not a bool", rule, `        expr: "request.duration"`,
			`rules.yaml:21: roles[0].auto_approve[0].expr: rule "oncall-short": the expression is of type google.protobuf.Duration; it must be a bool`},
		{"block scalar, second line", "          'operator' in caller.roles\n", "          'operator' in caller.roles &&\n          caller.mfa == 1\n",
			`rules.yaml:25: roles[0].auto_approve[1].expr: rule "operator": CEL error at expression column 12: found no matching overload for '_==_' applied to '(bool, int)'`},
		{"too long", rule, `        expr: "` + strings.Repeat("true && ", 600) + `true"`,
			`rules.yaml:21: roles[0].auto_approve[0].expr: rule "oncall-short" is 4804 bytes long; at most 4000`},
		{"condition without message", "        message: outside 06:00-22:00 UTC, use the breakglass role\n", "",
			`rules.yaml:16: roles[0].conditions[0].message: is missing`},
		{"bad auth context", "auth_context: c1", "auth_context: strong",
			`rules.yaml:14: roles[0].auth_context: "strong" is not an Entra authentication context id`},
		{"bad ticket pattern", `ticket_pattern: "(CHG|INC)-[0-9]+"`, `ticket_pattern: "(CHG"`,
			`rules.yaml:12: roles[0].ticket_pattern: "(CHG" is not a regular expression`},
		{"justification_max too big", "justification_max: 20", "justification_max: 5000",
			`rules.yaml:11: roles[0].justification_max: is 5000; give a number of characters from 1 to 1000`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(rulesPolicy, tt.old) {
				t.Fatalf("rulesPolicy has no %q", tt.old)
			}
			_, err := Parse("rules.yaml", []byte(strings.Replace(rulesPolicy, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v\nwant it to contain %s", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Column == 0 {
				t.Errorf("error %v has no column", err)
			}
		})
	}
}

func TestRuleErrorColumnPointsIntoTheFile(t *testing.T) {
	src := strings.Replace(rulesPolicy, `expr: "'oncall' in caller.groups && request.duration < duration('30m')"`, `expr: "request.duration < 30"`, 1)
	_, err := Parse("rules.yaml", []byte(src))
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v", err)
	}
	line := strings.Split(src, "\n")[fe.Line-1]
	if got := line[fe.Column-1:]; !strings.HasPrefix(got, "< 30") {
		t.Errorf("line %d column %d points at %q, want the '<'", fe.Line, fe.Column, got)
	}
}

func TestBreakGlassRefusesAutoApprove(t *testing.T) {
	src := strings.Replace(string(DevYAML), "    break_glass: true\n", "    break_glass: true\n    auto_approve: [{name: x, expr: \"true\"}]\n", 1)
	_, err := Parse("dev.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "break-glass role activates without approval already") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkResolveWithRules measures a resolve that evaluates a condition
// and two auto-approval rules.
func BenchmarkResolveWithRules(b *testing.B) {
	p, err := Parse("rules.yaml", []byte(rulesPolicy))
	if err != nil {
		b.Fatal(err)
	}
	u, _ := p.UserByName("alice")
	in := RequestInput{Role: "reader", Duration: time.Hour, Justification: "incident", Time: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	for b.Loop() {
		if _, err := p.Resolve(b.Context(), nil, Caller{ID: u.ID, UPN: u.UPN}, in); err != nil {
			b.Fatal(err)
		}
	}
}

// A rule that fails at run time approves nothing and blocks nothing
// silently: a condition refuses with a reason, an auto-approval is skipped
// and reported.
func TestRuleEvaluationErrors(t *testing.T) {
	src := strings.Replace(rulesPolicy, `now.getHours("UTC") >= 6 && now.getHours("UTC") < 22`, `now.getHours("Mars/Olympus") >= 0`, 1)
	p := parseRules(t, src)
	noon := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	_, err := p.Resolve(t.Context(), nil, as(p, "alice")(t), RequestInput{Role: "reader", Justification: "x", Time: noon})
	var re *RequestError
	if !errors.As(err, &re) || !strings.Contains(re.Detail, `condition "office-hours" of role "reader" could not be checked`) {
		t.Fatalf("err = %v", err)
	}
	src = strings.Replace(rulesPolicy, `'oncall' in caller.groups && request.duration < duration('30m')`, `now.getHours('Mars/Olympus') >= 0`, 1)
	p = parseRules(t, src)
	plan, err := p.Resolve(t.Context(), nil, as(p, "erin")(t), RequestInput{Role: "reader", Duration: time.Minute, Justification: "x", Time: noon})
	if err != nil {
		t.Fatal(err)
	}
	if plan.AutoApprovedBy != nil || plan.RuleErrors == nil || !strings.Contains(plan.RuleErrors.Error(), `rule "oncall-short"`) {
		t.Errorf("auto-approved by %+v, rule errors %v", plan.AutoApprovedBy, plan.RuleErrors)
	}
}
