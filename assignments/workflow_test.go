package assignments_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/proof"
)

// t0 is when every test workflow starts, so times can be checked exactly.
// It lies years ahead: the test environment measures local activities'
// deadlines against the real clock, so a t0 in the past would time them out.
var t0 = time.Date(2036, 11, 26, 9, 0, 0, 0, time.UTC)

// alice is the principal of the assignment under test.
var alice = struct{ ID string }{ID: "oid-alice"}

// testProofs are the proof keys of the test deployment's key list.
var testProofs = func() *proof.Keys {
	ks, err := approvals.NewKeySet(approvals.Key{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	return proof.FromKeySet(ks)
}()

var aliceReader = graph.Assignment{PrincipalID: alice.ID, RoleDefinitionID: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", DirectoryScopeID: "/"}

// assignmentHarness runs one Assignment workflow with Graph mocked, and
// keeps every call it made.
type assignmentHarness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	activate   func(in graph.ActivateInput) (graph.ActivateResult, error)
	deactivate func(n int) (graph.DeactivateResult, error)
	// removalDelay is how long each Deactivate attempt takes.
	removalDelay time.Duration
	// carried, when set, starts the workflow as continued from an earlier run.
	carried *assignments.Input

	mu          sync.Mutex
	activations []graph.ActivateInput
	extensions  []graph.ExtendInput
	removals    []graph.DeactivateInput
	removedAt   []time.Time
	signals     []assignments.RemovalProgress
}

func newAssignmentHarness(t *testing.T) *assignmentHarness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.RegisterWorkflowWithOptions(assignments.Workflow(testProofs), workflow.RegisterOptions{Name: assignments.WorkflowName})
	return &assignmentHarness{
		t:   t,
		env: env,
		activate: func(in graph.ActivateInput) (graph.ActivateResult, error) {
			return graph.ActivateResult{GraphRequestID: "graph-assign", GraphStatus: "Provisioned", EndDateTime: env.Now().Add(in.Duration)}, nil
		},
		deactivate: func(int) (graph.DeactivateResult, error) {
			return graph.DeactivateResult{GraphRequestID: "graph-remove", GraphStatus: "Revoked"}, nil
		},
	}
}

func (h *assignmentHarness) run() {
	h.t.Helper()
	a := &activities.Activities{}
	h.env.RegisterActivity(a)
	h.env.OnActivity(a.Activate, mock.Anything, mock.Anything).Return(func(_ context.Context, in graph.ActivateInput) (graph.ActivateResult, error) {
		h.mu.Lock()
		h.activations = append(h.activations, in)
		h.mu.Unlock()
		return h.activate(in)
	})
	h.env.OnActivity(a.Extend, mock.Anything, mock.Anything).Return(func(_ context.Context, in graph.ExtendInput) (graph.ExtendResult, error) {
		h.mu.Lock()
		h.extensions = append(h.extensions, in)
		h.mu.Unlock()
		return graph.ExtendResult{GraphRequestID: "graph-extend", EndDateTime: in.EndDateTime}, nil
	})
	removal := h.env.OnActivity(a.Deactivate, mock.Anything, mock.Anything).Return(func(_ context.Context, in graph.DeactivateInput) (graph.DeactivateResult, error) {
		h.mu.Lock()
		h.removals = append(h.removals, in)
		h.removedAt = append(h.removedAt, h.env.Now())
		n := len(h.removals)
		h.mu.Unlock()
		return h.deactivate(n)
	})
	if h.removalDelay > 0 {
		removal.After(h.removalDelay)
	}
	g := &assignments.Grants{Keys: testProofs}
	h.env.RegisterActivity(g)
	h.env.OnActivity(g.NotifyRequests, mock.Anything, mock.Anything).Return(func(_ context.Context, in assignments.NoticeInput) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		for range in.RequestIDs {
			h.signals = append(h.signals, in.Progress)
		}
		return nil
	})
	in := assignments.Input{Assignment: aliceReader}
	if h.carried != nil {
		in = *h.carried
	}
	h.env.ExecuteWorkflow(assignments.WorkflowName, in)
	require.True(h.t, h.env.IsWorkflowCompleted(), "assignment workflow did not complete")
	require.NoError(h.t, h.env.GetWorkflowError())
}

