package workflows_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// Entra groups of the tests.
const (
	groupLeads = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a41"
	groupEmpty = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a42"
)

// directoryInput is the reader role with its approvers in Entra: tier 1 is
// the leads group, tier 2 carol and the requester's manager's manager.
func directoryInput() workflows.AccessRequestInput {
	in := readerInput()
	in.Stages = []workflows.Stage{{
		Name:      "team lead",
		Approvals: 1,
		Tiers: []workflows.Tier{
			{Timeout: 20 * time.Second, Directory: &policies.ApproverRefs{GroupIDs: []string{groupLeads}}},
			{Approvers: []workflows.Person{carol}, Timeout: 60 * time.Second, Directory: &policies.ApproverRefs{Manager: 2}},
		},
	}}
	return in
}

func recipient(p workflows.Person) activities.Recipient {
	return activities.Recipient{ID: p.ID, UPN: p.UPN, Email: p.Email}
}

// entra answers ResolveApprovers as a directory whose leads group holds
// members (alice, the requester, among them: the workflow must leave her
// out even if the activity did not), whose empty group has none, and in
// which alice's manager's manager is erin.
func entra(members ...workflows.Person) func(int, activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
	return func(_ int, in activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
		var res activities.ResolveApproversResult
		for _, refs := range in.Tiers {
			tier := []activities.Recipient{}
			for _, g := range refs.GroupIDs {
				if g == groupLeads && len(members) > 0 {
					for _, p := range members {
						tier = append(tier, recipient(p))
					}
					continue
				}
				res.Problems = append(res.Problems, fmt.Sprintf("group %s has no members", g))
			}
			if refs.Manager == 2 {
				tier = append(tier, recipient(erin))
			}
			res.Tiers = append(res.Tiers, tier)
		}
		return res, nil
	}
}

func upnsOf(approvers []workflows.Approver) []string {
	var out []string
	for _, a := range approvers {
		out = append(out, a.Approver)
	}
	return out
}

// A stage's approvers are read from the directory when it starts: the
// group's members are asked and may decide, nobody else may, and the
// search attribute lets each of them find the request.
func TestDirectoryApproversDecide(t *testing.T) {
	h := newHarness(t, directoryInput())
	h.resolve = entra(bob, dave, alice)
	view := h.queryAt(2 * time.Second)
	outsider := h.decideAt(3*time.Second, mallory, approve, "")
	tooEarly := h.decideAt(4*time.Second, erin, approve, "")
	requester := h.decideAt(4*time.Second, alice, approve, "")
	approved := h.decideAt(5*time.Second, dave, approve, "ok")
	revoked := h.revokeAt(10*time.Minute, bob, false)
	r := h.run()

	require.Equal(t, []activities.ResolveApproversInput{{
		RequestID: "req-reader", RequesterID: alice.ID, Stage: "team lead", StageNumber: 1,
		Tiers: []policies.ApproverRefs{{GroupIDs: []string{groupLeads}}, {Manager: 2}},
	}}, h.resolves)
	require.Equal(t, []string{bob.UPN, dave.UPN}, upnsOf(view.Approvers))
	asked := h.emailsOf(activities.MailApprovalNeeded)
	require.Len(t, asked, 1)
	require.Equal(t, []string{bob.UPN, dave.UPN}, recipientsOf(asked[0]))

	rejected(t, outsider, workflows.ErrForbidden, "oid-mallory is not an approver of request req-reader")
	rejected(t, tooEarly, workflows.ErrForbidden, "erin@example.com is an approver of tier 2 of stage 1, which is reached only by escalation")
	rejected(t, requester, workflows.ErrForbidden, "requested this access")
	accepted(t, approved)
	require.Equal(t, api.StatusRevoked, accepted(t, revoked).Status, "a resolved approver may revoke")
	require.Equal(t, api.StatusRevoked, r.Status)
	require.Len(t, r.Decisions, 1)
	require.Equal(t, workflows.Decision{Approver: dave.UPN, ApproverID: dave.ID, Decision: approve, Comment: "ok",
		Time: t0.Add(5 * time.Second), Stage: 1}, r.Decisions[0])

	// The plan's own approver first, then everyone the directory named,
	// from the upsert after resolution to the last status change.
	want := []string{carol.ID, bob.ID, dave.ID, erin.ID}
	require.Equal(t, []string{carol.ID}, h.approverIDs[0], "the start knows the plan's approvers only")
	require.Equal(t, want, h.approverIDs[1])
	require.Equal(t, want, h.approverIDs[len(h.approverIDs)-1])
}

