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

// seedDirectory gives the Graph emulator the dev tenant: its people and
// groups, plus the people of the policy's users list and the groups they
// list by name (each name gets a stable object id).
func seedDirectory(emu *graphemu.Emulator, pol *policies.Policy) error {
	var users []graphemu.User
	for _, u := range pol.Users {
		users = append(users, graphemu.User{ID: u.ID, DisplayName: u.Name, UPN: u.UPN, Mail: u.Email})
	}
	// The policy's people come first: a dev tenant person who shares an
	// object id or principal name with one of them is left out.
	for _, d := range graphemu.DevUsers() {
		if !slices.ContainsFunc(users, func(x graphemu.User) bool {
			return strings.EqualFold(x.ID, d.ID) || strings.EqualFold(x.UPN, d.UPN)
		}) {
			users = append(users, d)
		}
	}
	for i, u := range users { // the dev tenant's manager chain, by object id
		for _, d := range graphemu.DevUsers() {
			if strings.EqualFold(d.ID, u.ID) && u.ManagerID == "" {
				users[i].ManagerID = d.ManagerID
			}
		}
	}
	if err := emu.SetUsers(users); err != nil {
		return fmt.Errorf("graph emulator users: %w", err)
	}
	emu.SetGroups(append(graphemu.DevGroups(), policyGroups(pol)...))
	return nil
}

// tokenPolicy is the policy the dev token issuer knows people by: the
// policy's users list and the dev tenant's people, so that a policy naming
// everyone through Entra still has dev users to sign in as.
func tokenPolicy(pol *policies.Policy) *policies.Policy {
	p := *pol
	p.Users = slices.Clone(pol.Users)
	for _, u := range graphemu.DevUsers() {
		name := strings.ToLower(u.DisplayName)
		if _, ok := pol.UserByName(name); ok {
			continue
		}
		if _, ok := pol.UserByID(u.ID); ok {
			continue
		}
		if _, ok := pol.UserByUPN(u.UPN); ok {
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
