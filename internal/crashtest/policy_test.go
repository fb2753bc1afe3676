package crashtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/policies"
)

// requesters is how many requester users the test policy has: each
// scenario has its own, so that each request holds its own assignment in
// the emulator and the emulator's records tell requests apart.
const requesters = 16

// policyYAML is the crash tests' policy: grants of seconds and tiers that
// escalate or run out within seconds, so that every stage of a request
// happens within about a minute. Its users are r01 to r16 (requesters),
// bob, carol and frank (first-stage approvers) and dave (second stage).
const policyYAML = `tenant_id: 00000000-0000-4000-8000-0000000000c7
users:
%s  - {name: bob, id: 22222222-2222-4222-8222-000000000001, upn: bob@example.com}
  - {name: carol, id: 22222222-2222-4222-8222-000000000002, upn: carol@example.com}
  - {name: frank, id: 22222222-2222-4222-8222-000000000003, upn: frank@example.com}
  - {name: dave, id: 22222222-2222-4222-8222-000000000004, upn: dave@example.com, groups: [security]}
roles:
  - name: single
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {groups: [requesters]}
    duration: {min: 1s, max: 5m, default: 10s}
    approval:
      remind_before: false
      stages:
        - name: lead
          tiers:
            - {approvers: {users: [bob]}, timeout: 3m}
            - {approvers: {users: [carol]}, timeout: 3m}
  - name: escalating
    role_definition_id: 5d6b6bb7-de71-4623-b4af-96380a352509
    requesters: {groups: [requesters]}
    duration: {min: 1s, max: 5m, default: 10s}
    approval:
      remind_before: false
      stages:
        - name: lead
          tiers:
            - {approvers: {users: [bob]}, timeout: 3s}
            - {approvers: {users: [carol]}, timeout: 3m}
  - name: hasty
    role_definition_id: 4a5d8f65-41da-4de4-8968-e035b65339cf
    requesters: {groups: [requesters]}
    duration: {min: 1s, max: 5m, default: 10s}
    approval:
      remind_before: false
      stages:
        - name: lead
          tiers:
            - {approvers: {users: [bob]}, timeout: 3s}
            - {approvers: {users: [carol]}, timeout: 4s}
  - name: multi
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {groups: [requesters]}
    duration: {min: 1s, max: 5m, default: 10s}
    approval:
      remind_before: false
      stages:
        - name: leads
          approvals: 2
          tiers:
            - {approvers: {users: [bob, carol, frank]}, timeout: 3m}
        - name: security
          tiers:
            - {approvers: {users: [dave]}, timeout: 3m}
  - name: glass
    role_definition_id: 62e90394-69f5-4237-9190-012177145e10
    requesters: {groups: [requesters]}
    duration: {min: 1s, max: 5m, default: 10s}
    break_glass: true
    notify: {users: [dave]}
`

// requester is the name of the n-th requester, from 1.
func requester(n int) string { return fmt.Sprintf("r%02d", n) }

// writePolicy writes the test policy into dir, checks that jitflow reads
// it, and returns its path.
func writePolicy(t *testing.T, dir string) string {
	t.Helper()
	var users strings.Builder
	for n := 1; n <= requesters; n++ {
		fmt.Fprintf(&users, "  - {name: %s, id: 11111111-1111-4111-8111-0000000000%02d, upn: %[1]s@example.com, groups: [requesters]}\n", requester(n), n)
	}
	data := fmt.Sprintf(policyYAML, users.String())
	if _, err := policies.Parse("crashtest.yaml", []byte(data)); err != nil {
		t.Fatalf("the test policy: %v", err)
	}
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
