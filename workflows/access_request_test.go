package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/workflows"
)

const (
	approve = api.DecisionApprove
	deny    = api.DecisionDeny
)

func TestHappyPathOneStage(t *testing.T) {
	h := newHarness(t, readerInput())
	o := h.decideAt(5*time.Second, bob, approve, "ok")
	r := h.run()

	got := accepted(t, o)
	require.Equal(t, api.StatusActive, got.Status, "the last approval answers with the quick activation's outcome")
	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, []workflows.Decision{{
		Approver: bob.UPN, ApproverID: bob.ID, Decision: approve, Comment: "ok", Time: t0.Add(5 * time.Second), Stage: 1,
	}}, r.Decisions)
	require.Equal(t, t0.Add(5*time.Second), *r.ActivatedAt)
	require.Equal(t, t0.Add(5*time.Second+time.Hour), *r.ExpiresAt)
	require.Equal(t, *r.ExpiresAt, *r.EndedAt)
	require.Len(t, h.activations, 1)
	require.Equal(t, graph.ActivateInput{
		RequestID:     "req-reader",
		Assignment:    graph.Assignment{PrincipalID: alice.ID, RoleDefinitionID: h.in.Target.RoleDefinitionID, DirectoryScopeID: "/"},
		Duration:      time.Hour,
		Justification: h.in.Justification,
	}, h.activations[0])
	require.Len(t, h.removals, 1, "expiry removes the role once")
	require.Equal(t, []string{
		api.EventRequested, api.EventApproved, api.EventActivated, api.EventDeactivated, api.EventExpired,
	}, h.audit.types())
	// Emails run concurrently with the request, so they may finish in any order.
	require.ElementsMatch(t, []string{
		activities.MailApprovalNeeded, activities.MailApproved, activities.MailActive, activities.MailExpired,
	}, h.kinds())
	require.Equal(t, []string{bob.UPN}, recipientsOf(h.emailsOf(activities.MailApprovalNeeded)[0]))
	require.Equal(t, []string{alice.UPN}, recipientsOf(h.emailsOf(activities.MailActive)[0]))
	notified := h.audit.ofType(api.EventNotified)
	require.Len(t, notified, 4, "every email is in the audit trail")
	require.Equal(t, "approval_needed email to bob@example.com sent", notified[0].Detail)
}

func TestTwoStageAdmin(t *testing.T) {
	h := newHarness(t, adminInput())
	first := h.decideAt(5*time.Second, bob, approve, "")
	second := h.decideAt(10*time.Second, dave, approve, "CHG-7 checked")
	r := h.run()

	mid := accepted(t, first)
	require.Equal(t, api.StatusPending, mid.Status)
	require.Equal(t, 2, mid.Stage, "bob's approval moves the request to stage 2")
	require.Equal(t, []workflows.Approver{{Approver: dave.UPN, ApproverID: dave.ID}}, mid.Approvers)
	require.Equal(t, t0.Add(5*time.Second+time.Hour), *mid.EscalatesAt)
	require.Equal(t, api.StatusActive, accepted(t, second).Status)

	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, 2, r.Stages)
	require.Len(t, r.Decisions, 2)
	require.Equal(t, 1, r.Decisions[0].Stage)
	require.Equal(t, 2, r.Decisions[1].Stage)
	require.Equal(t, "CHG-7", h.activations[0].Ticket)
	asked := h.emailsOf(activities.MailApprovalNeeded)
	require.Len(t, asked, 2)
	require.Equal(t, []string{dave.UPN}, recipientsOf(asked[1]))
	require.Equal(t, "req-admin/approval_needed/s2t1", asked[1].Key)
	require.Equal(t, 2, asked[1].Request.Stage)
}

