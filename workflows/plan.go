package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
)

// maxTextLen bounds free text (comments, revoke reasons) kept in history.
const maxTextLen = 2000

// ApproverIDs lists the object ids of every approver the plan lists in
// every tier of every stage, each once, in plan order. It is what
// SearchApproverIDs holds at the start, so an approver can find every
// request they may be asked to decide; the workflow adds the approvers it
// reads from the directory when their stage starts.
func (in AccessRequestInput) ApproverIDs() []string {
	ids := []string{}
	seen := map[string]bool{}
	for _, st := range in.Stages {
		for _, t := range st.Tiers {
			for _, p := range t.Approvers {
				if !seen[p.ID] {
					seen[p.ID] = true
					ids = append(ids, p.ID)
				}
			}
		}
	}
	return ids
}

// SearchAttributes are the search attribute values of a request in the
// given status. The starter passes them at start
// (temporal.NewSearchAttributes(SearchAttributes(in, NewRequest(in).Status)...))
// and the workflow upserts them on every status change.
func SearchAttributes(in AccessRequestInput, status Status) []temporal.SearchAttributeUpdate {
	return searchAttributes(in, status, in.ApproverIDs())
}

// searchAttributes are the search attribute values of a request whose
// approvers so far are approverIDs: the plan's, and once a stage read
// them from the directory, those too.
func searchAttributes(in AccessRequestInput, status Status, approverIDs []string) []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{
		SearchStatus.ValueSet(string(status)),
		SearchRole.ValueSet(in.Target.Role),
		SearchRequesterID.ValueSet(in.Requester.ID),
		SearchApproverIDs.ValueSet(approverIDs),
	}
}

// Validate checks that the plan can run: the starter should call it before
// starting a workflow, and the workflow fails a request whose plan does not
// pass rather than wait on approvals that can never come.
func (in AccessRequestInput) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if in.RequestID == "" {
		add("request_id is required")
	}
	if in.Requester.ID == "" {
		add("requester.id (the Entra object id) is required")
	}
	t := in.Target
	switch {
	case t.GroupID != "" && (t.RoleDefinitionID != "" || t.DirectoryScopeID != ""):
		add("target is either a directory role (role_definition_id, directory_scope_id) or a group (group_id, access_id), not both")
	case t.GroupID != "" && t.AccessID != graph.AccessMember && t.AccessID != graph.AccessOwner:
		add("target.access_id must be %q or %q for a group, got %q", graph.AccessMember, graph.AccessOwner, t.AccessID)
	case t.GroupID == "" && t.RoleDefinitionID == "":
		add("target.role_definition_id (or target.group_id) is required")
	case t.GroupID == "" && t.DirectoryScopeID == "":
		add(`target.directory_scope_id is required ("/" for the whole directory)`)
	}
	if in.Duration <= 0 {
		add("duration must be positive, got %s", in.Duration)
	}
	if in.EndNoticeBefore < 0 {
		add("end_notice_before must be 0 (no notice) or positive, got %s", in.EndNoticeBefore)
	}
	switch {
	case in.BreakGlass && len(in.Stages) > 0:
		add("stages must be empty for a break-glass request, got %d", len(in.Stages))
	case !in.BreakGlass && len(in.Stages) == 0:
		add("stages must hold at least one approval stage unless break_glass is set")
	}
	if a := in.AutoApproval; a != nil && (a.Rule == "" || in.BreakGlass) {
		add("auto_approval needs a rule name and a request that is not break-glass")
	}
	for i, st := range in.Stages {
		errs = append(errs, st.validate(i, in.Requester.ID)...)
	}
	return errors.Join(errs...)
}

// validate checks one stage; i is its 0-based index, for messages.
func (st Stage) validate(i int, requesterID string) []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("stages[%d]"+format, append([]any{i}, args...)...))
	}
	if len(st.Tiers) == 0 {
		add(".tiers must hold at least one tier")
	}
	if st.Approvals < 1 {
		add(".approvals must be at least 1, got %d", st.Approvals)
	}
	eligible := map[string]bool{}
	directory := false
	for j, t := range st.Tiers {
		if t.Timeout <= 0 {
			add(".tiers[%d].timeout must be positive, got %s", j, t.Timeout)
		}
		if t.RemindBefore < 0 || t.Timeout > 0 && t.RemindBefore >= t.Timeout {
			add(".tiers[%d].remind_before must be 0 (no reminder) or less than the tier's timeout %s, got %s", j, t.Timeout, t.RemindBefore)
		}
		refs := t.Directory != nil && !t.Directory.Empty()
		if refs {
			directory = true
			errs = append(errs, validateRefs(*t.Directory, fmt.Sprintf("stages[%d].tiers[%d].directory", i, j))...)
		}
		if len(t.Approvers) == 0 && !refs {
			add(".tiers[%d].approvers must name at least one approver, or directory the groups or manager level that do", j)
		}
		for k, p := range t.Approvers {
			if p.ID == "" {
				add(".tiers[%d].approvers[%d].id (the Entra object id) is required", j, k)
			}
			if p.ID != requesterID {
				eligible[p.ID] = true
			}
		}
	}
	// A stage that reads approvers from the directory is counted when it
	// starts: the directory may name more people then than it does now.
	if st.Approvals > 0 && len(st.Tiers) > 0 && !directory && st.Approvals > len(eligible) {
		add(".approvals is %d but only %d distinct approvers other than the requester are listed", st.Approvals, len(eligible))
	}
	return errs
}

// guidPattern is an Entra object id.
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validateRefs checks a tier's directory references; at names them in
// messages.
func validateRefs(refs policies.ApproverRefs, at string) []error {
	var errs []error
	if refs.Manager < 0 || refs.Manager > policies.MaxManagerLevel {
		errs = append(errs, fmt.Errorf("%s.manager must be 0 (none) to %d (1 the requester's manager, 2 the manager's manager), got %d",
			at, policies.MaxManagerLevel, refs.Manager))
	}
	for k, g := range refs.GroupIDs {
		if !guidPattern.MatchString(g) {
			errs = append(errs, fmt.Errorf("%s.group_ids[%d] must be an Entra group object id (a GUID such as 0b6c2f4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f), got %q", at, k, g))
		}
	}
	return errs
}

// totalTimeout is how long the stage waits at most: its tiers one after
// another.
func (st Stage) totalTimeout() time.Duration {
	var total time.Duration
	for _, t := range st.Tiers {
		total += t.Timeout
	}
	return total
}

// reached lists the approvers of tiers 0..tier of a stage, each once, in
// plan order.
func (st Stage) reached(tier int) []Person {
	var out []Person
	seen := map[string]bool{}
	for _, t := range st.Tiers[:tier+1] {
		for _, p := range t.Approvers {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// tierOf is the 0-based index of the first tier of the stage that lists id,
// or -1.
func (st Stage) tierOf(id string) int {
	for j, t := range st.Tiers {
		for _, p := range t.Approvers {
			if p.ID == id {
				return j
			}
		}
	}
	return -1
}

// person finds someone named anywhere in the plan by object id.
func (in AccessRequestInput) person(id string) (Person, bool) {
	if in.Requester.ID == id {
		return in.Requester, true
	}
	for _, st := range in.Stages {
		for _, t := range st.Tiers {
			for _, p := range t.Approvers {
				if p.ID == id {
					return p, true
				}
			}
		}
	}
	return Person{}, false
}
