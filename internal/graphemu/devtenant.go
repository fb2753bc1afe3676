package graphemu

import "slices"

// The dev tenant's people, as the Graph emulator holds them: the users of
// policies/dev.yaml with a manager chain (alice and erin report to bob, bob
// and dave to carol), so a policy may name approvers by manager.
var devUsers = []User{
	{ID: "11111111-1111-4111-8111-000000000001", DisplayName: "Alice", UPN: "alice@example.com", Mail: "alice@example.com", ManagerID: "11111111-1111-4111-8111-000000000002"},
	{ID: "11111111-1111-4111-8111-000000000002", DisplayName: "Bob", UPN: "bob@example.com", Mail: "bob@example.com", ManagerID: "11111111-1111-4111-8111-000000000003"},
	{ID: "11111111-1111-4111-8111-000000000003", DisplayName: "Carol", UPN: "carol@example.com", Mail: "carol@example.com"},
	{ID: "11111111-1111-4111-8111-000000000004", DisplayName: "Dave", UPN: "dave@example.com", Mail: "dave@example.com", ManagerID: "11111111-1111-4111-8111-000000000003"},
	{ID: "11111111-1111-4111-8111-000000000005", DisplayName: "Erin", UPN: "erin@example.com", Mail: "erin@example.com", ManagerID: "11111111-1111-4111-8111-000000000002"},
}

// The dev tenant's Entra groups, by fixed object id, so that a policy can
// name them as production policies do (policies/testdata/entra.yaml and
// docs/policy.md use these ids). approvers nests team-leads.
var devGroups = []Group{
	{ID: "22222222-2222-4222-8222-000000000001", DisplayName: "engineers", Members: []string{devUsers[0].ID, devUsers[4].ID}},
	{ID: "22222222-2222-4222-8222-000000000002", DisplayName: "oncall", Members: []string{devUsers[4].ID}},
	{ID: "22222222-2222-4222-8222-000000000003", DisplayName: "team-leads", Members: []string{devUsers[1].ID}},
	{ID: "22222222-2222-4222-8222-000000000004", DisplayName: "security", Members: []string{devUsers[3].ID}},
	{ID: "22222222-2222-4222-8222-000000000005", DisplayName: "approvers", Members: []string{"22222222-2222-4222-8222-000000000003", devUsers[2].ID}},
}

// DevUsers are the dev tenant's people (a copy).
func DevUsers() []User { return slices.Clone(devUsers) }

// DevGroups are the dev tenant's groups (a copy).
func DevGroups() []Group {
	out := slices.Clone(devGroups)
	for i := range out {
		out[i].Members = slices.Clone(out[i].Members)
	}
	return out
}

// SeedDevTenant gives the emulator the dev tenant's people and groups, as
// `jitflow emulate graph` serves them.
func (e *Emulator) SeedDevTenant() error {
	if err := e.SetUsers(DevUsers()); err != nil {
		return err
	}
	e.SetGroups(DevGroups())
	return nil
}