func TestCancel(t *testing.T) {
	t.Run("by the requester", func(t *testing.T) {
		h := newHarness(t, readerInput())
		o := h.updateAt(5*time.Second, workflows.UpdateCancel, workflows.CancelInput{ActorID: alice.ID})
		r := h.run()
		require.Equal(t, api.StatusCanceled, accepted(t, o).Status)
		require.Equal(t, api.StatusCanceled, r.Status)
		require.Equal(t, t0.Add(5*time.Second), *r.EndedAt)
		require.Empty(t, h.activations)
		require.Equal(t, []string{activities.MailApprovalNeeded}, h.kinds(), "nobody else is emailed")
		ev := h.audit.ofType(api.EventCanceled)
		require.Len(t, ev, 1)
		require.Equal(t, alice.UPN, ev[0].Actor)
	})
	t.Run("by someone else", func(t *testing.T) {
		h := newHarness(t, readerInput())
		o := h.updateAt(5*time.Second, workflows.UpdateCancel, workflows.CancelInput{ActorID: bob.ID})
		r := h.run()
		rejected(t, o, workflows.ErrForbidden, "only the requester (alice@example.com) may cancel")
		require.Equal(t, api.StatusTimedOut, r.Status)
	})
	t.Run("when no longer pending", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(5*time.Second, bob, approve, "")
		o := h.updateAt(10*time.Second, workflows.UpdateCancel, workflows.CancelInput{ActorID: alice.ID})
		h.run()
		rejected(t, o, workflows.ErrConflict, "is active; it can be canceled only while it is pending_approval")
	})
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name     string
		actor    workflows.Person
		operator bool
	}{
		{"by the requester", alice, false},
		{"by an approver of a later tier", carol, false},
		{"by an operator", mallory, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, readerInput())
			h.decideAt(5*time.Second, bob, approve, "")
			o := h.revokeAt(10*time.Minute, tc.actor, tc.operator)
			r := h.run()

			got := accepted(t, o)
			require.Equal(t, api.StatusRevoked, got.Status, "the update answers once the role is removed")
			require.Equal(t, api.StatusRevoked, r.Status)
			require.Equal(t, t0.Add(10*time.Minute), *r.EndedAt)
			require.Equal(t, "done early", r.Reason)
			require.Len(t, h.removals, 1)
			require.Contains(t, h.removals[0].Reason, "revoked by "+tc.actor.UPN)
			ev := h.audit.ofType(api.EventRevoked)
			require.Len(t, ev, 1)
			require.Equal(t, tc.actor.UPN, ev[0].Actor)
			require.Equal(t, []string{
				api.EventRequested, api.EventApproved, api.EventActivated,
				api.EventRevoked, api.EventDeactivated,
			}, h.audit.types())
			mail := h.emailsOf(activities.MailRevoked)
			require.Len(t, mail, 1)
			require.Equal(t, tc.actor.UPN, mail[0].Request.Actor)
		})
	}
}

func TestRevokeRejections(t *testing.T) {
	tests := []struct {
		name     string
		at       time.Duration
		actor    workflows.Person
		operator bool
		errType  string
		contains string
	}{
		{"stranger", 10 * time.Minute, mallory, false, workflows.ErrForbidden, "mallory@example.com may not revoke request req-reader"},
		{"while pending", time.Second, alice, false, workflows.ErrConflict, "is pending_approval; only an activating or active request can be revoked"},
		{"no actor id", 10 * time.Minute, workflows.Person{UPN: "x@example.com"}, true, workflows.ErrInvalid, "actor.id is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, readerInput())
			h.decideAt(5*time.Second, bob, approve, "")
			o := h.revokeAt(tc.at, tc.actor, tc.operator)
			h.run()
			rejected(t, o, tc.errType, tc.contains)
		})
	}
}

func TestRevokeWhileActivating(t *testing.T) {
	tests := []struct {
		name     string
		delay    time.Duration
		answered workflows.Status
	}{
		{"activation ends within the update's wait", 20 * time.Second, api.StatusRevoked},
		{"activation outlasts the update's wait", 2 * time.Minute, api.StatusActivating},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, breakGlassInput())
			h.activateDelay = tc.delay
			o := h.revokeAt(10*time.Second, erin, false)
			r := h.run()

			require.Equal(t, tc.answered, accepted(t, o).Status)
			require.Equal(t, api.StatusRevoked, r.Status)
			require.Equal(t, t0.Add(tc.delay), *r.ActivatedAt)
			require.Equal(t, t0.Add(tc.delay), *r.EndedAt, "the role is removed as soon as activation finishes")
			require.Len(t, h.removals, 1)
		})
	}
}

