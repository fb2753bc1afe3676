package policies

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

// authContextPattern is an Entra authentication context id: c1 to c99.
var authContextPattern = regexp.MustCompile(`^c([1-9]|[1-9][0-9])$`)

// maxTicketPatternLen bounds a ticket pattern; real ones are a few characters.
const maxTicketPatternLen = 200

// limits reads justification_max and ticket_pattern.
func (d *decoder) limits(f fields, path string, r *Role) {
	r.JustificationMax = MaxJustification
	if v := f.get("justification_max"); v != nil {
		n, ok := d.integer(v, field(path, "justification_max"))
		switch {
		case !ok:
		case n < 1 || n > MaxJustification:
			d.errorf(deref(v), field(path, "justification_max"), "is %d; give a number of characters from 1 to %d", n, MaxJustification)
		default:
			r.JustificationMax = n
		}
	}
	if v := f.get("ticket_pattern"); v != nil {
		r.TicketPattern = d.ticketPattern(v, field(path, "ticket_pattern"))
	}
}

// ticketPattern compiles a regular expression a ticket must match in full
// (it is anchored here, so "CHG-[0-9]+" means the whole ticket).
func (d *decoder) ticketPattern(n *yaml.Node, path string) *regexp.Regexp {
	s, ok := d.str(n, path)
	if !ok {
		return nil
	}
	if len(s) > maxTicketPatternLen {
		d.errorf(deref(n), path, "is %d bytes long; at most %d are accepted", len(s), maxTicketPatternLen)
		return nil
	}
	re, err := regexp.Compile(`^(?:` + s + `)$`)
	if err != nil {
		d.errorf(deref(n), path, "%q is not a regular expression (Go RE2 syntax): %v", s, err)
		return nil
	}
	return re
}

// stepUp reads require_mfa and auth_context.
func (d *decoder) stepUp(f fields, path string, r *Role) {
	if v := f.get("require_mfa"); v != nil {
		r.StepUp.MFA = d.boolean(v, field(path, "require_mfa"))
	}
	if v := f.get("auth_context"); v != nil {
		s, ok := d.str(v, field(path, "auth_context"))
		if ok && !authContextPattern.MatchString(s) {
			d.errorf(deref(v), field(path, "auth_context"), "%q is not an Entra authentication context id; use c1 to c99, as set up under Conditional Access > Authentication contexts", s)
			return
		}
		r.StepUp.AuthContext = s
	}
}

// describeTicket says what a ticket must look like, for messages.
func describeTicket(r *Role) string {
	if r.TicketPattern == nil {
		return fmt.Sprintf("up to %d characters", MaxTicket)
	}
	return fmt.Sprintf("matching the pattern %s, up to %d characters", r.TicketPatternText(), MaxTicket)
}