type holdOutcome struct {
	done bool
	err  error
	res  assignments.HoldResult
}

func (h *assignmentHarness) holdAt(at time.Duration, in assignments.HoldInput) *holdOutcome {
	o := &holdOutcome{}
	in.Assignment = aliceReader
	h.env.RegisterDelayedCallback(func() {
		in, err := in.Sign(testProofs, proof.Statement{Channel: proof.ChannelWorker}, h.env.Now())
		require.NoError(h.t, err)
		h.env.UpdateWorkflow(assignments.UpdateHold, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.done, o.err = true, err },
			OnComplete: func(v any, err error) {
				o.done, o.err = true, err
				if r, ok := v.(assignments.HoldResult); ok {
					o.res = r
				}
			},
		}, in)
	}, at)
	return o
}

type releaseOutcome struct {
	done bool
	at   time.Time
	err  error
	res  assignments.ReleaseResult
}

func (h *assignmentHarness) releaseAt(at time.Duration, id string) *releaseOutcome {
	o := &releaseOutcome{}
	h.env.RegisterDelayedCallback(func() {
		in := assignments.ReleaseInput{RequestID: id, Assignment: aliceReader, Reason: "test"}
		var err error
		in.Proof, err = testProofs.SignInput(in, proof.Statement{Channel: proof.ChannelWorker}, h.env.Now())
		require.NoError(h.t, err)
		h.env.UpdateWorkflow(assignments.UpdateRelease, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.done, o.err = true, err },
			OnComplete: func(v any, err error) {
				o.done, o.at, o.err = true, h.env.Now(), err
				if r, ok := v.(assignments.ReleaseResult); ok {
					o.res = r
				}
			},
		}, in)
	}, at)
	return o
}

func completed[T interface{ *holdOutcome | *releaseOutcome }](t *testing.T, o T) {
	t.Helper()
	switch o := any(o).(type) {
	case *holdOutcome:
		require.True(t, o.done, "hold not answered")
		require.NoError(t, o.err)
	case *releaseOutcome:
		require.True(t, o.done, "release not answered")
		require.NoError(t, o.err)
	}
}

// Two overlapping grants: one assignment, its end moved to the later
// grant, kept when the first is released, removed after the second.
func TestAssignmentOverlappingGrants(t *testing.T) {
	h := newAssignmentHarness(t)
	first := h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour, Justification: "first"})
	second := h.holdAt(10*time.Minute, assignments.HoldInput{RequestID: "req-2", Duration: 2 * time.Hour, Justification: "second"})
	early := h.releaseAt(30*time.Minute, "req-1")
	late := h.releaseAt(2*time.Hour+10*time.Minute, "req-2")
	h.run()

	completed(t, first)
	completed(t, second)
	require.Len(t, h.activations, 1, "the second grant rides on the first assignment")
	require.Equal(t, time.Hour, h.activations[0].Duration)
	require.NotNil(t, first.res.Activation)
	require.Equal(t, t0.Add(time.Hour), first.res.Until)
	require.Equal(t, t0.Add(2*time.Hour+10*time.Minute), second.res.Until)
	require.Len(t, h.extensions, 1, "Entra's end moves to the later grant")
	require.Equal(t, t0.Add(2*time.Hour+10*time.Minute), h.extensions[0].EndDateTime)
	require.Equal(t, 1, second.res.Shared)

	completed(t, early)
	require.Equal(t, 1, early.res.Remaining)
	require.Nil(t, early.res.Removal, "releasing the earlier grant removes nothing")
	completed(t, late)
	require.NotNil(t, late.res.Removal)
	require.Len(t, h.removals, 1)
	require.Equal(t, "req-2", h.removals[0].RequestID)
}

