package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/workflows"
)

func extendAt(h *harness, at time.Duration, who workflows.Person, d time.Duration) *outcome {
	return h.updateAt(at, workflows.UpdateExtend, workflows.ExtendInput{Actor: who, Duration: d, Justification: "need more time"})
}

// An extension goes through the role's approval again, then moves the
// assignment's end and the request's own timer.
func TestExtensionWithApproval(t *testing.T) {
	h := newHarness(t, readerInput())
	h.decideAt(5*time.Second, bob, approve, "")
	ask := extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	pending := h.queryAt(10*time.Minute + 5*time.Second)
	h.decideAt(10*time.Minute+10*time.Second, bob, approve, "ok")
	r := h.run()

	asked := accepted(t, ask)
	require.Equal(t, api.StatusActive, asked.Status)
	require.NotNil(t, asked.Extension)
	require.Equal(t, api.StatusPending, asked.Extension.Status)
	require.Equal(t, []workflows.Approver{{Approver: bob.UPN, ApproverID: bob.ID}}, pending.Extension.Approvers)

	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, 1, r.Extensions)
	require.Nil(t, r.Extension)
	require.Equal(t, t0.Add(5*time.Second+90*time.Minute), r.ExpiresAt.UTC(), "the grant ends 30 minutes later than it would have")
	require.Equal(t, *r.ExpiresAt, *r.EndedAt)
	require.Len(t, h.holds, 2)
	require.Equal(t, t0.Add(5*time.Second+90*time.Minute), h.holds[1].Until.UTC())
	require.Equal(t, "need more time", h.holds[1].Justification)
	require.Equal(t, []string{
		api.EventRequested, api.EventApproved, api.EventActivated,
		api.EventExtensionRequested, api.EventApproved, api.EventExtended,
		api.EventDeactivated, api.EventExpired,
	}, h.audit.types())
	require.Equal(t, 1, r.Decisions[1].Extension)
}

// A short extension the role lets through needs no approval: it is applied
// before the call answers.
func TestExtensionWithoutApproval(t *testing.T) {
	in := readerInput()
	in.Extension = workflows.Extension{WithoutApprovalUpTo: 15 * time.Minute, MaxDuration: 8 * time.Hour}
	h := newHarness(t, in)
	h.decideAt(5*time.Second, bob, approve, "")
	ask := extendAt(h, 10*time.Minute, alice, 10*time.Minute)
	r := h.run()

	asked := accepted(t, ask)
	require.Nil(t, asked.Extension)
	require.Equal(t, t0.Add(5*time.Second+70*time.Minute), asked.ExpiresAt.UTC())
	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, *asked.ExpiresAt, *r.EndedAt)
}

func TestExtendRejections(t *testing.T) {
	in := readerInput()
	in.Extension.MaxDuration = time.Hour
	h := newHarness(t, in)
	early := extendAt(h, time.Second, alice, 10*time.Minute)
	h.decideAt(5*time.Second, bob, approve, "")
	stranger := extendAt(h, time.Minute, bob, 10*time.Minute)
	tooLong := extendAt(h, 2*time.Minute, alice, 2*time.Hour)
	extendAt(h, 3*time.Minute, alice, 10*time.Minute)
	second := extendAt(h, 4*time.Minute, alice, 10*time.Minute)
	h.run()

	rejected(t, early, workflows.ErrConflict, "only an active request can be extended")
	rejected(t, stranger, workflows.ErrForbidden, "only the requester")
	rejected(t, tooLong, workflows.ErrInvalid, "longer than the 1h0m0s")
	rejected(t, second, workflows.ErrConflict, "already has extension 1 in progress")
}

// A role the requester held before jitflow: the request is active, the
// audit says so, and the release removes nothing.
func TestAlreadyHeldIsRecorded(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	standing := graph.Instance{ID: "standing-1", AssignmentType: "Assigned"}
	h.hold = func(in assignments.HoldInput) (assignments.HoldResult, error) {
		return assignments.HoldResult{Until: t0.Add(in.Duration), AlreadyHeld: &standing}, nil
	}
	h.release = func(assignments.ReleaseInput) (assignments.ReleaseResult, error) {
		return assignments.ReleaseResult{AlreadyHeld: true}, nil
	}
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	require.True(t, r.AlreadyHeld)
	held := h.audit.ofType(api.EventAlreadyHeld)
	require.Len(t, held, 1)
	require.Contains(t, held[0].Detail, "instance standing-1, Assigned, no end (standing)")
	require.Equal(t, "the role stays: the requester held it before jitflow", h.audit.ofType(api.EventDeactivated)[0].Detail)
}

