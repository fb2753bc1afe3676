package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// CheckResult is what a successful Graph check found.
type CheckResult struct {
	// TenantID, AppID and Roles come from the token's claims (read, not
	// verified: Graph verifies it). Roles are the application permissions
	// granted to the app, e.g. RoleManagement.ReadWrite.Directory.
	TenantID string
	AppID    string
	Roles    []string
	// RoleDefinitionID and RoleName are the role definition read.
	RoleDefinitionID string
	RoleName         string
}

// Permissions jitflow's Graph calls need (application permissions).
var (
	PermissionsDirectoryRoles = []string{"RoleManagement.ReadWrite.Directory", "RoleAssignmentSchedule.ReadWrite.Directory"}
	PermissionsGroups         = []string{"PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup"}
)

// Check gets a token (when a credential is configured) and reads one role
// definition, so a worker fails at start, with what Entra or Graph
// answered, rather than at the first activation. who describes the
// credential in errors (CredentialConfig.String).
func (g *Client) Check(ctx context.Context, who string, roleDefinitionID string) (CheckResult, error) {
	var res CheckResult
	if g.cfg.Credential != nil {
		base, err := url.Parse(strings.TrimSuffix(g.cfg.BaseURL, "/"))
		if err != nil {
			return res, fmt.Errorf("graph BaseURL %q: %w", g.cfg.BaseURL, err)
		}
		scopes := graphScopes(g.cfg, base)
		tok, err := g.cfg.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
		if err != nil {
			return res, fmt.Errorf("%s: no token for %s; Entra answered: %w", who, strings.Join(scopes, " "), err)
		}
		res.TenantID, res.AppID, res.Roles = tokenClaims(tok.Token)
	}
	def, err := g.roleDefinitions.ByUnifiedRoleDefinitionId(roleDefinitionID).Get(ctx, nil)
	if err != nil {
		ge := newError("read role definition "+roleDefinitionID, err)
		if g.cfg.Credential == nil {
			return res, fmt.Errorf("%s: %s", who, ge.Error())
		}
		return res, fmt.Errorf("%s (token for tenant %s, app %s, permissions [%s]): %s%s",
			who, orUnset(res.TenantID), orUnset(res.AppID), strings.Join(res.Roles, " "), ge.Error(), permissionHint(ge))
	}
	res.RoleDefinitionID, res.RoleName = deref(def.GetId()), deref(def.GetDisplayName())
	return res, nil
}

// permissionHint names the permissions to grant when Graph refused the
// token's rights.
func permissionHint(ge *Error) string {
	if ge.Status != 401 && ge.Status != 403 {
		return ""
	}
	return fmt.Sprintf("; the app registration needs the Graph application permissions %s (and for groups %s), with admin consent",
		strings.Join(PermissionsDirectoryRoles, " or "), strings.Join(PermissionsGroups, ", "))
}

// tokenClaims reads tid, appid (or azp) and roles from a JWT's payload for
// the check's report. A token that is not a readable JWT gives nothing.
func tokenClaims(token string) (tenant, app string, roles []string) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", nil
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", nil
	}
	var c struct {
		TID   string   `json:"tid"`
		AppID string   `json:"appid"`
		AZP   string   `json:"azp"`
		Roles []string `json:"roles"`
	}
	if json.Unmarshal(data, &c) != nil {
		return "", "", nil
	}
	return c.TID, orDefault(c.AppID, c.AZP), c.Roles
}
