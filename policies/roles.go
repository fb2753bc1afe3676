package policies

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/jitflow/jitflow/durations"
)

const (
	maxDescriptionLen = 1000
	maxStageNameLen   = 64
	roleNameRule      = "lower-case letters, digits, '_' and '-', starting with a letter"
)

func (d *decoder) roles(n *yaml.Node, path string, dir *Policy) []Role {
	items, ok := d.list(n, path, "[{name: reader, ...}]")
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errorf(deref(n), path, "is empty; list at least one role")
	}
	names := seen{}
	var out []Role
	for i, item := range items {
		p := index(path, i)
		r, f, ok := d.role(item, p, dir)
		if !ok {
			continue
		}
		names.check(d, f.get("name"), field(p, "name"), "role name", r.Name)
		out = append(out, r)
	}
	return out
}

func (d *decoder) role(n *yaml.Node, path string, dir *Policy) (Role, fields, bool) {
	f, ok := d.mapping(n, path, roleKeys...)
	if !ok {
		return Role{}, f, false
	}
	var r Role
	if v := d.need(f, "name", `give a name such as "reader"`); v != nil {
		r.Name = d.label(v, field(path, "name"), rolePattern, roleNameRule)
	}
	if v := f.get("description"); v != nil {
		r.Description = d.description(v, field(path, "description"))
	}
	d.target(f, path, &r)
	if v := f.get("require_eligibility"); v != nil {
		r.RequireEligibility = d.boolean(v, field(path, "require_eligibility"))
	}
	if v := d.need(f, "requesters", "say who may request it: {users: [...], groups: [...]} or {pim_eligible: true}"); v != nil {
		r.Requesters = d.subjects(v, field(path, "requesters"), dir, atRequesters)
	}
	if v := d.need(f, "duration", `give {min: "10s", max: "8h", default: "1h"}`); v != nil {
		d.durations(v, field(path, "duration"), &r)
	}
	if v := f.get("require_justification"); v != nil {
		r.RequireJustification = d.boolean(v, field(path, "require_justification"))
	}
	if v := f.get("require_ticket"); v != nil {
		r.RequireTicket = d.boolean(v, field(path, "require_ticket"))
	}
	if v := f.get("approver_sign_in"); v != nil {
		r.ApproverSignIn = d.boolean(v, field(path, "approver_sign_in"))
	}
	if v := f.get("break_glass"); v != nil {
		r.BreakGlass = d.boolean(v, field(path, "break_glass"))
	}
	d.limits(f, path, &r)
	d.stepUp(f, path, &r)
	if v := f.get("conditions"); v != nil {
		r.Conditions = d.rules(v, field(path, "conditions"), true)
	}
	if v := f.get("auto_approve"); v != nil {
		r.AutoApprove = d.rules(v, field(path, "auto_approve"), false)
		if r.BreakGlass {
			d.errorf(f.keys["auto_approve"], field(path, "auto_approve"), "a break-glass role activates without approval already; remove auto_approve")
		}
	}
	r.ExtendMax = r.MaxDuration
	if v := f.get("extension"); v != nil {
		d.extension(v, field(path, "extension"), &r)
	}
	r.EndNoticeBefore = DefaultEndNoticeBefore
	if v := f.get("end_notice_before"); v != nil {
		r.EndNoticeBefore = d.endNotice(v, field(path, "end_notice_before"))
	}
	if r.BreakGlass {
		d.breakGlass(f, path, dir, &r)
	} else {
		d.approval(f, path, dir, &r)
	}
	return r, f, true
}

func (d *decoder) description(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if ok && len(s) > maxDescriptionLen {
		d.errorf(deref(n), path, "is %d bytes long; at most %d are accepted", len(s), maxDescriptionLen)
		return ""
	}
	return s
}

