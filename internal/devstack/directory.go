package devstack

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitflow/jitflow/directory"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/policies"
)

// The dev tenant's people, as the Graph emulator holds them: the users of
// policies/dev.yaml with a manager chain (alice and erin report to bob, bob
// and dave to carol), so a policy may name approvers by manager.
var devUsers = []graphemu.User{
	{ID: "11111111-1111-4111-8111-000000000001", DisplayName: "Alice", UPN: "alice@example.com", Mail: "alice@example.com", ManagerID: "11111111-1111-4111-8111-000000000002"},
	{ID: "11111111-1111-4111-8111-000000000002", DisplayName: "Bob", UPN: "bob@example.com", Mail: "bob@example.com", ManagerID: "11111111-1111-4111-8111-000000000003"},
	{ID: "11111111-1111-4111-8111-000000000003", DisplayName: "Carol", UPN: "carol@example.com", Mail: "carol@example.com"},
	{ID: "11111111-1111-4111-8111-000000000004", DisplayName: "Dave", UPN: "dave@example.com", Mail: "dave@example.com", ManagerID: "11111111-1111-4111-8111-000000000003"},
	{ID: "11111111-1111-4111-8111-000000000005", DisplayName: "Erin", UPN: "erin@example.com", Mail: "erin@example.com", ManagerID: "11111111-1111-4111-8111-000000000002"},
}

// The dev tenant's Entra groups, by fixed object id, so that a policy can
// name them as production policies do (policies/testdata/entra.yaml and
// docs/policy.md use these ids). approvers nests team-leads.
var devGroups = []graphemu.Group{
	{ID: "22222222-2222-4222-8222-000000000001", DisplayName: "engineers", Members: []string{devUsers[0].ID, devUsers[4].ID}},
	{ID: "22222222-2222-4222-8222-000000000002", DisplayName: "oncall", Members: []string{devUsers[4].ID}},
	{ID: "22222222-2222-4222-8222-000000000003", DisplayName: "team-leads", Members: []string{devUsers[1].ID}},
	{ID: "22222222-2222-4222-8222-000000000004", DisplayName: "security", Members: []string{devUsers[3].ID}},
	{ID: "22222222-2222-4222-8222-000000000005", DisplayName: "approvers", Members: []string{"22222222-2222-4222-8222-000000000003", devUsers[2].ID}},
}

// seedDirectory gives the Graph emulator the dev tenant: its people and
// groups, plus the people of the policy's users list and the groups they
// list by name (each name gets a stable object id).
func seedDirectory(emu *graphemu.Emulator, pol *policies.Policy) error {
	users := slices.Clone(devUsers)
	for _, u := range pol.Users {
		if !slices.ContainsFunc(users, func(x graphemu.User) bool { return strings.EqualFold(x.ID, u.ID) }) {
			users = append(users, graphemu.User{ID: u.ID, DisplayName: u.Name, UPN: u.UPN, Mail: u.Email})
		}
	}
	if err := emu.SetUsers(users); err != nil {
		return fmt.Errorf("graph emulator users: %w", err)
	}
	emu.SetGroups(append(slices.Clone(devGroups), policyGroups(pol)...))
	return nil
}

// tokenPolicy is the policy the dev token issuer knows people by: the
// policy's users list and the dev tenant's people, so that a policy naming
// everyone through Entra still has dev users to sign in as.
func tokenPolicy(pol *policies.Policy) *policies.Policy {
	p := *pol
	p.Users = slices.Clone(pol.Users)
	for _, u := range devUsers {
		name := strings.ToLower(u.DisplayName)
		if _, ok := pol.UserByName(name); ok {
			continue
		}
		if _, ok := pol.UserByID(u.ID); ok {
			continue
		}
		p.Users = append(p.Users, policies.User{Name: name, ID: u.ID, UPN: u.UPN, Email: u.Mail})
	}
	return &p
}

// newDirectory is the directory the dev API and worker read, through the
// production Graph client against the emulator.
func (st *Stack) newDirectory(pol *policies.Policy, cacheFor time.Duration) (*directory.Graph, error) {
	if err := seedDirectory(st.Graph, pol); err != nil {
		return nil, err
	}
	return directory.NewGraph(directory.Config{Graph: st.pim, CacheFor: cacheFor})
}
