package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add(DevYAML)
	f.Add([]byte(basePolicy))
	f.Add([]byte(teamPolicy))
	f.Add([]byte(rulesPolicy))
	f.Add([]byte(""))
	f.Add([]byte("---\n...\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("roles: &r [{name: x, approval: {stages: *r}}]\n"))
	f.Add([]byte(strings.Replace(basePolicy, "max: 8h", "max: P1DT2H", 1)))
	f.Add([]byte(strings.Replace(basePolicy, "    approval:", "    break_glass: true\n    notify: {users: [bob]}\n    approvel:", 1)))
	f.Add([]byte(strings.Replace(basePolicy, "- tiers:", "- approvals: 9\n          tiers:", 1)))
	f.Add([]byte(basePolicy + "        - tiers: [{approvers: {groups: [leads]}, timeout: 1m}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a *FieldError: %v", err)
			}
			return
		}
		checkInvariants(t, p)
	})
}

// checkInvariants holds for every policy Parse accepts, and Resolve must
// answer every user of it without panicking.
func checkInvariants(t *testing.T, p *Policy) {
	t.Helper()
	for i := range p.Roles {
		r := &p.Roles[i]
		if !(0 < r.MinDuration && r.MinDuration <= r.DefaultDuration && r.DefaultDuration <= r.MaxDuration) {
			t.Fatalf("role %s has durations %v..%v default %v", r.Name, r.MinDuration, r.MaxDuration, r.DefaultDuration)
		}
		if r.BreakGlass == (len(r.Stages) > 0) {
			t.Fatalf("role %s: break_glass %v with %d stages", r.Name, r.BreakGlass, len(r.Stages))
		}
		var earlier []string // object ids approving an earlier stage
		for _, s := range r.Stages {
			var here []string
			for _, tier := range s.Tiers {
				if tier.Timeout <= 0 {
					t.Fatalf("role %s stage %s has a tier timeout %v", r.Name, s.Name, tier.Timeout)
				}
				for _, u := range p.expand(tier.Approvers) {
					if slices.Contains(earlier, u.ID) {
						t.Fatalf("role %s: %s approves stage %s and an earlier one", r.Name, u.Name, s.Name)
					}
					here = append(here, u.ID)
				}
			}
			earlier = append(earlier, here...)
		}
		p.RoleApproverIDs(r)
		for _, u := range p.Users {
			_, err := p.Resolve(Caller{ID: u.ID, UPN: u.UPN, Groups: []string{"x"}}, RequestInput{Role: r.Name, Justification: "j", Ticket: "t"})
			var re *RequestError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("Resolve error is not a *RequestError: %v", err)
			}
		}
	}
}