// target reads what the role grants: role_definition_id (with an optional
// directory_scope_id), or group: {id, access} for PIM for Groups; one of
// the two, never both.
func (d *decoder) target(f fields, path string, r *Role) {
	g := f.get("group")
	if g == nil {
		if v := d.need(f, "role_definition_id", "give the Entra role definition (template) id, a GUID, or group: {id: <group object id>, access: member} for PIM for Groups"); v != nil {
			r.RoleDefinitionID = d.guid(v, field(path, "role_definition_id"))
		}
		r.DirectoryScopeID = "/"
		if v := f.get("directory_scope_id"); v != nil {
			r.DirectoryScopeID = d.scope(v, field(path, "directory_scope_id"))
		}
		return
	}
	for _, k := range []string{"role_definition_id", "directory_scope_id"} {
		if key := f.keys[k]; key != nil {
			d.errorf(key, field(path, k), "a role grants either a directory role (role_definition_id, directory_scope_id) or a group (group); remove %s or group", k)
		}
	}
	gp := field(path, "group")
	gf, ok := d.mapping(g, gp, groupKeys...)
	if !ok {
		return
	}
	if v := d.need(gf, "id", "give the group's Entra object id, a GUID"); v != nil {
		r.GroupID = d.guid(v, field(gp, "id"))
	}
	r.GroupAccess = GroupMember
	if v := gf.get("access"); v != nil {
		if s, ok := d.str(v, field(gp, "access")); ok {
			if s != GroupMember && s != GroupOwner {
				d.errorf(deref(v), field(gp, "access"), "%q is not accepted; use %q or %q", s, GroupMember, GroupOwner)
			}
			r.GroupAccess = s
		}
	}
}

// scope reads a directory scope: "/" for the tenant,
// "/administrativeUnits/<id>" for an administrative unit, or "/<id>" for a
// single directory object (an application, say).
func (d *decoder) scope(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return "/"
	}
	rest, au := strings.CutPrefix(s, "/administrativeUnits/")
	if !au {
		rest = strings.TrimPrefix(s, "/")
	}
	if s == "/" || (strings.HasPrefix(s, "/") && guidPattern.MatchString(rest)) {
		return strings.ToLower(s[:len(s)-len(rest)]) + strings.ToLower(rest)
	}
	d.errorf(deref(n), path, "%q is not a directory scope; accepted: \"/\" (the whole tenant), \"/administrativeUnits/<GUID>\" (an administrative unit) or \"/<GUID>\" (one directory object)", s)
	return "/"
}

// extension reads {without_approval_up_to, max}: how long an extension may
// be, and up to how long it needs no approval.
func (d *decoder) extension(n *yaml.Node, path string, r *Role) {
	f, ok := d.mapping(n, path, extendKeys...)
	if !ok {
		return
	}
	if v := f.get("max"); v != nil {
		if m, ok := d.duration(v, field(path, "max")); ok {
			if m <= 0 {
				d.errorf(deref(v), field(path, "max"), "must be more than zero")
			} else {
				r.ExtendMax = m
			}
		}
	}
	if v := f.get("without_approval_up_to"); v != nil {
		if w, ok := d.duration(v, field(path, "without_approval_up_to")); ok {
			if w < 0 || (r.ExtendMax > 0 && w > r.ExtendMax) {
				d.errorf(deref(v), field(path, "without_approval_up_to"), "%s is outside 0..max; accepted: 0 (every extension is approved) to %s", durations.Format(w), durations.Format(r.ExtendMax))
				return
			}
			r.ExtendWithoutApprovalUpTo = w
		}
	}
}

// breakGlass checks a role that activates at once: nobody approves, so
// someone must be told.
func (d *decoder) breakGlass(f fields, path string, dir *Policy, r *Role) {
	if k := f.keys["approval"]; k != nil {
		d.errorf(k, field(path, "approval"), "a break-glass role activates without approval; remove approval, or set break_glass: false")
	}
	v := d.need(f, "notify", "a break-glass role must tell someone: give notify: {users: [...], groups: [...]}")
	if v != nil {
		r.Notify = d.subjects(v, field(path, "notify"), dir, atNotify)
	}
}

