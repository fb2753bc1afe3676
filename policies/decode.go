package policies

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/jitflow/jitflow/durations"
)

var (
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	rolePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	userPattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	upnPattern  = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
)

// maxNameLen bounds names and labels: they travel into search attributes,
// URLs and mail subjects.
const maxNameLen = 64

// The keys each mapping accepts, in the order the messages list them.
var (
	policyKeys   = []string{"tenant_id", "users", "operators", "roles"}
	userKeys     = []string{"name", "id", "upn", "email", "groups"}
	roleKeys     = []string{"name", "description", "role_definition_id", "directory_scope_id", "group", "requesters", "duration", "require_justification", "require_ticket", "require_eligibility", "extension", "approver_sign_in", "justification_max", "ticket_pattern", "require_mfa", "auth_context", "conditions", "auto_approve", "approval", "break_glass", "notify"}
	groupKeys    = []string{"id", "access"}
	extendKeys   = []string{"without_approval_up_to", "max"}
	durationKeys = []string{"min", "max", "default"}
	approvalKeys = []string{"remind_before", "stages"}
	stageKeys    = []string{"name", "approvals", "tiers"}
	tierKeys     = []string{"approvers", "timeout"}
	subjectKeys  = []string{"users", "groups"}
)

// policy decodes the whole document. The directory (users) is read first,
// whatever its place in the file, because everything else refers to it.
func (d *decoder) policy(root *yaml.Node) *Policy {
	f, ok := d.mapping(root, "", policyKeys...)
	if !ok {
		return nil
	}
	p := &Policy{}
	if n := d.need(f, "tenant_id", "give the Entra tenant id, a GUID"); n != nil {
		p.TenantID = d.guid(n, "tenant_id")
	}
	if n := d.need(f, "users", "list the people this policy names (name, id, upn)"); n != nil {
		p.Users = d.users(n, "users")
	}
	if n := f.get("operators"); n != nil {
		p.Operators = d.operators(n, "operators", p)
	}
	if n := d.need(f, "roles", "list at least one role"); n != nil {
		p.Roles = d.roles(n, "roles", p)
	}
	return p
}

func (d *decoder) guid(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	if !guidPattern.MatchString(s) {
		d.errorf(deref(n), path, "%q is not a GUID; expected 8-4-4-4-12 hex digits such as \"11111111-1111-4111-8111-000000000001\"", s)
		return ""
	}
	return strings.ToLower(s)
}

// label reads a required name that must match pattern.
func (d *decoder) label(n *yaml.Node, path string, pattern *regexp.Regexp, accepted string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	if !pattern.MatchString(s) || len(s) > maxNameLen {
		d.errorf(deref(n), path, "%q is not accepted; use %s, at most %d characters", s, accepted, maxNameLen)
		return ""
	}
	return s
}

// text reads a free-form single line (group and stage names).
func (d *decoder) text(n *yaml.Node, path string, limit int) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	switch {
	case strings.TrimSpace(s) == "":
		d.errorf(deref(n), path, "is blank; give a name")
		return ""
	case s != strings.TrimSpace(s) || strings.ContainsFunc(s, unicode.IsControl):
		d.errorf(deref(n), path, "%q has leading or trailing spaces or control characters; write it plainly", s)
		return ""
	case len(s) > limit:
		d.errorf(deref(n), path, "is %d bytes long; at most %d are accepted", len(s), limit)
		return ""
	}
	return s
}

func (d *decoder) operators(n *yaml.Node, path string, dir *Policy) []string {
	var out []string
	for _, op := range d.names(n, path, "[dave]") {
		if d.knownUser(op, dir) {
			out = append(out, op.value)
		}
	}
	return out
}

// knownUser reports a user name the directory lacks.
func (d *decoder) knownUser(u name, dir *Policy) bool {
	if _, ok := dir.UserByName(u.value); ok {
		return true
	}
	users := make([]string, len(dir.Users))
	for i, x := range dir.Users {
		users[i] = x.Name
	}
	d.errorf(u.node, u.path, "unknown user %q; users of this file: %s", u.value, orNone(users))
	return false
}

