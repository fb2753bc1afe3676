package policies

import (
	"fmt"
	"slices"
	"strings"
)

// approverRef is one user or group name under a tier's approvers: where it
// was written and the people it stands for.
type approverRef struct {
	at     name
	group  bool
	people []User
}

// stageRefs is a stage's approver entries across all its tiers.
type stageRefs struct {
	name string // the stage's name; empty when it was refused
	path string // e.g. "roles[0].approval.stages[1]"
	refs []approverRef
}

// approverRefs expands a tier's approver names through the directory.
func approverRefs(dir *Policy, users, groups []name) []approverRef {
	var out []approverRef
	for _, u := range users {
		if person, ok := dir.UserByName(u.value); ok {
			out = append(out, approverRef{at: u, people: []User{person}})
		}
	}
	for _, g := range groups {
		out = append(out, approverRef{at: g, group: true, people: dir.members(g.value)})
	}
	return out
}

// sharedApprovers refuses a person who may approve two stages of one role.
// The workflow lets each person decide at most once per request, so once
// they decide the earlier stage, the later one loses them and may be left
// with no one who can decide: the request could then only time out. Tiers
// of one stage may share people; within a stage one decision is all anyone
// gives anyway. Each person is reported once per later stage, at the first
// entry that names them there.
func (d *decoder) sharedApprovers(stages []stageRefs) {
	for i, later := range stages {
		var reported []User
		for _, ref := range later.refs {
			for _, u := range ref.people {
				if slices.ContainsFunc(reported, func(x User) bool { return samePerson(x, u) }) {
					continue
				}
				if earlier, first, ok := firstStageWith(stages[:i], u); ok {
					d.errorf(ref.at.node, ref.at.path, "%s also approves stage %s (%s); each person decides at most once per request, so stage %s could be left without approvers; use different people per stage",
						whoIn(ref, u), stageLabel(earlier), first.at.path, stageLabel(later))
					reported = append(reported, u)
				}
			}
		}
	}
}

// firstStageWith finds the first stage, and its first entry, naming u.
func firstStageWith(stages []stageRefs, u User) (stageRefs, approverRef, bool) {
	for _, s := range stages {
		for _, ref := range s.refs {
			if slices.ContainsFunc(ref.people, func(x User) bool { return samePerson(x, u) }) {
				return s, ref, true
			}
		}
	}
	return stageRefs{}, approverRef{}, false
}

// samePerson compares by object id, or by name when an id was refused
// (both are unique in a valid directory).
func samePerson(a, b User) bool {
	return (a.ID != "" && strings.EqualFold(a.ID, b.ID)) || (a.Name != "" && a.Name == b.Name)
}

// whoIn names the person, and the group that brought them in.
func whoIn(ref approverRef, u User) string {
	if ref.group {
		return fmt.Sprintf("user %q (member of group %q)", u.Name, ref.at.value)
	}
	return fmt.Sprintf("user %q", u.Name)
}

func stageLabel(s stageRefs) string {
	if s.name == "" {
		return s.path
	}
	return fmt.Sprintf("%q", s.name)
}