func TestExpiryRemovesOnce(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	r := h.run()
	require.Equal(t, api.StatusExpired, r.Status)
	require.Len(t, h.removals, 1)
	require.Equal(t, graph.Assignment{PrincipalID: erin.ID, RoleDefinitionID: h.in.Target.RoleDefinitionID, DirectoryScopeID: "/"}, h.removals[0].Assignment)
	deact := h.audit.ofType(api.EventDeactivated)
	require.Len(t, deact, 1)
	require.Equal(t, "role removed: Graph request graph-deactivate (status Revoked)", deact[0].Detail)
	require.Len(t, h.emailsOf(activities.MailExpired), 1)
}

func TestActivationFailure(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		attempts int
		reason   string
		// cleanup: an attempt may have assigned the role, so it is removed.
		cleanup bool
	}{
		{"rejected by Graph", temporal.NewApplicationError("principal not eligible", graph.ErrRejected), 1, "principal not eligible", false},
		{"retries run out", errors.New("graph unavailable"), 0, "graph unavailable", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, readerInput())
			h.activate = func(int) (graph.ActivateResult, error) { return graph.ActivateResult{}, tc.err }
			h.decideAt(5*time.Second, bob, approve, "")
			r := h.run()

			require.Equal(t, api.StatusFailed, r.Status)
			require.Equal(t, "activation failed: "+tc.reason, r.Reason)
			require.Nil(t, r.ActivatedAt)
			require.NotNil(t, r.EndedAt)
			if tc.attempts > 0 {
				require.Len(t, h.activations, tc.attempts, "a Graph rejection is not retried")
			} else {
				require.Greater(t, len(h.activations), 5, "transient errors are retried until the ten minutes run out")
			}
			require.Len(t, h.emailsOf(activities.MailFailed), 1)
			if !tc.cleanup {
				require.Empty(t, h.removals, "a refusal assigned nothing, and what Graph refused over may not be ours to remove")
				require.Equal(t, []string{api.EventRequested, api.EventApproved, api.EventFailed}, h.audit.types())
				return
			}
			require.Len(t, h.removals, 1, "a failed activation removes whatever an attempt may have assigned")
			require.Contains(t, h.removals[0].Reason, "cleanup after failed activation")
			require.Equal(t, []string{
				api.EventRequested, api.EventApproved, api.EventFailed, api.EventDeactivated,
			}, h.audit.types())
		})
	}
}

func TestDeactivation(t *testing.T) {
	// The test environment caps "unlimited" retries at 10 attempts;
	// TestActivityOptions checks that production sets no limit.
	t.Run("retried after transient errors", func(t *testing.T) {
		h := newHarness(t, breakGlassInput())
		h.noEndNotice = true // the request releases the role itself
		ok := h.deactivate
		h.deactivate = func(n int) (graph.DeactivateResult, error) {
			if n <= 8 {
				return graph.DeactivateResult{}, errors.New("503 service unavailable")
			}
			return ok(n)
		}
		r := h.run()
		require.Equal(t, api.StatusExpired, r.Status)
		require.Len(t, h.removals, 9)
		// Without the end notice the request releases EndNoticeWait past
		// its end; the release's retries wait 1s, 2s, 4s ... 32s, then the
		// 1m cap twice: 3m3s.
		require.Equal(t, r.ExpiresAt.Add(workflows.EndNoticeWait+183*time.Second), *r.EndedAt)
	})
	t.Run("already gone", func(t *testing.T) {
		h := newHarness(t, breakGlassInput())
		h.deactivate = func(int) (graph.DeactivateResult, error) {
			return graph.DeactivateResult{AlreadyGone: true}, nil
		}
		r := h.run()
		require.Equal(t, api.StatusExpired, r.Status)
		require.Equal(t, "the role was already gone", h.audit.ofType(api.EventDeactivated)[0].Detail)
	})
	t.Run("refused by Graph", func(t *testing.T) {
		h := newHarness(t, breakGlassInput())
		h.deactivate = func(int) (graph.DeactivateResult, error) {
			return graph.DeactivateResult{}, temporal.NewNonRetryableApplicationError("role not assigned to principal", graph.ErrRejected, nil)
		}
		r := h.run()
		require.Equal(t, api.StatusFailed, r.Status)
		require.Equal(t, "removing the role failed: role not assigned to principal; Entra ends the assignment by itself at 2036-11-26T09:30:00Z", r.Reason)
		require.Len(t, h.removals, 1)
		require.Len(t, h.emailsOf(activities.MailFailed), 1)
	})
}

