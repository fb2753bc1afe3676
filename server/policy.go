package server

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/policies"
)

// staticPolicy is a policy that is never reloaded.
type staticPolicy struct{ p *policies.Policy }

func (s staticPolicy) Current() *policies.Policy { return s.p }

// ctxPolicy holds the policy snapshot of one HTTP request.
const ctxPolicy = "jitflow.policy"

// policy is the policy that decides this HTTP request: the one in force
// when it was first asked for, so a reload in the middle of a request
// cannot give it two answers.
func (s *Server) policy(c echo.Context) *policies.Policy {
	if p, ok := c.Get(ctxPolicy).(*policies.Policy); ok {
		return p
	}
	p := s.policies.Current()
	c.Set(ctxPolicy, p)
	return p
}

// CheckPolicy reports whether this server can serve p: the Graph
// directory it names and the sign-in its roles ask for must be configured.
// New checks the policy it starts with; a reload calls it before the new
// policy takes over (policies.LiveOptions.Check), so a policy the server
// cannot serve is refused and the old one stays in force.
func (s *Server) CheckPolicy(p *policies.Policy) error {
	var errs []error
	if s.eligible == nil {
		if r := eligibilityRole(p); r != "" {
			errs = append(errs, fmt.Errorf("server: config needs Eligibility (role %q sets require_eligibility): there is no Microsoft Graph client to check PIM eligibilities with", r))
		}
	}
	if s.directory == nil && p.UsesDirectory() {
		errs = append(errs, policies.ErrNoDirectory)
	}
	if err := checkSignIn(p, s.approvalKeys, s.signIn); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
