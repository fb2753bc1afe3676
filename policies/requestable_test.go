package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func requestableNames(rs []Requestable) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Role.Name
	}
	return out
}

// Requestable lists what Resolve would let each caller ask for, in the
// policy's order, and nothing else.
func TestRequestableDev(t *testing.T) {
	p := Dev()
	tests := []struct {
		caller Caller
		want   []string
	}{
		{caller(t, p, "alice"), []string{"reader", "admin"}},
		{caller(t, p, "erin"), []string{"reader", "admin", "breakglass"}},
		{caller(t, p, "dave"), nil},
		{caller(t, p, "bob"), nil},
		// Someone the users list lacks, in engineers by their token.
		{Caller{ID: "22222222-2222-4222-8222-000000000001", UPN: "zoe@example.com", Groups: []string{"Engineers"}}, []string{"reader", "admin"}},
	}
	for _, tt := range tests {
		got, err := p.Requestable(t.Context(), nil, tt.caller, time.Time{})
		if err != nil {
			t.Fatalf("%s: %v", tt.caller.UPN, err)
		}
		if names := requestableNames(got); !slices.Equal(names, tt.want) {
			t.Errorf("%s may request %v, want %v", tt.caller.UPN, names, tt.want)
		}
		for _, role := range p.Roles {
			_, err := p.Resolve(t.Context(), nil, tt.caller, RequestInput{Role: role.Name, Justification: "x", Ticket: "INC-1"})
			var re *RequestError
			refused := errors.As(err, &re) && re.Kind == NotEligible
			if listed := slices.Contains(tt.want, role.Name); listed == refused {
				t.Errorf("%s, role %s: listed %v but Resolve refused as not eligible %v (%v)", tt.caller.UPN, role.Name, listed, refused, err)
			}
		}
	}
}

const requestablePolicy = `tenant_id: 00000000-0000-4000-8000-000000000001
users:
  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}
  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com}
roles:
  - name: ruled
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [engineers, aaaaaaaa-0000-4000-8000-000000000001]}
    duration: {min: 1m, max: 2h, default: 45m}
    auto_approve:
      - {name: short, expr: "request.duration <= duration('30m')"}
      - {name: engineers, expr: "'engineers' in caller.groups && request.duration == duration('45m')"}
      - {name: nowhere, expr: "now.getHours('Nowhere/Atlantis') > 0"}
      - {name: mfa, expr: "caller.mfa"}
    approval:
      stages:
        - tiers: [{approvers: {users: [bob]}, timeout: 1m}]
`

// Auto-approval rules are evaluated for the caller with the role's
// default duration; one that fails to evaluate holds nothing and says why.
// A directory that cannot answer is an error, never an empty list.
func TestRequestableRules(t *testing.T) {
	p, err := Parse("rules.yaml", []byte(requestablePolicy))
	if err != nil {
		t.Fatal(err)
	}
	dir := &fakeDirectory{users: []User{{ID: "33333333-3333-4333-8333-000000000001", UPN: "zed@example.com"}},
		members: map[string][]string{"aaaaaaaa-0000-4000-8000-000000000001": {"33333333-3333-4333-8333-000000000001"}}}
	alice := caller(t, p, "alice")
	alice.MFA = true
	got, err := p.Requestable(t.Context(), dir, alice, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("alice may request %v, want [ruled]", requestableNames(got))
	}
	var shape []string
	for _, c := range got[0].AutoApprove {
		s := c.Name + "=" + map[bool]string{true: "holds", false: "no"}[c.Holds]
		if c.Err != nil {
			s += " (" + c.Err.Error() + ")"
		}
		shape = append(shape, s)
	}
	want := []string{"short=no", "engineers=holds", "nowhere=no (rule \"nowhere\": ", "mfa=holds"}
	if len(shape) != len(want) {
		t.Fatalf("rules %q, want %q", shape, want)
	}
	for i := range want {
		if !strings.HasPrefix(shape[i], want[i]) {
			t.Errorf("rule %d: %q, want it to start %q", i, shape[i], want[i])
		}
	}

	// Zed is in the Entra group; bob is in nothing.
	zed := Caller{ID: "33333333-3333-4333-8333-000000000001", UPN: "zed@example.com"}
	if got, err := p.Requestable(t.Context(), dir, zed, time.Time{}); err != nil || len(got) != 1 {
		t.Errorf("zed (Entra group member) may request %v, %v; want [ruled]", requestableNames(got), err)
	}
	if got, err := p.Requestable(t.Context(), dir, caller(t, p, "bob"), time.Time{}); err != nil || len(got) != 0 {
		t.Errorf("bob may request %v, %v; want nothing", requestableNames(got), err)
	}

	dir.fail(errors.New("throttled"))
	_, err = p.Requestable(t.Context(), dir, caller(t, p, "bob"), time.Time{})
	var de *DirectoryError
	if !errors.As(err, &de) {
		t.Errorf("directory down: error %v, want *DirectoryError", err)
	}
	if _, err := p.Requestable(t.Context(), nil, alice, time.Time{}); !errors.Is(err, ErrNoDirectory) {
		t.Errorf("no directory: error %v, want ErrNoDirectory", err)
	}
}

func TestTicketPatternText(t *testing.T) {
	p, err := Parse("t.yaml", []byte(strings.Replace(requestablePolicy, "    auto_approve:", "    ticket_pattern: \"CHG-[0-9]+\"\n    auto_approve:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := p.Role("ruled")
	if got := r.TicketPatternText(); got != "CHG-[0-9]+" {
		t.Errorf("TicketPatternText = %q, want the pattern as written", got)
	}
	if got := (&Role{}).TicketPatternText(); got != "" {
		t.Errorf("no pattern: %q, want empty", got)
	}
}