func TestCleanupRemovalRefused(t *testing.T) {
	h := newHarness(t, readerInput())
	h.activate = func(int) (graph.ActivateResult, error) {
		return graph.ActivateResult{}, errors.New("graph unavailable")
	}
	h.deactivate = func(int) (graph.DeactivateResult, error) {
		return graph.DeactivateResult{}, temporal.NewNonRetryableApplicationError("no such assignment", graph.ErrRejected, nil)
	}
	h.decideAt(5*time.Second, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	require.Equal(t, "activation failed: graph unavailable", r.Reason)
	failed := h.audit.ofType(api.EventFailed)
	require.Len(t, failed, 2)
	require.Equal(t, "removing any assignment left by the failed activation also failed: no such assignment", failed[1].Detail)
}

func TestActivationRetriedThenActive(t *testing.T) {
	h := newHarness(t, readerInput())
	ok := h.activate
	h.activate = func(n int) (graph.ActivateResult, error) {
		if n < 3 {
			return graph.ActivateResult{}, errors.New("429 too many requests")
		}
		return ok(n)
	}
	h.decideAt(5*time.Second, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	require.Len(t, h.activations, 3)
	// The fast local attempt fails over to the activity at once, whose
	// retry waits 1s: the grant starts when the third attempt lands.
	require.Equal(t, t0.Add(6*time.Second), r.ActivatedAt.UTC())
}

func TestWorkflowCancellation(t *testing.T) {
	t.Run("while active", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(5*time.Second, bob, approve, "")
		h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 10*time.Minute)
		r := h.run()

		require.Equal(t, api.StatusRevoked, r.Status)
		require.Contains(t, r.Reason, "cancelled in Temporal")
		require.Len(t, h.removals, 1, "cancelling the workflow still removes the role")
		ev := h.audit.ofType(api.EventRevoked)
		require.Len(t, ev, 1)
		require.Equal(t, api.ActorSystem, ev[0].Actor)
		require.Len(t, h.emailsOf(activities.MailRevoked), 1)
	})
	t.Run("while activating", func(t *testing.T) {
		h := newHarness(t, breakGlassInput())
		h.activateDelay = time.Minute
		h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 30*time.Second)
		r := h.run()

		require.Equal(t, api.StatusRevoked, r.Status)
		require.Len(t, h.removals, 1)
	})
	t.Run("while pending", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 5*time.Second)
		r := h.run()

		require.Equal(t, api.StatusCanceled, r.Status)
		require.Empty(t, h.activations)
		require.Empty(t, h.removals, "a pending request never touched Graph")
		require.Len(t, h.emailsOf(activities.MailCanceled), 1, "the requester learns the request was canceled")
	})
}

