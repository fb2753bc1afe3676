package policies

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// fakeDirectory is a Directory from maps. Group members may be users or
// other groups (nested); every answer is transitive, as Graph's is. err,
// when set, fails every call (Graph throttled); calls counts each method.
type fakeDirectory struct {
	users    []User
	members  map[string][]string // group id -> user and group ids
	managers map[string]string   // user id -> manager's id
	eligible map[string]bool     // user ids holding an eligibility for every role

	mu    sync.Mutex
	err   error
	calls map[string]int
}

func (f *fakeDirectory) call(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
	return f.err
}

func (f *fakeDirectory) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeDirectory) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeDirectory) find(idOrUPN string) (User, bool) {
	i := slices.IndexFunc(f.users, func(u User) bool {
		return strings.EqualFold(u.ID, idOrUPN) || strings.EqualFold(u.UPN, idOrUPN)
	})
	if i < 0 {
		return User{}, false
	}
	return f.users[i], true
}

func (f *fakeDirectory) User(_ context.Context, idOrUPN string) (User, error) {
	if err := f.call("User"); err != nil {
		return User{}, err
	}
	u, ok := f.find(idOrUPN)
	if !ok {
		return User{}, ErrNotInDirectory
	}
	return u, nil
}

func (f *fakeDirectory) GroupMembers(_ context.Context, groupID string) ([]User, error) {
	if err := f.call("GroupMembers"); err != nil {
		return nil, err
	}
	if _, ok := f.members[groupID]; !ok {
		return nil, ErrNotInDirectory
	}
	var out []User
	seen := map[string]bool{}
	var walk func(string)
	walk = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, id := range f.members[g] {
			if _, isGroup := f.members[id]; isGroup {
				walk(id)
			} else if u, ok := f.find(id); ok && !slices.ContainsFunc(out, func(x User) bool { return x.ID == u.ID }) {
				out = append(out, u)
			}
		}
	}
	walk(groupID)
	return out, nil
}

func (f *fakeDirectory) MemberGroups(_ context.Context, userID string) ([]string, error) {
	if err := f.call("MemberGroups"); err != nil {
		return nil, err
	}
	if _, ok := f.find(userID); !ok {
		return nil, ErrNotInDirectory
	}
	var out []string
	var climb func(string)
	climb = func(id string) {
		for g, members := range f.members {
			if slices.Contains(members, id) && !slices.Contains(out, g) {
				out = append(out, g)
				climb(g)
			}
		}
	}
	climb(userID)
	slices.Sort(out)
	return out, nil
}

func (f *fakeDirectory) Manager(_ context.Context, userID string) (User, error) {
	if err := f.call("Manager"); err != nil {
		return User{}, err
	}
	if _, ok := f.find(userID); !ok {
		return User{}, ErrNotInDirectory
	}
	m, ok := f.find(f.managers[userID])
	if !ok {
		return User{}, ErrNoManager
	}
	return m, nil
}

func (f *fakeDirectory) Eligible(_ context.Context, userID string, _ *Role) (bool, error) {
	if err := f.call("Eligible"); err != nil {
		return false, err
	}
	return f.eligible[userID], nil
}
