package policies

import (
	"errors"
	"strings"
	"testing"
)

func TestMayStillDecide(t *testing.T) {
	p := Dev()
	// Since the requests were made, bob left reader's first tier and
	// carol left the directory.
	reader, _ := p.Role("reader")
	reader.Stages[0].Tiers[0].Approvers = Subjects{Users: []string{"dave"}}
	p.Users = append(p.Users[:2:2], p.Users[3:]...)

	tests := []struct {
		name, role, approver string
		refusal              string // "" when they still may
	}{
		{"still an approver", "reader", devID(4), ""},
		{"approver of a later stage", "admin", devID(4), ""},
		{"object id in another case", "admin", strings.ToUpper(devID(4)), ""},
		{"removed from the role", "reader", devID(2), "bob@example.com is not an approver of role reader under the current policy"},
		{"removed from the directory", "admin", devID(3), devID(3) + " is no longer in the policy directory"},
		{"never an approver", "reader", devID(1), "alice@example.com is not an approver of role reader"},
		{"notified of break-glass, not an approver", "breakglass", devID(4), "dave@example.com is not an approver of role breakglass"},
		{"role gone", "retired", devID(4), "role retired is no longer in the policy, so nobody may decide its requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			role, err := p.MayStillDecide(t.Context(), nil, tc.role, tc.approver, devID(1))
			if tc.refusal == "" {
				if err != nil || role == nil || role.Name != tc.role {
					t.Fatalf("MayStillDecide(%s, %s) = %v, %v; want the role", tc.role, tc.approver, role, err)
				}
				return
			}
			var r *DecideRefusal
			if !errors.As(err, &r) || !errors.Is(err, ErrNoLongerApprover) || !strings.Contains(r.Reason, tc.refusal) || role != nil {
				t.Fatalf("MayStillDecide(%s, %s) = %v, %v; want a refusal saying %q", tc.role, tc.approver, role, err, tc.refusal)
			}
		})
	}
}