// A standing assignment the principal held before jitflow is never assigned
// over and never removed.
func TestAssignmentAlreadyHeld(t *testing.T) {
	h := newAssignmentHarness(t)
	standing := graph.Instance{ID: "standing-1", PrincipalID: alice.ID, RoleDefinitionID: aliceReader.RoleDefinitionID, DirectoryScopeID: "/", AssignmentType: "Assigned"}
	h.activate = func(graph.ActivateInput) (graph.ActivateResult, error) {
		return graph.ActivateResult{}, temporal.NewNonRetryableApplicationError("alice already holds the role", graph.ErrAssignmentHeld, nil, standing)
	}
	hold := h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	extend := h.holdAt(20*time.Minute, assignments.HoldInput{RequestID: "req-1", Until: t0.Add(3 * time.Hour)})
	rel := h.releaseAt(time.Hour, "req-1")
	h.run()

	completed(t, hold)
	require.Len(t, h.activations, 1, "the provider's refusal is final")
	require.NotNil(t, hold.res.AlreadyHeld)
	require.Equal(t, "standing-1", hold.res.AlreadyHeld.ID)
	require.Equal(t, t0.Add(time.Hour), hold.res.Until)
	completed(t, extend)
	require.Equal(t, t0.Add(3*time.Hour), extend.res.Until)
	require.Empty(t, h.extensions, "a standing assignment needs no extension")
	completed(t, rel)
	require.True(t, rel.res.AlreadyHeld)
	require.Empty(t, h.removals, "what jitflow did not grant is never removed")
}

// Entra refuses removing a young assignment: the workflow waits until it is
// allowed, tells the waiting request, and removes it then.
func TestAssignmentWaitsOutRemovalTooSoon(t *testing.T) {
	h := newAssignmentHarness(t)
	allowed := t0.Add(5 * time.Minute)
	h.deactivate = func(n int) (graph.DeactivateResult, error) {
		if n == 1 {
			return graph.DeactivateResult{}, temporal.NewNonRetryableApplicationError("ActiveDurationTooShort", activities.ErrRemovalTooSoon, nil,
				activities.RemovalTooSoonDetails{AllowedAt: allowed})
		}
		return graph.DeactivateResult{GraphStatus: "Revoked"}, nil
	}
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	rel := h.releaseAt(time.Minute, "req-1")
	h.run()

	completed(t, rel)
	require.Len(t, h.removals, 2)
	require.NotNil(t, rel.res.Removal)
	require.Equal(t, allowed, rel.at.UTC(), "removed as soon as Entra allows it")
	require.Len(t, h.signals, 1)
	require.Equal(t, allowed, h.signals[0].AllowedAt)
}

// A removal failing for longer than RemovalAlertAfter raises an alert and
// goes on being retried.
func TestAssignmentRemovalAlert(t *testing.T) {
	h := newAssignmentHarness(t)
	// Attempts that each hang for six minutes before failing.
	h.removalDelay = 6 * time.Minute
	h.deactivate = func(n int) (graph.DeactivateResult, error) {
		if n < 3 {
			return graph.DeactivateResult{}, temporal.NewApplicationError("HTTP 503", "GraphUnavailable")
		}
		return graph.DeactivateResult{GraphStatus: "Revoked"}, nil
	}
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	rel := h.releaseAt(time.Minute, "req-1")
	h.run()

	completed(t, rel)
	require.NotNil(t, rel.res.Removal)
	require.Len(t, h.removals, 3)
	require.Len(t, h.signals, 1, "one alert, however long it goes on")
	require.Contains(t, h.signals[0].Alert, "has kept failing for 10m0s")
}

// Graph's refusal of the activation fails the hold and leaves nothing to
// remove.
func TestAssignmentActivationRefused(t *testing.T) {
	h := newAssignmentHarness(t)
	h.activate = func(graph.ActivateInput) (graph.ActivateResult, error) {
		return graph.ActivateResult{}, temporal.NewNonRetryableApplicationError("RoleAssignmentRequestPolicyValidationFailed", graph.ErrRejected, nil)
	}
	hold := h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.run()

	completed(t, hold)
	require.Contains(t, hold.res.Failure, "activation failed: RoleAssignmentRequestPolicyValidationFailed")
	require.Empty(t, h.removals)
}

