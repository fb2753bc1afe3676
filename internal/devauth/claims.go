package devauth

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// authContextID is an Entra authentication context id, c1 to c99.
var authContextID = regexp.MustCompile(`^c([1-9]|[1-9][0-9])$`)

// claimRequest is one member of an OIDC claims request (OpenID Connect
// Core 5.5.1): null, or which value(s) the client wants.
type claimRequest struct {
	Essential bool     `json:"essential"`
	Value     *string  `json:"value"`
	Values    []string `json:"values"`
}

func (r *claimRequest) asked() []string {
	if r == nil {
		return nil
	}
	if r.Value != nil {
		return append([]string{*r.Value}, r.Values...)
	}
	return r.Values
}

// stepUpFor reads the authorize request's "claims" parameter and returns
// the step-up the signed-in user completes, as Entra's Conditional Access
// would have them do: amr asking for "mfa" gives a multi-factor sign-in,
// acrs asking for c1 to c99 satisfies those authentication contexts. Both
// the id_token and access_token members count; others (userinfo) and other
// claims are ignored, as OIDC says of claims an issuer does not offer.
func stepUpFor(param string) (TokenOptions, error) {
	var opts TokenOptions
	if param == "" {
		return opts, nil
	}
	var req map[string]map[string]*claimRequest
	if err := json.Unmarshal([]byte(param), &req); err != nil {
		return opts, fmt.Errorf(`claims must be an OpenID Connect claims request, a JSON object such as {"id_token":{"acrs":{"essential":true,"value":"c1"}}}: %v`, err)
	}
	for _, target := range []string{"id_token", "access_token"} {
		members := req[target]
		if slices.Contains(members["amr"].asked(), "mfa") {
			opts.MFA = true
		}
		for _, id := range members["acrs"].asked() {
			if !authContextID.MatchString(id) {
				return opts, fmt.Errorf("claims: %s.acrs asks for %q, which is not an authentication context id (c1 to c99)", target, id)
			}
			if !slices.Contains(opts.ACRS, id) {
				opts.ACRS = append(opts.ACRS, id)
			}
		}
	}
	return opts, nil
}

// stepUpWords describes opts' step-up for the sign-in page; "" for none.
func stepUpWords(opts TokenOptions) string {
	var words []string
	if opts.MFA {
		words = append(words, "multi-factor authentication")
	}
	for _, id := range opts.ACRS {
		words = append(words, "authentication context "+id)
	}
	return strings.Join(words, ", ")
}
