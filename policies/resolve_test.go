package policies

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/durations"
)

// caller builds the Caller the API would pass for a dev user.
func caller(t *testing.T, p *Policy, name string) Caller {
	t.Helper()
	u, ok := p.UserByName(name)
	if !ok {
		t.Fatalf("no user %q", name)
	}
	return Caller{ID: u.ID, UPN: u.UPN}
}

// names lists users' names, for compact comparisons.
func userNames(users []User) string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Name
	}
	return strings.Join(out, ",")
}

// planShape renders the stages as "name/approvals:tier approvers@timeout|...; ...".
func planShape(plan Plan) string {
	var stages []string
	for _, s := range plan.Stages {
		var tiers []string
		for _, t := range s.Tiers {
			tiers = append(tiers, userNames(t.Approvers)+"@"+durations.Format(t.Timeout))
		}
		stages = append(stages, s.Name+"/"+string(rune('0'+s.Approvals))+":"+strings.Join(tiers, "|"))
	}
	return strings.Join(stages, "; ")
}

func TestResolveDev(t *testing.T) {
	p := Dev()
	stranger := Caller{ID: "22222222-2222-4222-8222-000000000001", UPN: "zoe@example.com"}
	tests := []struct {
		name         string
		who          func(t *testing.T) Caller
		in           RequestInput
		wantKind     ErrorKind
		wantField    string // empty: Resolve must succeed
		wantDetail   string
		wantDuration time.Duration
		wantStages   string
		wantNotify   string
	}{
		{
			name: "reader with default duration", who: as(p, "alice"),
			in:           RequestInput{Role: "reader", Justification: "look at sign-in logs"},
			wantDuration: time.Hour, wantStages: "team-lead/1:bob@20s|carol@1m",
		},
		{
			name: "admin needs two stages", who: as(p, "erin"),
			in:           RequestInput{Role: "admin", Duration: 2 * time.Hour, Justification: "rotate keys", Ticket: "CHG-1"},
			wantDuration: 2 * time.Hour, wantStages: "team-lead/1:bob@20s|carol@1m; security/1:dave@10m",
		},
		{
			name: "break-glass notifies security", who: as(p, "erin"),
			in:           RequestInput{Role: "breakglass", Justification: "outage"},
			wantDuration: 15 * time.Minute, wantNotify: "dave",
		},
		{
			name: "exact bounds are accepted", who: as(p, "alice"),
			in:           RequestInput{Role: "reader", Duration: 10 * time.Second, Justification: "x"},
			wantDuration: 10 * time.Second, wantStages: "team-lead/1:bob@20s|carol@1m",
		},
		{
			name: "stranger eligible through a token group", who: func(*testing.T) Caller {
				c := stranger
				c.Groups = []string{"Engineers"}
				return c
			},
			in:           RequestInput{Role: "reader", Justification: "x"},
			wantDuration: time.Hour, wantStages: "team-lead/1:bob@20s|carol@1m",
		},
		{
			name: "directory user gains a token group", who: func(t *testing.T) Caller {
				c := caller(t, p, "alice")
				c.Groups = []string{"oncall"}
				return c
			},
			in:           RequestInput{Role: "breakglass", Justification: "x"},
			wantDuration: 15 * time.Minute, wantNotify: "dave",
		},
		{
			name: "unknown role", who: as(p, "alice"), in: RequestInput{Role: "root"},
			wantKind: Invalid, wantField: "role", wantDetail: `unknown role "root"; known roles: reader, admin, breakglass`,
		},
		{
			name: "no role", who: as(p, "alice"), in: RequestInput{},
			wantKind: Invalid, wantField: "role", wantDetail: "no role given; known roles: reader, admin, breakglass",
		},
		{
			name: "approver is not a requester", who: as(p, "bob"), in: RequestInput{Role: "reader", Justification: "x"},
			wantKind: NotEligible, wantField: "role", wantDetail: `bob@example.com may not request role "reader"; it is for groups engineers`,
		},
		{
			name: "engineer is not on call", who: as(p, "alice"), in: RequestInput{Role: "breakglass", Justification: "x"},
			wantKind: NotEligible, wantField: "role", wantDetail: `may not request role "breakglass"`,
		},
		{
			name: "stranger without groups", who: func(*testing.T) Caller { return stranger },
			in:       RequestInput{Role: "reader", Justification: "x"},
			wantKind: NotEligible, wantField: "role", wantDetail: `zoe@example.com may not request`,
		},
		{
			name: "UPN alone does not identify", who: func(*testing.T) Caller { return Caller{UPN: "alice@example.com"} },
			in:       RequestInput{Role: "reader", Justification: "x"},
			wantKind: NotEligible, wantField: "role",
		},
		{
			name: "ineligible caller learns nothing about fields", who: as(p, "bob"), in: RequestInput{Role: "admin", Duration: time.Minute * 9999},
			wantKind: NotEligible, wantField: "role",
		},
		{
			name: "over the maximum", who: as(p, "alice"), in: RequestInput{Role: "reader", Duration: 9 * time.Hour, Justification: "x"},
			wantKind: Invalid, wantField: "duration", wantDetail: `9h is over the maximum of role "reader"; accepted: 10s to 8h`,
		},
		{
			name: "under the minimum", who: as(p, "alice"), in: RequestInput{Role: "reader", Duration: 5 * time.Second, Justification: "x"},
			wantKind: Invalid, wantField: "duration", wantDetail: `5s is under the minimum of role "reader"; accepted: 10s to 8h`,
		},
		{
			name: "negative", who: as(p, "alice"), in: RequestInput{Role: "reader", Duration: -time.Second, Justification: "x"},
			wantKind: Invalid, wantField: "duration", wantDetail: "is negative",
		},
		{
			name: "blank justification", who: as(p, "alice"), in: RequestInput{Role: "reader", Justification: " \t"},
			wantKind: Invalid, wantField: "justification", wantDetail: `role "reader" needs a justification`,
		},
		{
			name: "justification too long", who: as(p, "alice"), in: RequestInput{Role: "reader", Justification: strings.Repeat("é", 1001)},
			wantKind: Invalid, wantField: "justification", wantDetail: "is 1001 characters long; at most 1000",
		},
		{
			name: "missing ticket", who: as(p, "alice"), in: RequestInput{Role: "admin", Justification: "x"},
			wantKind: Invalid, wantField: "ticket", wantDetail: `role "admin" needs a ticket`,
		},
		{
			name: "ticket too long even where optional", who: as(p, "alice"),
			in:       RequestInput{Role: "reader", Justification: "x", Ticket: strings.Repeat("T", 101)},
			wantKind: Invalid, wantField: "ticket", wantDetail: "is 101 characters long; at most 100",
		},
		{
			name: "longest texts are accepted", who: as(p, "alice"),
			in:           RequestInput{Role: "admin", Justification: strings.Repeat("é", 1000), Ticket: strings.Repeat("T", 100)},
			wantDuration: 30 * time.Minute, wantStages: "team-lead/1:bob@20s|carol@1m; security/1:dave@10m",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := p.Resolve(t.Context(), nil, tt.who(t), tt.in)
			if tt.wantField != "" {
				checkRequestError(t, err, tt.wantKind, tt.wantField, tt.wantDetail)
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if plan.Role == nil || plan.Role.Name != tt.in.Role || plan.Duration != tt.wantDuration {
				t.Errorf("plan role %v duration %v; want %s %v", plan.Role, plan.Duration, tt.in.Role, tt.wantDuration)
			}
			if got := planShape(plan); got != tt.wantStages {
				t.Errorf("stages = %q, want %q", got, tt.wantStages)
			}
			if got := userNames(plan.Notify); got != tt.wantNotify {
				t.Errorf("notify = %q, want %q", got, tt.wantNotify)
			}
		})
	}
}

