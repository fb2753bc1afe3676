package policies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// DirectoryError is a question the directory could not answer (Graph
// throttled, down, or refusing jitflow's credential). It never means "no":
// the API answers 503 and the caller may try again.
type DirectoryError struct {
	Op  string // what jitflow was reading, e.g. "the groups of user <id>"
	Err error
}

// Error reads "could not read the directory (op): cause; try again".
func (e *DirectoryError) Error() string {
	return fmt.Sprintf("could not read the directory (%s): %v; try again", e.Op, e.Err)
}

// Unwrap gives the directory's own error.
func (e *DirectoryError) Unwrap() error { return e.Err }

// directoryError wraps err, unless it already is a *DirectoryError.
func directoryError(op string, err error) error {
	if de := (*DirectoryError)(nil); errors.As(err, &de) {
		return err
	}
	return &DirectoryError{Op: op, Err: err}
}

// needDirectory refuses to go on without a directory when the policy needs one.
func (p *Policy) needDirectory(dir Directory) error {
	if dir == nil && p.UsesDirectory() {
		return ErrNoDirectory
	}
	return nil
}

// refCache holds the Entra users a policy names, by reference (object id
// or principal name, lower-case), as the directory first answered.
type refCache struct {
	mu    sync.Mutex
	users map[string]User
}

// refUser looks up an Entra user reference, once per policy: a reference
// to nobody answers found false (and is asked again next time, since the
// user may be created).
func (p *Policy) refUser(ctx context.Context, dir Directory, ref string) (u User, found bool, err error) {
	key := strings.ToLower(ref)
	if p.refs != nil {
		p.refs.mu.Lock()
		u, found = p.refs.users[key]
		p.refs.mu.Unlock()
		if found {
			return u, true, nil
		}
	}
	if dir == nil {
		return User{}, false, ErrNoDirectory
	}
	u, err = dir.User(ctx, ref)
	switch {
	case errors.Is(err, ErrNotInDirectory):
		return User{}, false, nil
	case err != nil:
		return User{}, false, directoryError("look up user "+ref, err)
	}
	u.ID = strings.ToLower(u.ID)
	if u.Email == "" {
		u.Email = u.UPN
	}
	u = p.known(u)
	if p.refs != nil {
		p.refs.mu.Lock()
		if p.refs.users == nil {
			p.refs.users = map[string]User{}
		}
		p.refs.users[key] = u
		p.refs.mu.Unlock()
	}
	return u, true, nil
}

// member answers whether one person is among subjects. The policy's own
// lists settle it when they can; otherwise the directory is asked, each
// question at most once per member.
type member struct {
	p           *Policy
	ctx         context.Context
	dir         Directory
	person      User   // ID set; Name and Groups when the users list (or a token) knows them
	requesterID string // whose manager a manager reference means

	groups     []string // the person's Entra groups, once read
	groupsRead bool
}

func (p *Policy) member(ctx context.Context, dir Directory, person User, requesterID string) *member {
	return &member{p: p, ctx: ctx, dir: dir, person: person, requesterID: requesterID}
}

// in reports whether the subjects name the person; role is needed only for
// pim_eligible. Errors are ErrNoDirectory or *DirectoryError.
func (m *member) in(s Subjects, role *Role) (bool, error) {
	if m.person.ID == "" {
		return false, nil
	}
	if m.person.Name != "" && slices.Contains(s.Users, m.person.Name) {
		return true, nil
	}
	if slices.ContainsFunc(s.Groups, func(g string) bool { return inGroups(m.person.Groups, g) }) {
		return true, nil
	}
	for _, ref := range s.UserIDs {
		if ok, err := m.isUser(ref); ok || err != nil {
			return ok, err
		}
	}
	for _, g := range s.GroupIDs {
		if ok, err := m.inGroup(g); ok || err != nil {
			return ok, err
		}
	}
	if s.Manager > 0 {
		if ok, err := m.isManager(s.Manager); ok || err != nil {
			return ok, err
		}
	}
	if s.Eligible && role != nil {
		if m.dir == nil {
			return false, ErrNoDirectory
		}
		ok, err := m.dir.Eligible(m.ctx, m.person.ID, role)
		if err != nil && !errors.Is(err, ErrNotInDirectory) {
			return false, directoryError(fmt.Sprintf("the PIM eligibilities of user %s for %s", m.person.ID, role.Target()), err)
		}
		return ok && err == nil, nil
	}
	return false, nil
}

// isUser compares object ids; a principal name is looked up first, since
// names can be reassigned and object ids cannot.
func (m *member) isUser(ref string) (bool, error) {
	if guidPattern.MatchString(ref) {
		return strings.EqualFold(ref, m.person.ID), nil
	}
	u, found, err := m.p.refUser(m.ctx, m.dir, ref)
	return found && strings.EqualFold(u.ID, m.person.ID), err
}

// inGroup looks in the groups the person is known by (a token's group ids)
// and then in the directory, nested groups included.
func (m *member) inGroup(groupID string) (bool, error) {
	if inGroups(m.person.Groups, groupID) {
		return true, nil
	}
	if !m.groupsRead {
		if m.dir == nil {
			return false, ErrNoDirectory
		}
		groups, err := m.dir.MemberGroups(m.ctx, m.person.ID)
		if err != nil && !errors.Is(err, ErrNotInDirectory) {
			return false, directoryError("the groups of user "+m.person.ID, err)
		}
		m.groups, m.groupsRead = groups, true
	}
	return inGroups(m.groups, groupID), nil
}

// isManager reports whether the person is the requester's manager at this
// level (1 the manager, 2 the manager's manager).
func (m *member) isManager(level int) (bool, error) {
	if m.requesterID == "" {
		return false, nil
	}
	if m.dir == nil {
		return false, ErrNoDirectory
	}
	chain, err := managers(m.ctx, m.dir, m.requesterID, level)
	if err != nil {
		return false, err
	}
	return len(chain) >= level && strings.EqualFold(chain[level-1].ID, m.person.ID), nil
}

// people resolves what can be resolved when a request is made: the users
// list's users and groups, then Entra users by reference, each once. A
// reference to a user the directory no longer has adds nobody.
func (p *Policy) people(ctx context.Context, dir Directory, s Subjects) ([]User, error) {
	out := p.expand(s)
	for _, ref := range s.UserIDs {
		u, found, err := p.refUser(ctx, dir, ref)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, u)
		}
	}
	return dedupe(out), nil
}

// notifyList resolves a break-glass role's notify list completely, Entra
// groups' members included, since nothing waits for a stage to start.
func (p *Policy) notifyList(ctx context.Context, dir Directory, s Subjects) ([]User, error) {
	out, err := p.people(ctx, dir, s)
	if err != nil {
		return nil, err
	}
	// Nobody is left out (no requester); a group gone or empty tells no one.
	members, _, err := ResolveApprovers(ctx, dir, "", ApproverRefs{GroupIDs: s.GroupIDs})
	if err != nil {
		return nil, err
	}
	return dedupe(append(out, members...)), nil
}
