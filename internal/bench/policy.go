package bench

import (
	"fmt"
	"strings"

	"github.com/jitflow/jitflow/policies"
)

// Names in the bench policy.
const (
	PolicyRole     = "bench"
	PolicyApprover = "approver"
	PolicyOperator = "operator"
)

// Policy is the policy of the bench's own stack: requesters requester-N
// (one per concurrent grant, so that each grant is its own assignment and
// ends on its own), an approver and an operator, and one role with a single
// one-approver stage whose tier waits a day (nothing times out), allowing
// grants from one second. It returns the requesters' names.
func Policy(requesters int) (*policies.Policy, []string, error) {
	if requesters < 1 {
		return nil, nil, fmt.Errorf("bench policy: %d requesters: need at least 1", requesters)
	}
	var b strings.Builder
	b.WriteString("tenant_id: 00000000-0000-4000-8000-0000000000be\nusers:\n")
	user := func(n int, name, groups string) {
		fmt.Fprintf(&b, "  - {name: %s, id: 22222222-0000-4000-8000-%012d, upn: %s@bench.example.com%s}\n", name, n, name, groups)
	}
	user(0, PolicyApprover, "")
	user(1, PolicyOperator, "")
	names := make([]string, requesters)
	for i := range names {
		names[i] = fmt.Sprintf("requester-%d", i+1)
		user(i+2, names[i], ", groups: [requesters]")
	}
	fmt.Fprintf(&b, `operators: [%s]
roles:
  - name: %s
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [requesters]}
    duration: {min: 1s, max: 8h, default: 1h}
    approval:
      stages:
        - name: approval
          tiers:
            - approvers: {users: [%s]}
              timeout: 24h
`, PolicyOperator, PolicyRole, PolicyApprover)
	p, err := policies.Parse("bench policy", []byte(b.String()))
	if err != nil {
		return nil, nil, err
	}
	return p, names, nil
}