// The second tier adds the plan's approver and the requester's manager's
// manager, read when the stage started; escalation asks both.
func TestDirectoryApproversManagerLevelTwo(t *testing.T) {
	h := newHarness(t, directoryInput())
	h.resolve = entra(bob)
	view := h.queryAt(25 * time.Second)
	approved := h.decideAt(30*time.Second, erin, approve, "")
	r := h.run()

	accepted(t, approved)
	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, []string{bob.UPN, carol.UPN, erin.UPN}, upnsOf(view.Approvers))
	escalated := h.emailsOf(activities.MailEscalated)
	require.Len(t, escalated, 1)
	require.Equal(t, []string{carol.UPN, erin.UPN}, recipientsOf(escalated[0]))
	events := h.audit.ofType(api.EventEscalated)
	require.Len(t, events, 1)
	require.Contains(t, events[0].Detail, "tier 2 (carol@example.com, erin@example.com) may decide now")
	require.Len(t, h.resolves, 1, "the stage is resolved once, when it starts")
}

// An extension's round reads the directory again: someone who left the
// group since the request was approved cannot decide the extension.
func TestDirectoryApproversExtensionReResolves(t *testing.T) {
	h := newHarness(t, directoryInput())
	leads := entra(bob, dave)
	h.resolve = func(n int, in activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
		if n > 1 {
			return entra(bob)(n, in) // dave left the group
		}
		return leads(n, in)
	}
	h.decideAt(5*time.Second, dave, approve, "")
	extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	view := h.queryAt(10*time.Minute + 2*time.Second)
	left := h.decideAt(10*time.Minute+3*time.Second, dave, approve, "")
	approved := h.decideAt(10*time.Minute+4*time.Second, bob, approve, "")
	r := h.run()

	require.Len(t, h.resolves, 2)
	require.Equal(t, 1, h.resolves[1].Extension)
	require.Equal(t, 1, h.resolves[1].StageNumber)
	require.Equal(t, []time.Duration{0, 10 * time.Minute}, h.resolvedAt)
	require.NotNil(t, view.Extension)
	require.Equal(t, []string{bob.UPN}, upnsOf(view.Extension.Approvers))
	rejected(t, left, workflows.ErrForbidden, "dave@example.com is not an approver of extension 1 of request req-reader")
	accepted(t, approved)
	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, 1, r.Extensions)
}

// requireFailedLoudly checks that the request ended failed for reason at
// once, with the requester told and nobody asked to decide.
func requireFailedLoudly(t *testing.T, h *harness, r workflows.Request, reason string) {
	t.Helper()
	require.Equal(t, api.StatusFailed, r.Status)
	require.Equal(t, reason, r.Reason)
	require.Empty(t, r.Approvers)
	require.Nil(t, r.EscalatesAt)
	require.Empty(t, h.activations)
	require.Empty(t, h.emailsOf(activities.MailApprovalNeeded))
	told := h.emailsOf(activities.MailFailed)
	require.Len(t, told, 1)
	require.Equal(t, []string{alice.UPN}, recipientsOf(told[0]))
	require.Equal(t, reason, told[0].Request.Reason)
	failed := h.audit.ofType(api.EventFailed)
	require.Len(t, failed, 1)
	require.Equal(t, reason, failed[0].Detail)
	require.Len(t, h.logs.matching("level=ERROR", "a stage has nobody to ask", "request_id=req-reader"), 1, "operators are told")
}

