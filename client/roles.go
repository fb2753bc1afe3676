package client

import (
	"context"
	"net/http"

	"github.com/jitflow/jitflow/api"
)

const rolesPath = "/api/v1/roles"

// Roles lists the roles the caller may request, in the policy's order,
// with their limits and who would approve (GET /api/v1/roles). A caller
// who may request nothing gets an empty list.
func (c *Client) Roles(ctx context.Context) ([]api.Role, error) {
	var list api.RoleList
	if _, err := c.do(ctx, call{method: http.MethodGet, path: rolesPath, auth: true}, &list); err != nil {
		return nil, err
	}
	if list.Roles == nil {
		list.Roles = []api.Role{}
	}
	return list.Roles, nil
}
