package bench

import "testing"

func TestPolicyParsesWithOneRequesterEach(t *testing.T) {
	p, names, err := Policy(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 3 || names[2] != "requester-3" {
		t.Fatalf("names %v", names)
	}
	role, ok := p.Role(PolicyRole)
	if !ok {
		t.Fatalf("no role %s", PolicyRole)
	}
	if got := len(p.RequesterIDs(role)); got != 3 {
		t.Errorf("%d requesters may ask for the role, want 3", got)
	}
	if role.MinDuration > 1e9 {
		t.Errorf("minimum duration %s, want at most 1s", role.MinDuration)
	}
	if _, _, err := Policy(0); err == nil {
		t.Error("Policy(0) succeeded")
	}
}