// A stage whose directory references name nobody fails the request at
// once, saying what the directory could not name.
func TestDirectoryNobodyToAsk(t *testing.T) {
	in := directoryInput()
	in.Stages[0].Tiers = []workflows.Tier{{Timeout: time.Hour, Directory: &policies.ApproverRefs{GroupIDs: []string{groupEmpty}, Manager: 1}}}
	h := newHarness(t, in)
	h.resolve = func(int, activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
		return activities.ResolveApproversResult{Tiers: [][]activities.Recipient{{}},
			Problems: []string{"group " + groupEmpty + " has no members", "requester oid-alice has no manager in the directory"}}, nil
	}
	r := h.run()

	requireFailedLoudly(t, h, r, "stage 1 (team lead) has nobody to ask: group "+groupEmpty+
		" has no members; requester oid-alice has no manager in the directory")
	require.Equal(t, t0, *r.EndedAt, "failed at once, not when the stage would have timed out")
}

// A stage that needs more approvals than the directory names people fails
// the same way, even when the directory had no problem to report.
func TestDirectoryTooFewToAsk(t *testing.T) {
	in := directoryInput()
	in.Stages[0].Approvals = 4
	h := newHarness(t, in)
	h.resolve = entra(bob, alice)
	r := h.run()

	// bob from the group, carol from the plan, erin as manager's manager.
	requireFailedLoudly(t, h, r, "stage 1 (team lead) has too few people to ask (3 besides the requester for 4 approvals): the directory names no one else")
}

// A directory that keeps failing is retried until the stage's wait for it
// runs out; then the request fails, never waiting on an empty list.
func TestDirectoryFailingUntilTheWaitRunsOut(t *testing.T) {
	h := newHarness(t, directoryInput())
	h.resolve = func(int, activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
		return activities.ResolveApproversResult{}, errors.New("read the members of group " + groupLeads + ": graph: 503 Service Unavailable")
	}
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	require.True(t, strings.HasPrefix(r.Reason, "stage 1 (team lead) has nobody to ask: the directory could not say who approves it: "), r.Reason)
	require.Contains(t, r.Reason, "503 Service Unavailable")
	require.Greater(t, len(h.resolves), 3, "retried")
	last := h.resolvedAt[len(h.resolvedAt)-1]
	require.Less(t, last, 80*time.Second, "no attempt after the stage's 80s")
	require.Equal(t, []time.Duration{0, time.Second, 3 * time.Second}, h.resolvedAt[:3], "backoff from 1s, doubling")
	require.Len(t, h.emailsOf(activities.MailFailed), 1)
}

// A worker without a Graph directory cannot resolve; that is said at once,
// not retried.
func TestDirectoryMissingOnTheWorker(t *testing.T) {
	h := newHarness(t, directoryInput())
	r := h.run()

	require.Len(t, h.resolves, 1)
	require.Equal(t, api.StatusFailed, r.Status)
	require.Contains(t, r.Reason, "stage 1 (team lead) has nobody to ask")
	require.Contains(t, r.Reason, "this worker has no Graph directory configured")
}

// groupGoneForExtensions is a request whose one-tier stage names the leads
// group: bob is in it when the request is decided, and the group is gone
// when any extension's stage starts.
func groupGoneForExtensions(t *testing.T) *harness {
	t.Helper()
	in := directoryInput()
	in.Stages[0].Tiers = in.Stages[0].Tiers[:1]
	h := newHarness(t, in)
	leads := entra(bob)
	h.resolve = func(n int, in activities.ResolveApproversInput) (activities.ResolveApproversResult, error) {
		if n > 1 {
			return activities.ResolveApproversResult{Tiers: [][]activities.Recipient{{}},
				Problems: []string{"group " + groupLeads + " does not exist in the directory"}}, nil
		}
		return leads(n, in)
	}
	return h
}