// A grant whose request never releases it (a terminated request workflow)
// lapses after its end, and the role is removed.
// A grant ends at its end: the role is removed then, without waiting for
// the request, and the request is told what became of it.
func TestAssignmentEndsGrants(t *testing.T) {
	h := newAssignmentHarness(t)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.run()

	require.Len(t, h.removals, 1)
	require.Equal(t, t0.Add(time.Hour), h.removedAt[0].UTC())
	require.Equal(t, "req-1", h.removals[0].RequestID)
	require.Equal(t, h.removedAt[0].Add(assignments.IdleLinger), h.env.Now(), "the workflow stays a while for the next request")
	require.Len(t, h.signals, 1)
	require.NotNil(t, h.signals[0].Ended)
	require.Equal(t, "graph-remove", h.signals[0].Ended.Removal.GraphRequestID)
}

// Of two overlapping grants, the first to end is told the role stays; the
// second ends with the removal.
func TestAssignmentEndsOverlappingGrants(t *testing.T) {
	h := newAssignmentHarness(t)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.holdAt(time.Minute, assignments.HoldInput{RequestID: "req-2", Duration: time.Hour})
	h.run()

	require.Len(t, h.removals, 1)
	require.Equal(t, t0.Add(time.Minute+time.Hour), h.removedAt[0].UTC())
	require.Len(t, h.signals, 2)
	require.Equal(t, &assignments.ReleaseResult{Remaining: 1}, h.signals[0].Ended, "req-1 ends while req-2 holds the role")
	require.NotNil(t, h.signals[1].Ended.Removal)
}

func TestAssignmentWorkflowID(t *testing.T) {
	group := graph.Assignment{PrincipalID: alice.ID, GroupID: "22222222-2222-4222-8222-000000000001", AccessID: graph.AccessMember}
	owner := group
	owner.AccessID = graph.AccessOwner
	au := aliceReader
	au.DirectoryScopeID = "/administrativeUnits/aaaaaaaa-1111-4111-8111-000000000001"
	upper := aliceReader
	upper.RoleDefinitionID = "F2EF992C-3AFB-46B9-B7CF-A126EE74C451"
	ids := map[string]bool{}
	for _, a := range []graph.Assignment{aliceReader, group, owner, au} {
		ids[assignments.WorkflowID(a)] = true
	}
	require.Len(t, ids, 4, "each target has its own workflow")
	require.Equal(t, assignments.WorkflowID(aliceReader), assignments.WorkflowID(upper), "ids compare case-insensitively")
	require.Regexp(t, `^assignment/`+alice.ID+`/[0-9a-f]{24}$`, assignments.WorkflowID(aliceReader))
}