// approval checks a role that needs approval: at least one stage, and no notify list.
func (d *decoder) approval(f fields, path string, dir *Policy, r *Role) {
	if k := f.keys["notify"]; k != nil {
		d.errorf(k, field(path, "notify"), "only break-glass roles notify instead of asking approval; remove notify, or set break_glass: true")
	}
	v := d.need(f, "approval", "give approval: {stages: [...]}, or set break_glass: true")
	if v == nil {
		return
	}
	path = field(path, "approval")
	af, ok := d.mapping(v, path, approvalKeys...)
	if !ok {
		return
	}
	if rv := af.get("remind_before"); rv != nil {
		r.Remind = d.reminder(rv, field(path, "remind_before"))
	}
	sv := d.need(af, "stages", "list at least one stage")
	if sv == nil {
		return
	}
	items, ok := d.list(sv, field(path, "stages"), "[{name: lead, approvals: 1, tiers: [...]}]")
	if ok && len(items) == 0 {
		d.errorf(deref(sv), field(path, "stages"), "is empty; list at least one stage, or set break_glass: true")
	}
	names := seen{}
	var placed []stageRefs
	for i, item := range items {
		p := index(field(path, "stages"), i)
		s, sf, refs, ok := d.stage(item, p, i, dir)
		if !ok {
			continue
		}
		names.check(d, sf.get("name"), field(p, "name"), "stage name", s.Name)
		r.Stages = append(r.Stages, s)
		placed = append(placed, stageRefs{name: s.Name, path: p, refs: refs})
	}
	d.sharedApprovers(placed)
}

// stage decodes one approval stage, with where its approvers were written.
// Its name defaults to "stage N"; it needs one approval unless it says more,
// and never more than it has approvers.
func (d *decoder) stage(n *yaml.Node, path string, i int, dir *Policy) (Stage, fields, []approverRef, bool) {
	f, ok := d.mapping(n, path, stageKeys...)
	if !ok {
		return Stage{}, f, nil, false
	}
	s := Stage{Name: "stage " + strconv.Itoa(i+1), Approvals: 1}
	if v := f.get("name"); v != nil {
		s.Name = d.text(v, field(path, "name"), maxStageNameLen)
	}
	approvalsOK := true
	if v := f.get("approvals"); v != nil {
		s.Approvals, approvalsOK = d.integer(v, field(path, "approvals"))
		if approvalsOK && s.Approvals < 1 {
			d.errorf(deref(v), field(path, "approvals"), "is %d; a stage needs at least 1 approval", s.Approvals)
			approvalsOK = false
		}
	}
	v := d.need(f, "tiers", "list at least one tier: [{approvers: {users: [bob]}, timeout: 20s}]")
	if v == nil {
		return s, f, nil, true
	}
	items, ok := d.list(v, field(path, "tiers"), "[{approvers: {users: [bob]}, timeout: 20s}]")
	if ok && len(items) == 0 {
		d.errorf(deref(v), field(path, "tiers"), "is empty; list at least one tier")
	}
	before := len(d.errs)
	var refs []approverRef
	for j, item := range items {
		if t, tierRefs, ok := d.tier(item, index(field(path, "tiers"), j), dir); ok {
			s.Tiers = append(s.Tiers, t)
			refs = append(refs, tierRefs...)
		}
	}
	// A tier with a bad name already has its error; counting what is left
	// would only repeat it. A stage naming Entra groups, users or managers
	// has as many people as the directory gives it when it starts, so only
	// the workflow can count them.
	if people := distinctNames(dir, s.Tiers); approvalsOK && len(d.errs) == before && len(items) > 0 && !namesEntra(s.Tiers) && s.Approvals > len(people) {
		at := f.get("approvals")
		if at == nil {
			at = f.node
		}
		d.errorf(deref(at), field(path, "approvals"), "needs %s but its tiers name only %s (%s); lower approvals or add approvers",
			plural(s.Approvals, "approval", "approvals"), plural(len(people), "distinct approver", "distinct approvers"), orNone(people))
	}
	return s, f, refs, true
}

// tier decodes one escalation step, with where its approvers were written.
// When the last tier of a stage times out the request ends timed_out.
func (d *decoder) tier(n *yaml.Node, path string, dir *Policy) (Tier, []approverRef, bool) {
	f, ok := d.mapping(n, path, tierKeys...)
	if !ok {
		return Tier{}, nil, false
	}
	var t Tier
	var refs []approverRef
	if v := d.need(f, "approvers", "say who approves: {users: [...], groups: [...], manager: 1}"); v != nil {
		var users, groups []name
		t.Approvers, users, groups = d.subjectsAt(v, field(path, "approvers"), dir, atTier)
		refs = approverRefs(dir, users, groups)
	}
	if v := d.need(f, "timeout", `give how long this tier waits, such as "20s" or "PT10M"`); v != nil {
		timeout, ok := d.duration(v, field(path, "timeout"))
		if ok && timeout <= 0 {
			d.errorf(deref(v), field(path, "timeout"), "must be more than zero")
		}
		t.Timeout = timeout
	}
	return t, refs, true
}