// An extension whose stage has nobody to ask is refused the same loud
// way; the grant runs on to its end.
func TestDirectoryNobodyToAskForAnExtension(t *testing.T) {
	h := groupGoneForExtensions(t)
	h.decideAt(5*time.Second, bob, approve, "")
	ask := extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	r := h.run()

	accepted(t, ask)
	require.Equal(t, api.StatusExpired, r.Status)
	require.Zero(t, r.Extensions)
	require.Equal(t, t0.Add(5*time.Second+time.Hour), *r.ExpiresAt, "the grant keeps its end")
	refused := h.audit.ofType(api.EventExtensionRefused)
	require.Len(t, refused, 1)
	require.Equal(t, "extension 1: stage 1 (team lead) has nobody to ask: group "+groupLeads+" does not exist in the directory", refused[0].Detail)
	require.Len(t, h.resolves, 2)
	require.Empty(t, h.emailsOf(activities.MailApprovalNeeded)[1:], "nobody asked to decide the extension")
	require.Len(t, h.logs.matching("level=ERROR", "Extension refused: a stage has nobody to ask", "extension=1"), 1, "operators are told")
}

// While the directory is being read, nobody may decide the stage, not even
// an approver the plan lists: the stage's approvers are not known yet.
func TestDirectoryDecisionsWaitForTheAnswer(t *testing.T) {
	h := newHarness(t, directoryInput())
	h.resolve = entra(bob)
	h.resolveDelay = 10 * time.Second
	reading := h.queryAt(5 * time.Second)
	early := h.decideAt(6*time.Second, bob, approve, "")
	approved := h.decideAt(12*time.Second, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusPending, reading.Status)
	require.Empty(t, reading.Approvers)
	rejected(t, early, workflows.ErrConflict, "the approvers of stage 1 of request req-reader are being read from the directory")
	accepted(t, approved)
	require.Equal(t, api.StatusExpired, r.Status)
}

// Directory references stand in for static approvers; the stage's count
// of people waits for the directory's answer.
func TestValidateDirectoryReferences(t *testing.T) {
	ok := directoryInput()
	ok.Stages[0].Approvals = 5
	require.NoError(t, ok.Validate())

	bad := directoryInput()
	bad.Stages[0].Tiers[0].Directory = &policies.ApproverRefs{GroupIDs: []string{"leads"}, Manager: 3}
	bad.Stages[0].Tiers[1].Directory = &policies.ApproverRefs{Manager: -1}
	err := bad.Validate()
	require.ErrorContains(t, err, `stages[0].tiers[0].directory.group_ids[0] must be an Entra group object id (a GUID such as 0b6c2f4e-1d2a-4c3b-9e8f-7a6b5c4d3e2f), got "leads"`)
	require.ErrorContains(t, err, "stages[0].tiers[0].directory.manager must be 0 (none) to 2 (1 the requester's manager, 2 the manager's manager), got 3")
	require.ErrorContains(t, err, "stages[0].tiers[1].directory.manager must be 0 (none) to 2")

	empty := directoryInput()
	empty.Stages[0].Tiers[0].Directory = &policies.ApproverRefs{}
	require.ErrorContains(t, empty.Validate(), "stages[0].tiers[0].approvers must name at least one approver, or directory the groups or manager level that do")

	static := readerInput()
	static.Stages[0].Approvals = 3
	require.ErrorContains(t, static.Validate(), "stages[0].approvals is 3 but only 2 distinct approvers other than the requester are listed")
}

// A requester who withdraws while the directory is slow to answer is not
// kept waiting for it.
func TestDirectoryCancelWhileReading(t *testing.T) {
	h := newHarness(t, directoryInput())
	h.resolve = entra(bob)
	h.resolveDelay = 10 * time.Minute
	cancel := h.updateAt(5*time.Second, workflows.UpdateCancel, workflows.CancelInput{ActorID: alice.ID})
	r := h.run()

	require.Equal(t, api.StatusCanceled, accepted(t, cancel).Status)
	require.Equal(t, api.StatusCanceled, r.Status)
	require.Equal(t, t0.Add(5*time.Second), *r.EndedAt)
	require.Empty(t, h.emailsOf(activities.MailApprovalNeeded))
}

// People of a stage that fails for too few are never asked, so the search
// attribute does not list them.
func TestDirectoryTooFewAreNotListed(t *testing.T) {
	in := directoryInput()
	in.Stages[0].Approvals = 4
	h := newHarness(t, in)
	h.resolve = entra(bob)
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	for _, ids := range h.approverIDs {
		require.Equal(t, []string{carol.ID}, ids)
	}
}
