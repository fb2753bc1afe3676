package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
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
	f.Add([]byte(strings.Replace(basePolicy, "{users: [bob]}", "{users: [bob, 5f1c0e8a-0000-4000-8000-000000000009, zoe@example.com], groups: [5f1c0e8a-0000-4000-8000-000000000001], manager: 2}", 1)))
	f.Add([]byte(strings.Replace(basePolicy, "{groups: [engineers]}", "{pim_eligible: true}", 1)))
	f.Add([]byte(entraPolicy))
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

// fuzzDirectory is a directory holding the policy's users, each in a
// group, the first the manager of the others.
func fuzzDirectory(p *Policy) *fakeDirectory {
	dir := &fakeDirectory{users: slices.Clone(p.Users), members: map[string][]string{}, managers: map[string]string{}}
	for i, u := range p.Users {
		dir.members["5f1c0e8a-0000-4000-8000-000000000001"] = append(dir.members["5f1c0e8a-0000-4000-8000-000000000001"], u.ID)
		if i > 0 {
			dir.managers[u.ID] = p.Users[0].ID
		}
	}
	return dir
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
		dir := fuzzDirectory(p)
		for _, u := range p.Users {
			_, err := p.Resolve(t.Context(), dir, Caller{ID: u.ID, UPN: u.UPN, Groups: []string{"x"}}, RequestInput{Role: r.Name, Justification: "j", Ticket: "t"})
			var re *RequestError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("Resolve error is not a *RequestError: %v", err)
			}
			if _, err := p.MayStillDecide(t.Context(), dir, r.Name, u.ID, u.ID); err != nil && !errors.Is(err, ErrNoLongerApprover) {
				t.Fatalf("MayStillDecide error is not a refusal: %v", err)
			}
			if _, err := p.Explain(t.Context(), dir, u.Name, r.Name, 0, time.Time{}); err != nil {
				t.Fatalf("Explain: %v", err)
			}
		}
		if _, err := p.Resolve(t.Context(), nil, Caller{ID: "x"}, RequestInput{Role: r.Name}); p.UsesDirectory() != errors.Is(err, ErrNoDirectory) {
			t.Fatalf("policy uses a directory: %v; Resolve without one: %v", p.UsesDirectory(), err)
		}
	}
}
