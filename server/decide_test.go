package server

import (
	"net/http"
	"testing"
	"time"

	"github.com/jitflow/jitflow/policies"
)

// dropBob takes bob out of every tier of the reader role, as a policy
// reload after the request was made would: the request's plan still
// names him.
func dropBob(p *policies.Policy) {
	role, _ := p.Role("reader")
	role.Stages = []policies.Stage{{Name: "team-lead", Approvals: 1, Tiers: []policies.Tier{
		{Approvers: policies.Subjects{Users: []string{"carol"}}, Timeout: time.Minute},
	}}}
}

// An approver removed from the policy since the request was made may no
// longer decide it, by any way a decision reaches a request: the API
// (for the request or its extension) and the approval link (its page and
// its form). Nothing reaches the workflow.
func TestRemovedApproverMayNotDecide(t *testing.T) {
	const why = "bob@example.com is not an approver of role reader under the current policy"
	e := newPageEnv(t, nil)
	pending := e.create("alice", readerBody)
	extended := e.extended(readerBody, nil)
	dropBob(e.policy)

	t.Run("API", func(t *testing.T) {
		for _, id := range []string{pending, extended} {
			for _, action := range []string{"approve", "deny"} {
				r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/"+action, "bob", "")
				wantStatus(t, r, http.StatusForbidden)
				p := r.problem(t)
				wantContains(t, "problem detail", p.Detail, "you may not decide request "+id+" now: "+why)
			}
		}
	})
	t.Run("link", func(t *testing.T) {
		for _, link := range []string{e.link(pending, bobID, 1, time.Hour), e.extensionLink(extended, bobID, 1, 1, time.Hour)} {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				wantPage(t, e.page(nil, method, link, approveForm("")), http.StatusForbidden, "You are no longer an approver", "The current policy no longer lets bob@example.com decide: "+why)
			}
		}
	})
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("%d decisions reached the workflow", n)
	}
}

// The same holds for an approver gone from the directory, and for every
// request of a role gone from the policy.
func TestDecisionsRefusedByTheLivePolicy(t *testing.T) {
	tests := []struct {
		name   string
		change func(*policies.Policy)
		why    string
	}{
		{"approver left the directory", func(p *policies.Policy) {
			var users []policies.User
			for _, u := range p.Users {
				if u.ID != bobID {
					users = append(users, u)
				}
			}
			p.Users = users
		}, bobID + " is no longer in the policy directory"},
		{"role left the policy", func(p *policies.Policy) {
			role, _ := p.Role("reader")
			role.Name = "reader-retired"
		}, "role reader is no longer in the policy, so nobody may decide its requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPageEnv(t, nil)
			id := e.create("alice", readerBody)
			link, bob := e.link(id, bobID, 1, time.Hour), e.token("bob")
			tc.change(e.policy)
			r := e.callToken(http.MethodPost, "/api/v1/requests/"+id+"/approve", bob, "")
			wantStatus(t, r, http.StatusForbidden)
			wantContains(t, "problem detail", r.problem(t).Detail, tc.why)
			wantPage(t, e.page(nil, http.MethodPost, link, approveForm("")), http.StatusForbidden, tc.why)
			if n := len(e.temporal.updates); n != 0 {
				t.Fatalf("%d decisions reached the workflow", n)
			}
		})
	}
}
