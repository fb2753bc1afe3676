package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	msgroups "github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// maxGroupPageSize is Graph's largest page for directory collections.
const maxGroupPageSize = 999

// maxGroupPages bounds one lookup: a user in more than 20 000 groups, or a
// group of more than 20 000 users, is not one jitflow can decide for in
// time anyway.
const maxGroupPages = 20

// userFields are the user properties jitflow reads.
var userFields = []string{"id", "displayName", "userPrincipalName", "mail"}

// DirectoryUser is a user of the Entra directory as jitflow reads it.
type DirectoryUser struct {
	ID          string // object id
	DisplayName string
	UPN         string // user principal name
	Mail        string // "" when the user has no mailbox
}

// IsNotFound reports whether err is Graph's 404: the user, group or
// manager asked for does not exist.
func IsNotFound(err error) bool {
	var ge *Error
	return errors.As(err, &ge) && ge.Status == http.StatusNotFound
}

// User reads a user by object id or user principal name (User.Read.All).
// An unknown user is an *Error for which IsNotFound holds.
func (g *Client) User(ctx context.Context, idOrUPN string) (DirectoryUser, error) {
	if idOrUPN == "" {
		return DirectoryUser{}, errors.New("graph read user: a user object id or principal name is required")
	}
	u, err := g.users.ByUserId(idOrUPN).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userFields},
	})
	if err != nil {
		return DirectoryUser{}, newError("read user "+idOrUPN, err)
	}
	return directoryUser(u), nil
}

// GroupMembers lists the users of a group, members of nested groups
// included, each once (transitiveMembers/microsoft.graph.user;
// GroupMember.Read.All and User.Read.All). An unknown group is an *Error
// for which IsNotFound holds.
func (g *Client) GroupMembers(ctx context.Context, groupID string) ([]DirectoryUser, error) {
	if groupID == "" {
		return nil, errors.New("graph read the members of a group: a group object id is required")
	}
	top := g.groupPageSize
	b := g.directoryGroups.ByGroupId(groupID).TransitiveMembers().GraphUser()
	resp, err := b.Get(ctx, &msgroups.ItemTransitiveMembersGraphUserRequestBuilderGetRequestConfiguration{
		QueryParameters: &msgroups.ItemTransitiveMembersGraphUserRequestBuilderGetQueryParameters{Select: userFields, Top: &top},
	})
	rows, err := readPages("read the members of group "+groupID, maxGroupPages, resp, err, func(link string) (models.UserCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryUser, 0, len(rows))
	for _, u := range rows {
		out = append(out, directoryUser(u))
	}
	return out, nil
}

// Manager reads the user's manager (User.Read.All). A user without a
// manager, like an unknown user, is an *Error for which IsNotFound holds.
func (g *Client) Manager(ctx context.Context, userID string) (DirectoryUser, error) {
	if userID == "" {
		return DirectoryUser{}, errors.New("graph read a manager: a user object id is required")
	}
	op := "read the manager of user " + userID
	obj, err := g.users.ByUserId(userID).Manager().Get(ctx, &users.ItemManagerRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemManagerRequestBuilderGetQueryParameters{Select: userFields},
	})
	if err != nil {
		return DirectoryUser{}, newError(op, err)
	}
	u, ok := obj.(models.Userable)
	if !ok {
		// An organisational contact can be a manager; jitflow can only ask
		// users of the directory.
		return DirectoryUser{}, fmt.Errorf("graph %s: the manager %s is a %s, not a user", op, deref(obj.GetId()), deref(obj.GetOdataType()))
	}
	return directoryUser(u), nil
}

func directoryUser(u models.Userable) DirectoryUser {
	if u == nil {
		return DirectoryUser{}
	}
	return DirectoryUser{ID: deref(u.GetId()), DisplayName: deref(u.GetDisplayName()), UPN: deref(u.GetUserPrincipalName()), Mail: deref(u.GetMail())}
}

// MemberGroups returns the object ids and display names of every group the
// user belongs to, directly or through nested groups
// (transitiveMemberOf/microsoft.graph.group; GroupMember.Read.All). An
// unknown user is an *Error for which IsNotFound holds.
func (g *Client) MemberGroups(ctx context.Context, userID string) ([]string, error) {
	top := g.groupPageSize
	b := g.users.ByUserId(userID).TransitiveMemberOf().GraphGroup()
	resp, err := b.Get(ctx, &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName"}, Top: &top,
		},
	})
	rows, err := readPages("read the groups of user "+userID, maxGroupPages, resp, err, func(link string) (models.GroupCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, grp := range rows {
		if id := deref(grp.GetId()); id != "" {
			out = append(out, id)
		}
		if name := deref(grp.GetDisplayName()); name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}