func as(p *Policy, name string) func(t *testing.T) Caller {
	return func(t *testing.T) Caller {
		t.Helper()
		return caller(t, p, name)
	}
}

func checkRequestError(t *testing.T, err error, kind ErrorKind, field, detail string) {
	t.Helper()
	var re *RequestError
	if !errors.As(err, &re) {
		t.Fatalf("want *RequestError, got %v", err)
	}
	if re.Kind != kind || re.Field != field || !strings.Contains(re.Detail, detail) {
		t.Fatalf("got %v %q %q; want %v %q containing %q", re.Kind, re.Field, re.Detail, kind, field, detail)
	}
	if !strings.HasPrefix(re.Error(), field+": ") {
		t.Errorf("Error() = %q should start with the field", re.Error())
	}
}

func TestResolveRequester(t *testing.T) {
	p := Dev()
	plan, err := p.Resolve(t.Context(), nil, caller(t, p, "alice"), RequestInput{Role: "reader", Justification: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Requester.Name != "alice" || plan.Requester.Email != "alice@example.com" {
		t.Errorf("requester from the directory expected, got %+v", plan.Requester)
	}
	stranger := Caller{ID: "22222222-2222-4222-8222-000000000001", UPN: "zoe@example.com", Groups: []string{"engineers"}}
	plan, err = p.Resolve(t.Context(), nil, stranger, RequestInput{Role: "reader", Justification: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := User{ID: stranger.ID, UPN: stranger.UPN, Email: stranger.UPN}
	if r := plan.Requester; r.Name != "" || r.ID != want.ID || r.UPN != want.UPN || r.Email != want.Email {
		t.Errorf("requester from the caller expected, got %+v", r)
	}
}

// teamPolicy has a group of leads who also request, to exercise expansion.
const teamPolicy = `tenant_id: 00000000-0000-4000-8000-000000000001
users:
  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}
  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com, groups: [engineers, leads]}
  - {name: carol, id: 11111111-1111-4111-8111-000000000003, upn: carol@example.com, groups: [leads]}
  - {name: dave, id: 11111111-1111-4111-8111-000000000004, upn: dave@example.com, groups: [leads, security]}
roles:
  - name: expand
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [engineers]}
    duration: {min: 1m, max: 1h}
    approval:
      stages:
        - name: leads
          tiers:
            - {approvers: {users: [carol], groups: [leads]}, timeout: 1m}
            - {approvers: {users: [bob]}, timeout: 5m}
  - name: pair
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {users: [alice, bob]}
    duration: {min: 1m, max: 1h}
    approval:
      stages:
        - name: two-of-three
          approvals: 2
          tiers:
            - {approvers: {users: [bob, carol]}, timeout: 1m}
  - name: solo
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [engineers]}
    duration: {min: 1m, max: 1h}
    approval:
      stages:
        - name: only-bob
          tiers:
            - {approvers: {users: [bob]}, timeout: 1m}
  - name: emergency
    role_definition_id: 62e90394-69f5-4237-9190-012177145e10
    requesters: {users: [alice]}
    duration: {min: 1m, max: 1h}
    break_glass: true
    notify: {users: [carol], groups: [security, leads]}
`

func TestResolveApprovers(t *testing.T) {
	p, err := Parse("team.yaml", []byte(teamPolicy))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, who, role string
		wantStages      string
		wantNotify      string
		wantDetail      string // error detail; empty: success
	}{
		{name: "groups expand after users, in directory order, once", who: "alice", role: "expand",
			wantStages: "leads/1:carol,bob,dave@1m|bob@5m"},
		{name: "requester is removed and an emptied tier dropped", who: "bob", role: "expand",
			wantStages: "leads/1:carol,dave@1m"},
		{name: "quorum with enough others", who: "alice", role: "pair",
			wantStages: "two-of-three/2:bob,carol@1m"},
		{name: "quorum short of people", who: "bob", role: "pair",
			wantDetail: `stage "two-of-three" of role "pair" needs 2 approvals but only 1 person besides you can approve it`},
		{name: "only the requester could approve", who: "bob", role: "solo",
			wantDetail: `no one but you can approve stage "only-bob" of role "solo"`},
		{name: "another requester is fine", who: "alice", role: "solo",
			wantStages: "only-bob/1:bob@1m"},
		{name: "break-glass notify expands users then groups", who: "alice", role: "emergency",
			wantNotify: "carol,dave,bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := p.Resolve(t.Context(), nil, caller(t, p, tt.who), RequestInput{Role: tt.role, Duration: time.Minute})
			if tt.wantDetail != "" {
				checkRequestError(t, err, Invalid, "role", tt.wantDetail)
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := planShape(plan); got != tt.wantStages {
				t.Errorf("stages = %q, want %q", got, tt.wantStages)
			}
			if got := userNames(plan.Notify); got != tt.wantNotify {
				t.Errorf("notify = %q, want %q", got, tt.wantNotify)
			}
		})
	}
}

func TestResolveDoesNotChangeThePolicy(t *testing.T) {
	p, err := Parse("team.yaml", []byte(teamPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := p.Resolve(t.Context(), nil, caller(t, p, "bob"), RequestInput{Role: "expand"}); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := p.Resolve(t.Context(), nil, caller(t, p, "alice"), RequestInput{Role: "expand"})
	if err != nil {
		t.Fatal(err)
	}
	if got := planShape(plan); got != "leads/1:carol,bob,dave@1m|bob@5m" {
		t.Errorf("an earlier Resolve changed the policy: %q", got)
	}
	if bob, _ := p.UserByName("bob"); len(bob.Groups) != 2 {
		t.Errorf("token groups leaked into the directory: %v", bob.Groups)
	}
}

func TestErrorKindString(t *testing.T) {
	if Invalid.String() != "invalid" || NotEligible.String() != "not eligible" || ErrorKind(7).String() != "ErrorKind(7)" {
		t.Error("ErrorKind names changed")
	}
}