func (d *decoder) knownGroup(g name, dir *Policy) bool {
	if inGroups(dir.groupNames(), g.value) {
		return true
	}
	d.errorf(g.node, g.path, "unknown group %q; a group exists when some user lists it under groups; groups of this file: %s", g.value, orNone(dir.groupNames()))
	return false
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// subjects reads {users: [...], groups: [...]}, checking every name against
// the directory: in a file that owns the directory an unknown name is a typo.
func (d *decoder) subjects(n *yaml.Node, path string, dir *Policy) Subjects {
	users, groups := d.subjectNames(n, path, dir)
	return Subjects{Users: values(users), Groups: values(groups)}
}

// subjectNames is subjects keeping where each known name was written, for
// checks that must point at one entry.
func (d *decoder) subjectNames(n *yaml.Node, path string, dir *Policy) (users, groups []name) {
	f, ok := d.mapping(n, path, subjectKeys...)
	if !ok {
		return nil, nil
	}
	if v := f.get("users"); v != nil {
		for _, u := range d.names(v, field(path, "users"), "[bob, carol]") {
			if d.knownUser(u, dir) {
				users = append(users, u)
			}
		}
	}
	if v := f.get("groups"); v != nil {
		for _, g := range d.names(v, field(path, "groups"), "[engineers]") {
			if d.knownGroup(g, dir) {
				groups = append(groups, g)
			}
		}
	}
	if f.get("users") == nil && f.get("groups") == nil {
		d.errorf(f.node, path, "names no one; give users: [...] and/or groups: [...]")
	}
	return users, groups
}

func values(names []name) []string {
	var out []string
	for _, n := range names {
		out = append(out, n.value)
	}
	return out
}

// durations reads {min, max, default}. Without a default the role grants
// an hour, or less when max is shorter, or min when that is longer.
func (d *decoder) durations(n *yaml.Node, path string, r *Role) {
	f, ok := d.mapping(n, path, durationKeys...)
	if !ok {
		return
	}
	hint := `give a duration such as "10s", "8h" or "PT8H"`
	minN, maxN := d.need(f, "min", hint), d.need(f, "max", hint)
	if minN == nil || maxN == nil {
		return
	}
	lo, okLo := d.duration(minN, field(path, "min"))
	hi, okHi := d.duration(maxN, field(path, "max"))
	if !okLo || !okHi {
		return
	}
	if lo <= 0 {
		d.errorf(deref(minN), field(path, "min"), "must be more than zero")
		return
	}
	if hi < lo {
		d.errorf(deref(maxN), field(path, "max"), "%s is less than min %s; max must be at least min", durations.Format(hi), durations.Format(lo))
		return
	}
	def := max(lo, min(hi, time.Hour))
	if defN := f.get("default"); defN != nil {
		v, ok := d.duration(defN, field(path, "default"))
		if !ok {
			return
		}
		if v < lo || v > hi {
			d.errorf(deref(defN), field(path, "default"), "%s is outside min..max; accepted: %s to %s", durations.Format(v), durations.Format(lo), durations.Format(hi))
			return
		}
		def = v
	}
	r.MinDuration, r.MaxDuration, r.DefaultDuration = lo, hi, def
}

// seen remembers values that must be unique (case-insensitively), by the
// path of their first use.
type seen map[string]string

// check reports value if an earlier entry took it; "" was already reported as invalid.
func (s seen) check(d *decoder, n *yaml.Node, path, what, value string) {
	if value == "" {
		return
	}
	key := strings.ToLower(value)
	if first, dup := s[key]; dup {
		d.errorf(deref(n), path, "%s %q is already used by %s; each must be unique", what, value, first)
		return
	}
	s[key] = path
}

// emailAddress accepts a bare address, no display name.
func emailAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// distinctNames lists the user names of subjects after group expansion.
func distinctNames(dir *Policy, tiers []Tier) []string {
	var names []string
	for _, t := range tiers {
		for _, u := range dir.expand(t.Approvers) {
			if !slices.Contains(names, u.Name) {
				names = append(names, u.Name)
			}
		}
	}
	return names
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