// TestApprovalAnswersWithActivation: the approval that settles the last
// stage answers with the activation's outcome when it comes within the
// same workflow task, and with activating once the hold waits on Graph.
func TestApprovalAnswersWithActivation(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		slow   bool // the quick hold fails, so the wait moves to an activity
		answer workflows.Status
		reason string
	}{
		{"quick activation", nil, false, api.StatusActive, ""},
		{"Graph refuses", temporal.NewApplicationError("principal not eligible", graph.ErrRejected), false, api.StatusFailed, "activation failed: principal not eligible"},
		{"Graph is slow", nil, true, api.StatusActivating, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, readerInput())
			if tc.err != nil {
				h.activate = func(int) (graph.ActivateResult, error) { return graph.ActivateResult{}, tc.err }
			}
			holds := 0
			if tc.slow {
				h.hold = func(in assignments.HoldInput) (assignments.HoldResult, error) {
					if holds++; holds == 1 {
						return assignments.HoldResult{}, errors.New("Graph answered 503")
					}
					return assignments.HoldResult{Until: t0.Add(5*time.Second + in.Duration), EntraEnd: t0.Add(5*time.Second + in.Duration)}, nil
				}
			}
			o := h.decideAt(5*time.Second, bob, approve, "")
			r := h.run()

			got := accepted(t, o)
			require.Equal(t, tc.answer, got.Status)
			require.Equal(t, tc.reason, got.Reason)
			if tc.err == nil {
				require.Equal(t, api.StatusExpired, r.Status)
			}
		})
	}
}

func TestGrantClockStartsAtActivation(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	h.activateDelay = 2 * time.Minute
	r := h.run()

	require.Equal(t, t0.Add(2*time.Minute), *r.ActivatedAt)
	require.Equal(t, t0.Add(2*time.Minute+30*time.Minute), *r.ExpiresAt)
	require.Equal(t, *r.ExpiresAt, *r.EndedAt)
}

func TestBreakGlass(t *testing.T) {
	h := newHarness(t, breakGlassInput())
	during := h.queryAt(time.Minute)
	r := h.run()

	require.Equal(t, api.StatusActive, during.Status, during.Reason)
	require.Equal(t, 0, during.Stage)
	require.Equal(t, api.StatusExpired, r.Status)
	require.Empty(t, r.Decisions)
	require.True(t, r.BreakGlass)
	bg := h.emailsOf(activities.MailBreakGlass)
	require.Len(t, bg, 1)
	require.Equal(t, []string{dave.UPN}, recipientsOf(bg[0]))
	require.Equal(t, erin.UPN, bg[0].Request.Requester)
	var sawNotice bool
	for _, ev := range h.audit.ofType(api.EventNotified) {
		sawNotice = sawNotice || ev.Detail == "break_glass email to dave@example.com sent"
	}
	require.True(t, sawNotice, "the break-glass notice is in the audit trail")
	require.Equal(t, []string{
		api.EventRequested, api.EventActivated, api.EventDeactivated, api.EventExpired,
	}, h.audit.types())
}

func TestQueryView(t *testing.T) {
	h := newHarness(t, readerInput())
	start := h.queryAt(time.Second)
	escalated := h.queryAt(25 * time.Second)
	h.decideAt(30*time.Second, carol, approve, "fine")
	active := h.queryAt(time.Minute)
	h.run()

	require.Equal(t, workflows.Request{
		ID:               "req-reader",
		Status:           api.StatusPending,
		Requester:        alice.UPN,
		RequesterID:      alice.ID,
		Role:             "reader",
		RoleDefinitionID: h.in.Target.RoleDefinitionID,
		DirectoryScopeID: "/",
		Duration:         "1h0m0s",
		DurationSeconds:  3600,
		Justification:    h.in.Justification,
		CreatedAt:        t0,
		Stage:            1,
		Stages:           1,
		Tier:             1,
		Approvers:        []workflows.Approver{{Approver: bob.UPN, ApproverID: bob.ID}},
		EscalatesAt:      ptr(t0.Add(20 * time.Second)),
		Decisions:        []workflows.Decision{},
	}, *start)
	require.Equal(t, 2, escalated.Tier)
	require.Equal(t, []workflows.Approver{{Approver: bob.UPN, ApproverID: bob.ID}, {Approver: carol.UPN, ApproverID: carol.ID}}, escalated.Approvers)
	require.Equal(t, t0.Add(80*time.Second), *escalated.EscalatesAt)

	require.Equal(t, api.StatusActive, active.Status, active.Reason)
	require.Equal(t, 0, active.Stage)
	require.Empty(t, active.Approvers)
	require.Nil(t, active.EscalatesAt)
	require.Equal(t, t0.Add(30*time.Second), *active.ActivatedAt)
	require.Equal(t, t0.Add(30*time.Second+time.Hour), *active.ExpiresAt)
	require.Nil(t, active.EndedAt)
}

