package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// App roles a token may carry.
const (
	// OperatorRole may see and revoke every request.
	OperatorRole = "operator"
	// AuditorRole may read every request and audit trail, and act on none
	// it is not otherwise part of.
	AuditorRole = "auditor"
)

const ctxIdentity = "jitflow.identity"

// identity is the authenticated caller of one API call.
type identity struct {
	person   workflows.Person // object id decides; UPN and email are for display
	groups   []string         // token groups and directory groups
	roles    []string         // app roles from the token
	operator bool
	auditor  bool
	amr      []string // sign-in methods, for step-up checks
	acrs     []string // authentication contexts satisfied
	// via names the token the caller was authenticated by, for the
	// proofs of their actions and so the audit trail.
	via string
	// channel is the door the caller came through when it is not the
	// API's (proof.ChannelPortal for a portal session).
	channel string
}

// door is the proof channel of the caller's actions: their own door if
// they came through one, else api (the API's for that action).
func (id *identity) door(api string) string {
	if id.channel != "" {
		return id.channel
	}
	return api
}

func (id *identity) caller() policies.Caller {
	return policies.Caller{ID: id.person.ID, UPN: id.person.UPN, Groups: id.groups, Roles: id.roles, MFA: slices.Contains(id.amr, "mfa")}
}

// authenticate requires a valid bearer token and puts the caller's identity
// in the context.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw, err := bearerToken(c.Request())
		if err != nil {
			return s.unauthenticated(c, unauthorized(err.Error()))
		}
		claims, err := s.verifier.Verify(c.Request().Context(), raw)
		var te *TokenError
		switch {
		case errors.As(err, &te):
			return s.unauthenticated(c, unauthorized(te.Reason))
		case errors.Is(err, ErrKeysUnavailable):
			return &apiError{status: http.StatusServiceUnavailable, detail: "cannot check the token now: the issuer's signing keys are unavailable", cause: err}
		case err != nil:
			return fmt.Errorf("verify token: %w", err)
		}
		// The limit comes before the directory lookup, so a flood of
		// calls does not become a flood of Graph calls.
		if err := s.limits.allow(claims.ObjectID); err != nil {
			return err
		}
		if claims.GroupsOverage {
			if claims.Groups, err = s.overageGroups(c.Request().Context(), claims.ObjectID); err != nil {
				return err
			}
		}
		c.Set(ctxIdentity, s.identify(c, claims))
		return next(c)
	}
}

// identify merges the token with the policy directory: the directory knows
// group names (Entra tokens carry group object ids) and email addresses.
func (s *Server) identify(c echo.Context, cl Claims) *identity {
	pol := s.policy(c)
	operator, err := pol.IsOperator(c.Request().Context(), s.directory, cl.ObjectID)
	if err != nil {
		// Fail closed: the operator rights wait for the directory.
		s.log.Warn("directory lookup failed; the caller is not treated as an operator", "caller_id", cl.ObjectID, "error", err)
	}
	id := &identity{
		person:   workflows.Person{ID: cl.ObjectID, UPN: cl.UPN, Email: cl.UPN},
		groups:   slices.Clone(cl.Groups),
		roles:    slices.Clone(cl.Roles),
		operator: slices.Contains(cl.Roles, OperatorRole) || operator,
		auditor:  slices.Contains(cl.Roles, AuditorRole),
		amr:      cl.AMR,
		acrs:     cl.ACRS,
		via:      fmt.Sprintf("bearer token of %s (oid %s, sub %s, iss %s)", cl.UPN, cl.ObjectID, cl.Subject, cl.Issuer),
	}
	if u, ok := pol.UserByID(cl.ObjectID); ok {
		if id.person.UPN == "" {
			id.person.UPN = u.UPN
		}
		id.person.Email = u.Email
		for _, g := range u.Groups {
			if !slices.Contains(id.groups, g) {
				id.groups = append(id.groups, g)
			}
		}
	}
	return id
}

func currentIdentity(c echo.Context) *identity {
	id, ok := c.Get(ctxIdentity).(*identity)
	if !ok {
		// Routes without authenticate never call this; reaching it is a bug.
		panic("server: handler needs an authenticated route")
	}
	return id
}

func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get(echo.HeaderAuthorization)
	if h == "" {
		return "", errors.New("no bearer token; send Authorization: Bearer <token>")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errors.New("Authorization header must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), nil
}

// unauthorized answers 401 with the RFC 6750 challenge.
func unauthorized(reason string) *apiError {
	desc := strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return '\''
		}
		return r
	}, reason)
	h := http.Header{}
	h.Set(echo.HeaderWWWAuthenticate, fmt.Sprintf(`Bearer error="invalid_token", error_description="%s"`, desc))
	return &apiError{status: http.StatusUnauthorized, detail: reason, header: h}
}
