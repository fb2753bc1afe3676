package graph

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// maxGroupPageSize is Graph's largest page for directory collections.
const maxGroupPageSize = 999

// maxGroupPages bounds one lookup: a user in more than 20 000 groups is
// not a user jitflow can decide for in time anyway.
const maxGroupPages = 20

// MemberGroups returns the object ids and display names of every group the
// user belongs to, directly or through nested groups
// (transitiveMemberOf/microsoft.graph.group; GroupMember.Read.All).
func (g *Client) MemberGroups(ctx context.Context, userID string) ([]string, error) {
	top := g.groupPageSize
	b := g.users.ByUserId(userID).TransitiveMemberOf().GraphGroup()
	resp, err := b.Get(ctx, &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName"}, Top: &top,
		},
	})
	rows, err := collect("read the groups of user "+userID, maxGroupPages, resp, err, func(link string) (models.GroupCollectionResponseable, error) {
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