func TestNewRequest(t *testing.T) {
	r := workflows.NewRequest(readerInput())
	require.Equal(t, api.StatusPending, r.Status)
	require.Equal(t, 1, r.Stage)
	require.Equal(t, 1, r.Tier)
	require.Equal(t, []workflows.Approver{{Approver: bob.UPN, ApproverID: bob.ID}}, r.Approvers)
	require.NotNil(t, r.Decisions)

	bg := workflows.NewRequest(breakGlassInput())
	require.Equal(t, api.StatusActivating, bg.Status)
	require.Equal(t, 0, bg.Stage)
	require.Empty(t, bg.Approvers)
}

func TestEmailFailureDoesNotFailRequest(t *testing.T) {
	h := newHarness(t, readerInput())
	h.sendEmail = func(in activities.EmailInput) error {
		if in.Kind == activities.MailApprovalNeeded {
			return temporal.NewNonRetryableApplicationError("mailbox unknown", "MailRejected", nil)
		}
		return nil
	}
	h.decideAt(5*time.Second, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	var failed []string
	for _, ev := range h.audit.ofType(api.EventNotified) {
		if strings.Contains(ev.Detail, "failed") {
			failed = append(failed, ev.Detail)
		}
	}
	require.Len(t, failed, 1)
	require.Contains(t, failed[0], "approval_needed email to bob@example.com failed: ")
	require.Contains(t, failed[0], "mailbox unknown")
}

func TestEmailKeysAreUnique(t *testing.T) {
	h := newHarness(t, adminInput())
	h.decideAt(25*time.Second, carol, approve, "")
	h.decideAt(30*time.Second, dave, approve, "")
	h.revokeAt(time.Minute, alice, false)
	h.run()

	seen := map[string]bool{}
	for _, e := range h.emails {
		require.False(t, seen[e.Key], "key %s used twice", e.Key)
		seen[e.Key] = true
		require.True(t, strings.HasPrefix(e.Key, "req-admin/"+e.Kind+"/"), e.Key)
	}
	require.Len(t, seen, 7)
}

func TestInvalidPlanFails(t *testing.T) {
	in := readerInput()
	in.Stages[0].Tiers[1].Timeout = 0
	in.Stages[0].Approvals = 3
	h := newHarness(t, in)
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	require.Contains(t, r.Reason, "stages[0].tiers[1].timeout must be positive, got 0s")
	require.Contains(t, r.Reason, "stages[0].approvals is 3 but only 2 distinct approvers other than the requester are listed")
	require.Empty(t, h.activations)
	require.Empty(t, h.removals)
}

func TestValidate(t *testing.T) {
	bad := readerInput()
	bad.BreakGlass = true
	bad.Duration = 0
	bad.Requester.ID = ""
	err := bad.Validate()
	require.ErrorContains(t, err, "stages must be empty for a break-glass request, got 1")
	require.ErrorContains(t, err, "duration must be positive, got 0s")
	require.ErrorContains(t, err, "requester.id (the Entra object id) is required")

	require.NoError(t, readerInput().Validate())
	require.NoError(t, adminInput().Validate())
	require.NoError(t, breakGlassInput().Validate())
	require.ErrorContains(t, workflows.AccessRequestInput{}.Validate(), "request_id is required")
}

func ptr[T any](v T) *T { return &v }
