package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/policies"
)

// requireStepUp checks that the caller's sign-in is as strong as the role
// demands for what they are doing (requesting or approving). When it is
// not, the answer is Entra's claims challenge: 401 with
// WWW-Authenticate: Bearer ... error="insufficient_claims", claims="..."
// where claims is the base64 of the claims request a client passes to
// Entra to sign in again with the missing step-up.
func requireStepUp(me *identity, role *policies.Role, doing string) error {
	missing, claims := missingStepUp(role.StepUp, me.amr, me.acrs)
	if len(missing) == 0 {
		return nil
	}
	// With an authentication context asked for, its Conditional Access
	// policy is what brings MFA; the amr request covers MFA alone.
	if _, ok := claims["acrs"]; ok {
		delete(claims, "amr")
	}
	body, err := json.Marshal(map[string]any{"access_token": claims})
	if err != nil {
		return fmt.Errorf("encode claims challenge: %w", err)
	}
	h := http.Header{}
	h.Set(echo.HeaderWWWAuthenticate, fmt.Sprintf(`Bearer realm="", error="insufficient_claims", claims="%s"`,
		base64.StdEncoding.EncodeToString(body)))
	return &apiError{status: http.StatusUnauthorized, header: h, detail: fmt.Sprintf(
		"%s role %q needs %s; sign in again with it (WWW-Authenticate carries the claims challenge for Entra ID) and retry",
		doing, role.Name, strings.Join(missing, " and "))}
}

// missingStepUp says, in words, what of up a sign-in that reported amr
// and acrs lacks, and the claims request (OIDC's "claims" parameter, one
// member per claim) that asks the issuer for it.
func missingStepUp(up policies.StepUp, amr, acrs []string) (missing []string, claims map[string]any) {
	claims = map[string]any{}
	if up.AuthContext != "" && !slices.Contains(acrs, up.AuthContext) {
		missing = append(missing, fmt.Sprintf("authentication context %s (the token's acrs claim lists %s)", up.AuthContext, listOrNone(acrs)))
		claims["acrs"] = map[string]any{"essential": true, "value": up.AuthContext}
	}
	if up.MFA && !slices.Contains(amr, "mfa") {
		missing = append(missing, fmt.Sprintf("multi-factor authentication (the token's amr claim lists %s)", listOrNone(amr)))
		claims["amr"] = map[string]any{"essential": true, "values": []string{"mfa"}}
	}
	return missing, claims
}

func listOrNone(vals []string) string {
	if len(vals) == 0 {
		return "nothing"
	}
	return strings.Join(vals, ", ")
}