// While Entra makes the removal wait, a revoke answers at once with
// deactivating; the request ends revoked once the role is gone.
func TestRevokeAnswersWhileRemovalWaits(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	allowed := t0.Add(5 * time.Minute)
	h.release = func(assignments.ReleaseInput) (assignments.ReleaseResult, error) {
		return assignments.ReleaseResult{Removal: &graph.DeactivateResult{GraphStatus: "Revoked"}}, nil
	}
	h.env.RegisterDelayedCallback(func() {
		h.notice(assignments.RemovalProgress{AllowedAt: allowed})
	}, time.Minute+time.Second)
	o := h.revokeAt(time.Minute, erin, false)
	h.mockReleaseDelay = 4 * time.Minute
	r := h.run()

	require.Equal(t, api.StatusDeactivating, accepted(t, o).Status)
	require.Equal(t, api.StatusRevoked, r.Status)
	waiting := h.audit.ofType(api.EventDeactivating)
	require.Len(t, waiting, 1)
	require.Contains(t, waiting[0].Detail, "only from 2036-11-26T09:05:00Z")
}

// The requester's eligibility is checked again right before activation.
func TestEligibilityGoneBeforeActivation(t *testing.T) {
	in := readerInput()
	in.RequireEligibility = true
	h := newHarness(t, in)
	h.eligible = false
	h.decideAt(5*time.Second, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	require.Contains(t, r.Reason, "alice@example.com no longer holds a PIM eligibility for role f2ef992c-3afb-46b9-b7cf-a126ee74c451 at /")
	require.Empty(t, h.holds, "nothing is assigned")
}

func TestEligibilityStillHeld(t *testing.T) {
	in := readerInput()
	in.RequireEligibility = true
	h := newHarness(t, in)
	h.eligible = true
	h.decideAt(5*time.Second, bob, approve, "")
	r := h.run()
	require.Equal(t, api.StatusExpired, r.Status)
}

// The requester's own assignment ends mid-grant and the assignment
// workflow assigns the role again: the request stays active, records the
// reassignment, and its release at the end removes the role.
func TestReassignedIsRecorded(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	own := graph.Instance{ID: "own-1", AssignmentType: "Activated", EndDateTime: t0.Add(10 * time.Minute)}
	h.hold = func(in assignments.HoldInput) (assignments.HoldResult, error) {
		return assignments.HoldResult{Until: t0.Add(in.Duration), EntraEnd: own.EndDateTime, AlreadyHeld: &own}, nil
	}
	var released []assignments.ReleaseInput
	h.release = func(in assignments.ReleaseInput) (assignments.ReleaseResult, error) {
		released = append(released, in)
		return assignments.ReleaseResult{Removal: &graph.DeactivateResult{GraphRequestID: "graph-remove", GraphStatus: "Revoked"}}, nil
	}
	h.env.RegisterDelayedCallback(func() {
		h.notice(assignments.RemovalProgress{Reassigned: &assignments.Reassignment{Previous: own,
			Activation: &graph.ActivateResult{GraphRequestID: "graph-reassign", GraphStatus: "Provisioned", EndDateTime: t0.Add(30 * time.Minute)}}})
	}, 10*time.Minute)
	during := h.queryAt(11 * time.Minute)
	r := h.run()

	require.Equal(t, api.StatusActive, during.Status)
	require.False(t, during.AlreadyHeld, "the role is jitflow's now")
	require.Equal(t, api.StatusExpired, r.Status)
	re := h.audit.ofType(api.EventReassigned)
	require.Len(t, re, 1)
	require.Equal(t, t0.Add(10*time.Minute), re[0].Time.UTC())
	require.Contains(t, re[0].Detail, "own assignment (instance own-1), which this grant rode on, ended at 2036-11-26T09:10:00Z")
	require.Contains(t, re[0].Detail, "Graph request graph-reassign (status Provisioned); Entra ends it at 2036-11-26T09:30:00Z")
	require.Len(t, released, 1)
	require.Equal(t, "role removed: Graph request graph-remove (status Revoked)", h.audit.ofType(api.EventDeactivated)[0].Detail)
}

// Assigning the role again failed: the request does not go on saying
// active; it fails with the reason, and the requester is told.
func TestRoleLostWhenReassignFails(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	own := graph.Instance{ID: "own-1", AssignmentType: "Activated", EndDateTime: t0.Add(10 * time.Minute)}
	h.hold = func(in assignments.HoldInput) (assignments.HoldResult, error) {
		return assignments.HoldResult{Until: t0.Add(in.Duration), EntraEnd: own.EndDateTime, AlreadyHeld: &own}, nil
	}
	h.release = func(assignments.ReleaseInput) (assignments.ReleaseResult, error) {
		t.Error("a dropped grant has nothing to release")
		return assignments.ReleaseResult{}, nil
	}
	reason := "the requester's own assignment (instance own-1) ended at 2036-11-26T09:10:00Z, before the grant, and assigning the role again failed: denied"
	h.env.RegisterDelayedCallback(func() {
		h.notice(assignments.RemovalProgress{Reassigned: &assignments.Reassignment{Previous: own, Failure: reason}})
	}, 10*time.Minute)
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	require.Equal(t, reason, r.Reason)
	require.Equal(t, t0.Add(10*time.Minute), r.EndedAt.UTC())
	require.Len(t, h.emailsOf(activities.MailFailed), 1)
	require.Empty(t, h.audit.ofType(api.EventReassigned))
	require.Empty(t, h.audit.ofType(api.EventExpired))
}