// A run continued as new holds the grants it carried: a repeated hold is
// answered from them, and the role goes when the last is released.
func TestAssignmentContinuedAsNew(t *testing.T) {
	h := newAssignmentHarness(t)
	h.carried = &assignments.Input{
		Assignment: aliceReader,
		Grants:     []assignments.Grant{{RequestID: "req-1", Duration: time.Hour, Until: t0.Add(time.Hour)}},
		Assigned:   true,
		EntraEnd:   t0.Add(time.Hour),
	}
	again := h.holdAt(time.Minute, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	rel := h.releaseAt(2*time.Minute, "req-1")
	h.run()

	completed(t, again)
	require.Equal(t, t0.Add(time.Hour), again.res.Until.UTC())
	require.Empty(t, h.activations, "the carried assignment is not made again")
	completed(t, rel)
	require.NotNil(t, rel.res.Removal)
	require.Len(t, h.removals, 1)
}

// A hold that comes while the workflow lingers after the last release is
// served by the same run.
func TestAssignmentServesHoldWhileLingering(t *testing.T) {
	h := newAssignmentHarness(t)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.releaseAt(time.Minute, "req-1")
	again := h.holdAt(5*time.Minute, assignments.HoldInput{RequestID: "req-2", Duration: time.Hour})
	h.releaseAt(10*time.Minute, "req-2")
	h.run()

	completed(t, again)
	require.NotNil(t, again.res.Activation, "the role is assigned again")
	require.Len(t, h.activations, 2)
	require.Len(t, h.removals, 2)
}

// A release from a request the workflow does not hold answers at once and
// reports no removal that was not its own.
func TestAssignmentReleaseOfUnknownGrant(t *testing.T) {
	h := newAssignmentHarness(t)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.releaseAt(time.Minute, "req-1")
	stranger := h.releaseAt(2*time.Minute, "req-other")
	h.run()

	completed(t, stranger)
	require.Nil(t, stranger.res.Removal)
	require.Len(t, h.removals, 1)
}

// The first removal attempt runs within the workflow task (a local
// activity); when Graph fails it, the activity retries until it is done.
func TestAssignmentQuickRemovalFallsBackToTheActivity(t *testing.T) {
	h := newAssignmentHarness(t)
	h.deactivate = func(n int) (graph.DeactivateResult, error) {
		if n == 1 {
			return graph.DeactivateResult{}, temporal.NewApplicationError("HTTP 503", "GraphUnavailable")
		}
		return graph.DeactivateResult{GraphRequestID: "graph-remove", GraphStatus: "Revoked"}, nil
	}
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	rel := h.releaseAt(time.Minute, "req-1")
	h.run()

	completed(t, rel)
	require.Len(t, h.removals, 2)
	require.Equal(t, "graph-remove", rel.res.Removal.GraphRequestID)
}

// A shorter grant that comes after a longer one still ends on time.
func TestAssignmentEndsAShorterLaterGrant(t *testing.T) {
	h := newAssignmentHarness(t)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.holdAt(time.Minute, assignments.HoldInput{RequestID: "req-2", Duration: time.Minute})
	h.run()

	require.GreaterOrEqual(t, len(h.signals), 1)
	require.Equal(t, &assignments.ReleaseResult{Remaining: 1}, h.signals[0].Ended)
	require.Equal(t, t0.Add(time.Hour), h.removedAt[0].UTC())
}

// ownActivation is alice's own time-bound PIM activation of the reader
// role, made outside jitflow, ending at end.
func ownActivation(end time.Time) graph.Instance {
	return graph.Instance{ID: "own-1", PrincipalID: alice.ID, RoleDefinitionID: aliceReader.RoleDefinitionID, DirectoryScopeID: "/",
		AssignmentType: "Activated", StartDateTime: t0.Add(-time.Hour), EndDateTime: end}
}

// heldFirst answers the first activation with the principal's own
// assignment, and later ones with then (nil: Graph assigns the role).
func (h *assignmentHarness) heldFirst(own graph.Instance, then func(in graph.ActivateInput) (graph.ActivateResult, error)) *[]time.Time {
	var at []time.Time
	h.activate = func(in graph.ActivateInput) (graph.ActivateResult, error) {
		at = append(at, h.env.Now())
		if len(at) == 1 {
			return graph.ActivateResult{}, temporal.NewNonRetryableApplicationError("alice already holds the role", graph.ErrAssignmentHeld, nil, own)
		}
		if then != nil {
			return then(in)
		}
		return graph.ActivateResult{GraphRequestID: "graph-reassign", GraphStatus: "Provisioned", EndDateTime: h.env.Now().Add(in.Duration)}, nil
	}
	return &at
}

func reassignments(signals []assignments.RemovalProgress) []assignments.Reassignment {
	var out []assignments.Reassignment
	for _, p := range signals {
		if p.Reassigned != nil {
			out = append(out, *p.Reassigned)
		}
	}
	return out
}

// The principal's own assignment ends half-way through the grant that
// rides on it: at that end jitflow assigns the role for the rest of the
// grant, tells the request, and removes the role at the grant's end.
func TestAssignmentReassignsAfterOwnEnd(t *testing.T) {
	h := newAssignmentHarness(t)
	own := ownActivation(t0.Add(30 * time.Minute))
	at := h.heldFirst(own, nil)
	hold := h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour, Justification: "rides"})
	h.run()

	completed(t, hold)
	require.Equal(t, "own-1", hold.res.AlreadyHeld.ID, "the grant starts on the principal's own assignment")
	require.Len(t, h.activations, 2)
	require.Equal(t, own.EndDateTime, (*at)[1].UTC(), "assigned again the moment the own assignment ends")
	require.Equal(t, 30*time.Minute, h.activations[1].Duration, "for the rest of the grant")
	require.Equal(t, "req-1", h.activations[1].RequestID, "under the request's id, so a repeat adopts it")
	require.Equal(t, "rides", h.activations[1].Justification)

	re := reassignments(h.signals)
	require.Len(t, re, 1)
	require.Equal(t, "own-1", re[0].Previous.ID)
	require.Equal(t, "graph-reassign", re[0].Activation.GraphRequestID)
	require.Empty(t, re[0].Failure)

	require.Len(t, h.removals, 1, "jitflow removes what it assigned")
	require.Equal(t, t0.Add(time.Hour), h.removedAt[0].UTC(), "at the grant's end")
	ended := h.signals[len(h.signals)-1].Ended
	require.NotNil(t, ended)
	require.NotNil(t, ended.Removal)
	require.False(t, ended.AlreadyHeld)
}

