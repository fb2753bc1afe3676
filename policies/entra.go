package policies

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Directory answers what a policy's Entra references stand for: users by
// object id or principal name, the members of groups (nested groups
// included), managers and PIM eligibilities. package directory implements
// it over Microsoft Graph with a short-lived cache. A policy that names
// people only through its own users list never calls it, so such a policy
// works with a nil Directory.
//
// Errors other than ErrNotInDirectory and ErrNoManager mean the directory
// could not answer (Graph throttled, down, or refused jitflow's
// credential): callers must fail loudly and may retry, never read them as
// "nobody".
type Directory interface {
	// User finds a user by object id or user principal name.
	User(ctx context.Context, idOrUPN string) (User, error)
	// GroupMembers lists the users of a group, members of nested groups
	// included, each once.
	GroupMembers(ctx context.Context, groupID string) ([]User, error)
	// MemberGroups lists the object ids (and display names) of every group
	// the user belongs to, directly or through nested groups.
	MemberGroups(ctx context.Context, userID string) ([]string, error)
	// Manager returns the user's manager.
	Manager(ctx context.Context, userID string) (User, error)
	// Eligible reports whether the user holds a PIM eligibility for the
	// role's target (its role at its scope, or its group access).
	Eligible(ctx context.Context, userID string, role *Role) (bool, error)
}

// IsObjectID reports whether s is written as an Entra object id: a GUID,
// 8-4-4-4-12 hex digits, as the policy file's ids must be.
func IsObjectID(s string) bool { return guidPattern.MatchString(s) }

// ErrNotInDirectory: the user or group does not exist in the directory.
var ErrNotInDirectory = errors.New("not in the directory")

// ErrNoManager: the user has no manager set in the directory.
var ErrNoManager = errors.New("no manager set in the directory")

// ErrNoDirectory is returned when a policy with Entra references is used
// without a Directory.
var ErrNoDirectory = errors.New("the policy names Entra users, groups, managers or eligibilities, and no directory (Microsoft Graph) is configured")

// ApproverRefs are the approvers of a tier that only the directory can
// name: they are resolved when the tier's stage starts (workflow activity
// ResolveApprovers), so the audit shows exactly who was asked.
type ApproverRefs struct {
	// GroupIDs are Entra group object ids (lower-case GUIDs); their members,
	// nested groups included, approve.
	GroupIDs []string `json:"group_ids,omitempty"`
	// Manager is how far up the requester's manager chain the tier asks:
	// 1 the requester's manager, 2 the manager's manager; 0 for none.
	Manager int `json:"manager,omitempty"`
}

// Empty reports whether there is nothing to resolve.
func (r ApproverRefs) Empty() bool { return len(r.GroupIDs) == 0 && r.Manager == 0 }

// MaxManagerLevel is the highest manager level a tier may name.
const MaxManagerLevel = 2

// ResolveApprovers turns a tier's directory references into people, as
// the directory stands now: each group's members (nested groups included)
// in the directory's order, then the requester's manager at the given
// level. The requester is left out and each person appears once. A group
// that no longer exists or a requester without a manager adds nobody and
// a problem that says so; any other directory error is a *DirectoryError,
// so the caller retries or fails loudly.
func ResolveApprovers(ctx context.Context, dir Directory, requesterID string, refs ApproverRefs) (people []User, problems []string, err error) {
	if refs.Empty() {
		return nil, nil, nil
	}
	if dir == nil {
		return nil, nil, ErrNoDirectory
	}
	for _, g := range refs.GroupIDs {
		members, err := dir.GroupMembers(ctx, g)
		switch {
		case errors.Is(err, ErrNotInDirectory):
			problems = append(problems, fmt.Sprintf("group %s does not exist in the directory", g))
			continue
		case err != nil:
			return nil, nil, directoryError("the members of group "+g, err)
		}
		if len(members) == 0 {
			problems = append(problems, fmt.Sprintf("group %s has no members", g))
		}
		people = append(people, members...)
	}
	if refs.Manager > 0 {
		chain, err := managers(ctx, dir, requesterID, refs.Manager)
		switch {
		case err != nil:
			return nil, nil, err
		case len(chain) < refs.Manager:
			problems = append(problems, fmt.Sprintf("%s has no manager in the directory", managerChain(requesterID, len(chain))))
		default:
			people = append(people, chain[refs.Manager-1])
		}
	}
	people = slices.DeleteFunc(dedupe(people), func(u User) bool { return strings.EqualFold(u.ID, requesterID) })
	return people, problems, nil
}

// managers reads the manager chain above userID, nearest first, up to
// levels people; a chain that ends sooner is shorter. Errors other than
// "no manager" are *DirectoryError.
func managers(ctx context.Context, dir Directory, userID string, levels int) ([]User, error) {
	var chain []User
	for id := userID; len(chain) < levels; {
		m, err := dir.Manager(ctx, id)
		switch {
		case errors.Is(err, ErrNoManager), errors.Is(err, ErrNotInDirectory):
			return chain, nil
		case err != nil:
			return nil, directoryError("the manager of user "+id, err)
		}
		chain = append(chain, m)
		id = m.ID
	}
	return chain, nil
}

// managerChain names the person level steps up from the requester.
func managerChain(requesterID string, level int) string {
	switch level {
	case 0:
		return "requester " + requesterID
	case 1:
		return "the manager of requester " + requesterID
	default:
		return fmt.Sprintf("the level-%d manager of requester %s", level, requesterID)
	}
}
