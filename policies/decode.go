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
	roleKeys     = []string{"name", "description", "role_definition_id", "directory_scope_id", "group", "requesters", "duration", "require_justification", "require_ticket", "require_eligibility", "extension", "end_notice_before", "approver_sign_in", "justification_max", "ticket_pattern", "require_mfa", "auth_context", "conditions", "auto_approve", "approval", "break_glass", "notify"}
	groupKeys    = []string{"id", "access"}
	extendKeys   = []string{"without_approval_up_to", "max"}
	durationKeys = []string{"min", "max", "default"}
	approvalKeys = []string{"remind_before", "stages"}
	stageKeys    = []string{"name", "approvals", "tiers"}
	tierKeys     = []string{"approvers", "timeout"}
	subjectKeys  = []string{"users", "groups", "manager", "pim_eligible"}
)

// policy decodes the whole document. The directory (users) is read first,
// whatever its place in the file, because everything else refers to it.
// It is optional: a policy may name everyone through Entra.
func (d *decoder) policy(root *yaml.Node) *Policy {
	f, ok := d.mapping(root, "", policyKeys...)
	if !ok {
		return nil
	}
	p := &Policy{refs: &refCache{}}
	if n := d.need(f, "tenant_id", "give the Entra tenant id, a GUID"); n != nil {
		p.TenantID = d.guid(n, "tenant_id")
	}
	if n := f.get("users"); n != nil {
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

// operators reads a list of user names, or a subjects mapping that may also
// name Entra users and groups.
func (d *decoder) operators(n *yaml.Node, path string, dir *Policy) Subjects {
	if deref(n).Kind == yaml.MappingNode {
		s, _, _ := d.subjectsAt(n, path, dir, atOperators)
		return s
	}
	var s Subjects
	for _, op := range d.names(n, path, "[dave] (or a mapping {users: [...], groups: [...]})") {
		if d.knownUser(op, dir) {
			s.Users = append(s.Users, op.value)
		}
	}
	return s
}

// knownUser reports a name of operators' list form that the users list lacks.
func (d *decoder) knownUser(u name, dir *Policy) bool {
	if _, ok := dir.UserByName(u.value); ok {
		return true
	}
	users := make([]string, len(dir.Users))
	for i, x := range dir.Users {
		users[i] = x.Name
	}
	d.errorf(u.node, u.path, "unknown user %q; users of this file: %s; to name Entra users or groups, write operators: {users: [...], groups: [...]}", u.value, orNone(users))
	return false
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// subjectsWhere says where a subjects mapping is written, which decides
// the keys it may use.
type subjectsWhere int

const (
	atRequesters subjectsWhere = iota
	atTier
	atNotify
	atOperators
)

// namesNoOne is the hint when a subjects mapping names nobody.
func (w subjectsWhere) namesNoOne() string {
	switch w {
	case atRequesters:
		return "give users: [...], groups: [...] and/or pim_eligible: true"
	case atTier:
		return "give users: [...], groups: [...] and/or manager: 1"
	}
	return "give users: [...] and/or groups: [...]"
}

// subjects reads a subjects mapping, checking every entry: a name must be
// one of this file's users or groups (an unknown one is a typo), anything
// else an Entra object id or a user principal name.
func (d *decoder) subjects(n *yaml.Node, path string, dir *Policy, where subjectsWhere) Subjects {
	s, _, _ := d.subjectsAt(n, path, dir, where)
	return s
}

// subjectsAt is subjects also returning where each entry that names the
// file's own users and groups was written, for checks that must point at
// one entry. An Entra id or principal name that belongs to a user of the
// file stands for that user.
func (d *decoder) subjectsAt(n *yaml.Node, path string, dir *Policy, where subjectsWhere) (s Subjects, users, groups []name) {
	f, ok := d.mapping(n, path, subjectKeys...)
	if !ok {
		return Subjects{}, nil, nil
	}
	if v := f.get("users"); v != nil {
		for _, u := range d.names(v, field(path, "users"), "[bob, carol@example.com, 5f1c0e8a-0000-4000-8000-000000000001]") {
			listed, ref, ok := d.userEntry(u, dir)
			switch {
			case !ok:
			case listed != "":
				if i := slices.IndexFunc(users, func(x name) bool { return x.value == listed }); i >= 0 {
					d.errorf(u.node, u.path, "%q is user %q, already listed as %s; keep one", u.value, listed, users[i].path)
					continue
				}
				users = append(users, name{value: listed, node: u.node, path: u.path})
			default:
				s.UserIDs = append(s.UserIDs, ref)
			}
		}
	}
	if v := f.get("groups"); v != nil {
		for _, g := range d.names(v, field(path, "groups"), "[engineers, 5f1c0e8a-0000-4000-8000-000000000001]") {
			switch {
			case inGroups(dir.groupNames(), g.value):
				groups = append(groups, g)
			case guidPattern.MatchString(g.value):
				s.GroupIDs = append(s.GroupIDs, strings.ToLower(g.value))
			default:
				d.errorf(g.node, g.path, "unknown group %q; a group exists when some user lists it under groups; groups of this file: %s; or give an Entra group's object id (a GUID)", g.value, orNone(dir.groupNames()))
			}
		}
	}
	named := f.get("users") != nil || f.get("groups") != nil
	if v := f.get("manager"); v != nil {
		named = true
		if where != atTier {
			d.errorf(f.keys["manager"], field(path, "manager"), "is accepted only in an approval tier (approval.stages[].tiers[].approvers), where it asks the requester's manager; remove it here")
		} else {
			s.Manager = d.managerLevel(v, field(path, "manager"))
		}
	}
	if v := f.get("pim_eligible"); v != nil {
		if where != atRequesters {
			named = true
			d.errorf(f.keys["pim_eligible"], field(path, "pim_eligible"), "is accepted only under a role's requesters, where it lets anyone with a PIM eligibility for the role request it; remove it here")
		} else {
			s.Eligible = d.boolean(v, field(path, "pim_eligible"))
			named = named || s.Eligible || deref(v).Tag != "!!bool"
		}
	}
	if !named {
		d.errorf(f.node, path, "names no one; %s", where.namesNoOne())
	}
	s.Users, s.Groups = values(users), values(groups)
	return s, users, groups
}

// userEntry reads one entry of a users list: a user of this file by name,
// object id or principal name (listed), or an Entra user by object id
// (lower-cased) or principal name (as written) (ref).
func (d *decoder) userEntry(u name, dir *Policy) (listed, ref string, ok bool) {
	if x, found := dir.UserByName(u.value); found {
		return x.Name, "", true
	}
	switch {
	case guidPattern.MatchString(u.value):
		if x, found := dir.UserByID(u.value); found {
			return x.Name, "", true
		}
		return "", strings.ToLower(u.value), true
	case strings.Contains(u.value, "@"):
		if !upnPattern.MatchString(u.value) {
			d.errorf(u.node, u.path, "%q is not a user principal name; expected name@domain such as \"alice@example.com\"", u.value)
			return "", "", false
		}
		if x, found := dir.UserByUPN(u.value); found {
			return x.Name, "", true
		}
		return "", u.value, true
	}
	names := make([]string, len(dir.Users))
	for i, x := range dir.Users {
		names[i] = x.Name
	}
	d.errorf(u.node, u.path, "unknown user %q; users of this file: %s; or give an Entra user's object id (a GUID) or user principal name (name@domain)", u.value, orNone(names))
	return "", "", false
}

// managerLevel reads manager: 1 (the requester's manager) or 2 (the
// manager's manager).
func (d *decoder) managerLevel(n *yaml.Node, path string) int {
	n = deref(n)
	var level int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&level) != nil || level < 1 || level > MaxManagerLevel {
		d.errorf(n, path, "expected 1 (the requester's manager) or 2 (the manager's manager); got %s", describe(n))
		return 0
	}
	return level
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

const endNoticeHint = `give a duration such as "10m" or "PT10M", or false (or 0) for no notice`

// endNotice reads end_notice_before: how long before a grant ends its
// requester is told, or false (or 0) for never.
func (d *decoder) endNotice(n *yaml.Node, path string) time.Duration {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if d.boolean(n, path) {
			d.errorf(n, path, "true is not a lead time; %s", endNoticeHint)
		}
		return 0
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "must be a single value; got %s; %s", describe(n), endNoticeHint)
		return 0
	}
	v, err := durations.Parse(n.Value)
	if err != nil {
		d.errorf(n, path, "%v; or false (or 0) for no notice", err)
		return 0
	}
	return v
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

// namesEntra reports whether some tier names approvers through Entra.
func namesEntra(tiers []Tier) bool {
	return slices.ContainsFunc(tiers, func(t Tier) bool { return t.Approvers.Entra() })
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