// A permanent own assignment is never replaced or removed.
func TestAssignmentPermanentOwnAssignmentUntouched(t *testing.T) {
	h := newAssignmentHarness(t)
	h.heldFirst(ownActivation(time.Time{}), nil)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.run()

	require.Len(t, h.activations, 1)
	require.Empty(t, reassignments(h.signals))
	require.Empty(t, h.removals)
	require.Len(t, h.signals, 1)
	require.True(t, h.signals[0].Ended.AlreadyHeld)
}

// An own assignment that outlasts the grant is left alone.
func TestAssignmentOwnAssignmentOutlastsGrant(t *testing.T) {
	h := newAssignmentHarness(t)
	h.heldFirst(ownActivation(t0.Add(2*time.Hour)), nil)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.run()

	require.Len(t, h.activations, 1)
	require.Empty(t, reassignments(h.signals))
	require.Empty(t, h.removals)
	require.True(t, h.signals[0].Ended.AlreadyHeld)
}

// Graph refuses to assign the role again: the request is told why, its
// grant is dropped, and nothing is left to remove.
func TestAssignmentReassignRefused(t *testing.T) {
	h := newAssignmentHarness(t)
	h.heldFirst(ownActivation(t0.Add(30*time.Minute)), func(graph.ActivateInput) (graph.ActivateResult, error) {
		return graph.ActivateResult{}, temporal.NewNonRetryableApplicationError("RoleAssignmentRequestPolicyValidationFailed", graph.ErrRejected, nil)
	})
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.run()

	require.Len(t, h.activations, 2)
	re := reassignments(h.signals)
	require.Len(t, re, 1)
	require.Nil(t, re[0].Activation)
	require.Contains(t, re[0].Failure, "own assignment (instance own-1) ended at 2036-11-26T09:30:00Z")
	require.Contains(t, re[0].Failure, "assigning the role again failed: RoleAssignmentRequestPolicyValidationFailed")
	require.Empty(t, h.removals, "Graph's refusal assigned nothing")
	require.Len(t, h.signals, 1, "the grant is gone: no end notice follows")
	require.Equal(t, t0.Add(30*time.Minute+assignments.IdleLinger), h.env.Now().UTC(), "the workflow ends once idle")
}

// A hold that comes after the own assignment ended waits for the role to
// be assigned again instead of riding on what is gone.
func TestAssignmentHoldAfterOwnEnd(t *testing.T) {
	h := newAssignmentHarness(t)
	h.heldFirst(ownActivation(t0.Add(30*time.Minute)), nil)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: 25 * time.Minute})
	late := h.holdAt(32*time.Minute, assignments.HoldInput{RequestID: "req-2", Duration: time.Hour})
	h.run()

	completed(t, late)
	require.Nil(t, late.res.AlreadyHeld)
	require.NotNil(t, late.res.Activation)
	require.Equal(t, t0.Add(92*time.Minute), late.res.Until.UTC())
	require.Len(t, h.activations, 2)
	require.Equal(t, time.Hour, h.activations[1].Duration)
	require.Empty(t, reassignments(h.signals), "req-1 ended before; req-2 never rode")
	require.Len(t, h.removals, 1)
	require.Equal(t, t0.Add(92*time.Minute), h.removedAt[0].UTC())
}

