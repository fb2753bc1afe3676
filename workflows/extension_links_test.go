package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/workflows"
)

// The email asking to decide an extension describes the extension's
// approval and binds its links to the extension, its stage and the end of
// that stage.
func TestExtensionEmailBindsLinks(t *testing.T) {
	h := newHarness(t, readerInput())
	h.decideAt(5*time.Second, bob, approve, "")
	extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	link := h.updateAt(10*time.Minute+10*time.Second, workflows.UpdateDecide,
		workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Stage: 1, Extension: 1, LinkID: "link-1"})
	r := h.run()

	accepted(t, link)
	require.Equal(t, 1, r.Extensions)
	asks := h.emailsOf(activities.MailApprovalNeeded)
	require.Len(t, asks, 2, "one for the request, one for its extension")
	require.Zero(t, asks[0].Request.Extension)
	x := asks[1]
	require.Equal(t, 1, x.Request.Extension)
	require.Equal(t, 1, x.Request.Stage)
	require.Equal(t, "team lead", x.Request.StageName)
	require.Equal(t, []string{bob.UPN}, x.Request.Approvers)
	require.Equal(t, t0.Add(10*time.Minute+20*time.Second), x.Request.EscalatesAt.UTC())
	require.Equal(t, t0.Add(10*time.Minute+80*time.Second), x.LinkExpires.UTC(), "the end of the stage's last tier")
	require.Equal(t, "req-reader/approval_needed/x1/s1t1", x.Key)
}

// An extension's links stop working when the grant ends, even if its
// stage would run longer.
func TestExtensionLinkEndsWithTheGrant(t *testing.T) {
	h := newHarness(t, readerInput())
	h.decideAt(5*time.Second, bob, approve, "")
	extendAt(h, time.Hour, alice, 30*time.Minute)
	h.run()

	asks := h.emailsOf(activities.MailApprovalNeeded)
	require.Len(t, asks, 2)
	require.Equal(t, t0.Add(time.Hour+5*time.Second), asks[1].LinkExpires.UTC())
}

// A decision bound to an extension counts only for that extension while
// it waits; a link for the request itself cannot decide an extension.
func TestDecisionBoundToAnExtension(t *testing.T) {
	h := newHarness(t, readerInput())
	h.decideAt(5*time.Second, bob, approve, "")
	early := h.updateAt(time.Minute, workflows.UpdateDecide, workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Stage: 1, Extension: 1})
	extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	oldLink := h.updateAt(10*time.Minute+time.Second, workflows.UpdateDecide,
		workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Stage: 1, LinkID: "request-link"})
	h.updateAt(10*time.Minute+2*time.Second, workflows.UpdateDecide,
		workflows.DecideInput{ApproverID: bob.ID, Decision: deny, Stage: 1, Extension: 1, LinkID: "x1"})
	extendAt(h, 20*time.Minute, alice, 30*time.Minute)
	stale := h.updateAt(20*time.Minute+time.Second, workflows.UpdateDecide,
		workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Stage: 1, Extension: 1, LinkID: "x1-again"})
	second := h.updateAt(20*time.Minute+2*time.Second, workflows.UpdateDecide,
		workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Stage: 1, Extension: 2, LinkID: "x2"})
	r := h.run()

	rejected(t, early, workflows.ErrConflict, "extension 1 of request req-reader is no longer waiting")
	rejected(t, oldLink, workflows.ErrConflict, "decided through its own link")
	rejected(t, stale, workflows.ErrConflict, "now waits on extension 2")
	require.Equal(t, 2, accepted(t, second).Decisions[len(r.Decisions)-1].Extension,
		"a refused extension's number is not reused")
	require.Equal(t, 1, r.Extensions)
	keys := []string{}
	for _, e := range h.emailsOf(activities.MailApprovalNeeded) {
		keys = append(keys, e.Key)
	}
	require.Equal(t, []string{"req-reader/approval_needed/s1t1", "req-reader/approval_needed/x1/s1t1", "req-reader/approval_needed/x2/s1t1"}, keys)
}
