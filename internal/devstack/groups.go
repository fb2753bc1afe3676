package devstack

import (
	"github.com/google/uuid"

	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/server"
)

// DevRateLimit is the dev API's limit per caller: generous enough for the
// end-to-end tests and benchmarks, which call as a few users in bursts.
var DevRateLimit = server.RateLimit{PerSecond: 2000, Burst: 4000}

// groupNamespace derives stable group object ids from group names.
var groupNamespace = uuid.MustParse("6f1c3a52-8d0e-4b7a-9c51-2a0f5e7d9b10")

// policyGroups are the groups of the policy directory as the Graph emulator
// holds them: each group name gets a stable object id, its members are the
// users that list it.
func policyGroups(pol *policies.Policy) []graphemu.Group {
	var out []graphemu.Group
	index := map[string]int{}
	for _, u := range pol.Users {
		for _, name := range u.Groups {
			i, ok := index[name]
			if !ok {
				i = len(out)
				index[name] = i
				out = append(out, graphemu.Group{ID: uuid.NewSHA1(groupNamespace, []byte(name)).String(), DisplayName: name})
			}
			out[i].Members = append(out[i].Members, u.ID)
		}
	}
	return out
}
