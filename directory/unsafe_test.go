package directory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
)

// answers is a Graph client that answers whatever users it is given, as a
// tenant (or something posing as Graph) might.
type answers struct {
	Client
	users []graph.DirectoryUser
}

func (a answers) User(context.Context, string) (graph.DirectoryUser, error) { return a.users[0], nil }
func (a answers) Manager(context.Context, string) (graph.DirectoryUser, error) {
	return a.users[0], nil
}
func (a answers) GroupMembers(context.Context, string) ([]graph.DirectoryUser, error) {
	return a.users, nil
}

// What Graph answers about people goes into history, email, pages and
// terminals: a user whose id is not a GUID, or whose principal name or
// mail holds control or bidi characters or more than one address, is
// refused by User and Manager and never listed among a group's members.
func TestUnsafeDirectoryUsersRefused(t *testing.T) {
	const id = "11111111-1111-4111-8111-0000000000a1"
	good := graph.DirectoryUser{ID: id, UPN: "ann@example.com", Mail: "ann@mail.example.com"}
	for name, u := range map[string]graph.DirectoryUser{
		"id not a GUID":         {ID: "ann\x1b[31m", UPN: "ann@example.com"},
		"control in UPN":        {ID: id, UPN: "ann\r\n@example.com"},
		"bidi override in mail": {ID: id, UPN: "ann@example.com", Mail: "ann\u202e@example.com"},
		"two addresses":         {ID: id, UPN: "ann@example.com", Mail: "ann@example.com, eve@evil.example"},
		"display name in mail":  {ID: id, UPN: "ann@example.com", Mail: "Ann <ann@example.com>"},
	} {
		t.Run(name, func(t *testing.T) {
			dir, err := NewGraph(Config{Graph: answers{users: []graph.DirectoryUser{u, good}}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if got, err := dir.User(ctx, "ann@example.com"); err == nil || errors.Is(err, policies.ErrNotInDirectory) {
				t.Errorf("User = %+v, %v; want a refusal", got, err)
			} else if strings.ContainsAny(err.Error(), "\x1b\r\n\u202e") {
				t.Errorf("the refusal carries the raw text: %q", err)
			}
			if got, err := dir.Manager(ctx, id); err == nil || errors.Is(err, policies.ErrNoManager) {
				t.Errorf("Manager = %+v, %v; want a refusal", got, err)
			}
			members, err := dir.GroupMembers(ctx, "22222222-2222-4222-8222-000000000001")
			if err != nil || len(members) != 1 || members[0].UPN != good.UPN {
				t.Errorf("GroupMembers = %+v, %v; want only the well-formed member", members, err)
			}
		})
	}
	dir, _ := NewGraph(Config{Graph: answers{users: []graph.DirectoryUser{good}}})
	if u, err := dir.User(context.Background(), id); err != nil || u.Email != good.Mail {
		t.Errorf("a well-formed user: %+v, %v", u, err)
	}
}