// The principal renewed their own assignment before it ended: the grant
// rides on the renewal, and nothing is assigned or removed.
func TestAssignmentOwnAssignmentRenewed(t *testing.T) {
	h := newAssignmentHarness(t)
	renewed := ownActivation(t0.Add(2 * time.Hour))
	renewed.ID = "own-2"
	h.heldFirst(ownActivation(t0.Add(30*time.Minute)), func(graph.ActivateInput) (graph.ActivateResult, error) {
		return graph.ActivateResult{}, temporal.NewNonRetryableApplicationError("alice already holds the role", graph.ErrAssignmentHeld, nil, renewed)
	})
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	h.run()

	require.Len(t, h.activations, 2, "one look at the end of the first own assignment")
	require.Empty(t, reassignments(h.signals))
	require.Empty(t, h.removals)
	require.True(t, h.signals[0].Ended.AlreadyHeld)
}

// An extension granted while the grant rides on the own assignment counts:
// the role is assigned again up to the extended end.
func TestAssignmentReassignCoversExtension(t *testing.T) {
	h := newAssignmentHarness(t)
	h.heldFirst(ownActivation(t0.Add(30*time.Minute)), nil)
	h.holdAt(0, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	ext := h.holdAt(20*time.Minute, assignments.HoldInput{RequestID: "req-1", Until: t0.Add(2 * time.Hour)})
	h.run()

	completed(t, ext)
	require.NotNil(t, ext.res.AlreadyHeld, "answered at once: the own assignment still carries it")
	require.Len(t, h.activations, 2)
	require.Equal(t, 90*time.Minute, h.activations[1].Duration)
	require.Equal(t, t0.Add(2*time.Hour), h.removedAt[0].UTC())
}

// A hold that no jitflow worker signed is refused: someone who reaches
// Temporal cannot have a role assigned through the assignment workflow.
func TestHoldWithoutProofIsRefused(t *testing.T) {
	h := newAssignmentHarness(t)
	var refused error
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(assignments.UpdateHold, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { refused = err },
			OnComplete: func(any, error) {},
		}, assignments.HoldInput{RequestID: "req-forged", Assignment: aliceReader, Duration: time.Hour})
	}, time.Second)
	signed := h.holdAt(2*time.Second, assignments.HoldInput{RequestID: "req-1", Duration: time.Minute})
	h.run()
	var app *temporal.ApplicationError
	require.ErrorAs(t, refused, &app)
	require.Equal(t, assignments.ErrForbidden, app.Type())
	require.True(t, signed.done)
	require.NoError(t, signed.err)
	require.Len(t, h.activations, 1, "only the signed hold activated")
}

// A release that no jitflow worker signed is refused: someone who reaches
// Temporal cannot have a request's role removed before its grant ends.
func TestReleaseWithoutProofIsRefused(t *testing.T) {
	h := newAssignmentHarness(t)
	held := h.holdAt(time.Second, assignments.HoldInput{RequestID: "req-1", Duration: time.Hour})
	var refused error
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(assignments.UpdateRelease, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { refused = err },
			OnComplete: func(any, error) {},
		}, assignments.ReleaseInput{RequestID: "req-1", Assignment: aliceReader, Reason: "forged"})
	}, time.Minute)
	released := h.releaseAt(2*time.Minute, "req-1")
	h.run()
	completed(t, held)
	var app *temporal.ApplicationError
	require.ErrorAs(t, refused, &app)
	require.Equal(t, assignments.ErrForbidden, app.Type())
	completed(t, released)
	require.Len(t, h.removedAt, 1, "only the signed release removed the role")
	require.Equal(t, t0.Add(2*time.Minute), h.removedAt[0].UTC())
}
