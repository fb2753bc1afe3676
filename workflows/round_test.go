package workflows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// roundKind is one thing an approval round decides: the request itself,
// or an extension of its grant. Every test below runs once per kind, with
// the round beginning at base on the workflow clock.
type roundKind struct {
	name string
	ext  int // the extension the round decides; 0 for the request
	base time.Duration
	// begin brings the request to where the round begins.
	begin func(h *harness)
}

var roundKinds = []roundKind{
	{name: "request"},
	{name: "extension", ext: 1, base: 10 * time.Minute, begin: func(h *harness) {
		for i, st := range h.in.Stages {
			for j := range st.Approvals {
				h.decideAt(time.Duration(10*i+j+1)*time.Second, st.Tiers[0].Approvers[j], approve, "")
			}
		}
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	}},
}

// forEachRound runs test once per kind of round.
func forEachRound(t *testing.T, test func(t *testing.T, k roundKind)) {
	for _, k := range roundKinds {
		t.Run(k.name, func(t *testing.T) { test(t, k) })
	}
}

func (k roundKind) harness(t *testing.T, in workflows.AccessRequestInput) *harness {
	t.Helper()
	h := newHarness(t, in)
	if k.begin != nil {
		k.begin(h)
	}
	return h
}

// decideAt sends an API decision at base+at: it goes to whatever waits.
func (k roundKind) decideAt(h *harness, at time.Duration, who workflows.Person, decision, comment string) *outcome {
	return h.decideAt(k.base+at, who, decision, comment)
}

func (k roundKind) subject() string {
	if k.ext > 0 {
		return fmt.Sprintf("extension %d of request req-reader", k.ext)
	}
	return "request req-reader"
}

// emails are the round's emails of one kind.
func (k roundKind) emails(h *harness, kind string) []activities.EmailInput {
	var out []activities.EmailInput
	for _, e := range h.emailsOf(kind) {
		if e.Request.Extension == k.ext {
			out = append(out, e)
		}
	}
	return out
}

// key is the email key of the round's tier.
func (k roundKind) key(kind string, stage, tier int) string {
	x := ""
	if k.ext > 0 {
		x = fmt.Sprintf("x%d/", k.ext)
	}
	return fmt.Sprintf("req-reader/%s/%ss%dt%d", kind, x, stage, tier)
}

// waiting is who the view says may decide the round, and until when the tier runs.
func (k roundKind) waiting(t *testing.T, r *workflows.Request) ([]workflows.Approver, time.Time) {
	t.Helper()
	require.Empty(t, r.Reason)
	approvers, at := r.Approvers, r.EscalatesAt
	if k.ext > 0 {
		require.NotNil(t, r.Extension)
		approvers, at = r.Extension.Approvers, r.Extension.EscalatesAt
	}
	require.NotNil(t, at)
	return approvers, at.UTC()
}

// decisions are the round's decisions.
func (k roundKind) decisions(r workflows.Request) []workflows.Decision {
	var out []workflows.Decision
	for _, d := range r.Decisions {
		if d.Extension == k.ext {
			out = append(out, d)
		}
	}
	return out
}

func (k roundKind) requireApproved(t *testing.T, r workflows.Request) {
	t.Helper()
	require.Equal(t, api.StatusExpired, r.Status)
	if k.ext > 0 {
		require.Equal(t, 1, r.Extensions)
		require.Equal(t, r.ActivatedAt.Add(time.Hour+30*time.Minute), *r.ExpiresAt, "30 minutes more")
		return
	}
	require.NotNil(t, r.ActivatedAt)
}

// requireEnded checks that the round ended without approval, for reason:
// the request in status st, or the extension refused (the grant keeps its end).
func (k roundKind) requireEnded(t *testing.T, h *harness, r workflows.Request, st workflows.Status, reason string) {
	t.Helper()
	if k.ext > 0 {
		require.Equal(t, api.StatusExpired, r.Status)
		require.Zero(t, r.Extensions)
		refused := h.audit.ofType(api.EventExtensionRefused)
		require.Len(t, refused, 1)
		require.Equal(t, fmt.Sprintf("extension %d: %s", k.ext, reason), refused[0].Detail)
		return
	}
	require.Equal(t, st, r.Status)
	require.Equal(t, reason, r.Reason)
	require.Empty(t, h.activations)
	require.Nil(t, r.EscalatesAt)
	require.Empty(t, r.Approvers)
	mail := map[workflows.Status]string{api.StatusDenied: activities.MailDenied, api.StatusTimedOut: activities.MailTimedOut}[st]
	told := h.emailsOf(mail)
	require.Len(t, told, 1)
	require.Equal(t, []string{alice.UPN}, recipientsOf(told[0]))
}

// notifiedAt is when the round's emails of kind went out, from its start.
func (k roundKind) notifiedAt(h *harness, kind string) []time.Duration {
	var out []time.Duration
	for _, at := range h.notifiedAt(kind) {
		out = append(out, at-k.base)
	}
	return out
}

// Two of three approve; a partial approval leaves the others asked and the
// tier's clock as it was.
func TestRoundQuorum(t *testing.T) {
	forEachRound(t, func(t *testing.T, k roundKind) {
		h := k.harness(t, twoOfThreeInput())
		first := k.decideAt(h, 5*time.Second, bob, approve, "")
		mid := h.queryAt(k.base + 6*time.Second)
		second := k.decideAt(h, 7*time.Second, dave, approve, "")
		late := k.decideAt(h, 8*time.Second, carol, approve, "")
		r := h.run()

		accepted(t, first)
		approvers, escalates := k.waiting(t, mid)
		require.Equal(t, []workflows.Approver{{Approver: carol.UPN, ApproverID: carol.ID}, {Approver: dave.UPN, ApproverID: dave.ID}},
			approvers, "bob decided, so only carol and dave may still decide")
		require.Equal(t, t0.Add(k.base+time.Hour), escalates, "a partial approval does not restart the tier's clock")
		accepted(t, second)
		rejected(t, late, workflows.ErrConflict, "is active; decisions are accepted only while it is pending_approval")
		k.requireApproved(t, r)
		require.Len(t, k.decisions(r), 2)
	})
}

// A silent first tier escalates: an audit event, an email to the new tier,
// one to the requester; earlier approvers may still decide, and links live
// until the stage's last tier runs out.
func TestRoundEscalation(t *testing.T) {
	for _, who := range []workflows.Person{carol, bob} {
		t.Run(who.UPN, func(t *testing.T) {
			forEachRound(t, func(t *testing.T, k roundKind) {
				h := k.harness(t, readerInput())
				o := k.decideAt(h, 25*time.Second, who, approve, "")
				r := h.run()

				accepted(t, o)
				k.requireApproved(t, r)
				require.Equal(t, who.UPN, k.decisions(r)[0].Approver)
				escalated := h.audit.ofType(api.EventEscalated)
				require.Len(t, escalated, 1)
				require.Equal(t, api.ActorSystem, escalated[0].Actor)
				require.Equal(t, t0.Add(k.base+20*time.Second), escalated[0].Time.UTC())
				require.Contains(t, escalated[0].Detail, "stage 1 (team lead): no decision within 20s at tier 1; tier 2 (carol@example.com) may decide now")

				asked := k.emails(h, activities.MailApprovalNeeded)
				require.Len(t, asked, 1)
				require.Equal(t, []string{bob.UPN}, recipientsOf(asked[0]))
				require.Equal(t, k.key(activities.MailApprovalNeeded, 1, 1), asked[0].Key)
				require.Equal(t, t0.Add(k.base+80*time.Second), asked[0].LinkExpires.UTC())

				esc := k.emails(h, activities.MailEscalated)
				require.Len(t, esc, 1)
				require.Equal(t, []string{carol.UPN}, recipientsOf(esc[0]))
				require.Equal(t, k.key(activities.MailEscalated, 1, 2), esc[0].Key)
				require.Equal(t, "no decision within 20s at tier 1", esc[0].Request.Reason)
				require.Equal(t, "team lead", esc[0].Request.StageName)
				require.True(t, esc[0].Request.FinalTier)
				require.Equal(t, t0.Add(k.base+80*time.Second), esc[0].LinkExpires.UTC())

				told := k.emails(h, activities.MailRequesterEscalated)
				require.Len(t, told, 1)
				require.Equal(t, []string{alice.UPN}, recipientsOf(told[0]))
				require.Equal(t, k.key(activities.MailRequesterEscalated, 1, 2), told[0].Key)
				require.Contains(t, told[0].Request.Reason, "no decision within 20s at tier 1; now also asked: carol@example.com")
				require.True(t, told[0].LinkExpires.IsZero(), "the requester gets no link")
			})
		})
	}
}

// Nobody answers: each tier reminds who may still decide before it runs
// out, and the round times out after the last tier.
func TestRoundRemindersThenTimeout(t *testing.T) {
	forEachRound(t, func(t *testing.T, k roundKind) {
		h := k.harness(t, remindingReaderInput())
		r := h.run()

		k.requireEnded(t, h, r, api.StatusTimedOut, "no decision in stage 1 (team lead) before its last tier ran out, 1m20s after the stage began")
		require.Equal(t, []time.Duration{15 * time.Second, 65 * time.Second}, k.notifiedAt(h, activities.MailReminder))
		reminders := k.emails(h, activities.MailReminder)
		require.Len(t, reminders, 2)
		require.Equal(t, []string{bob.UPN}, recipientsOf(reminders[0]))
		require.Equal(t, k.key(activities.MailReminder, 1, 1), reminders[0].Key)
		require.Equal(t, t0.Add(k.base+20*time.Second), reminders[0].Request.EscalatesAt.UTC())
		require.False(t, reminders[0].Request.FinalTier)
		require.Equal(t, []string{bob.UPN, carol.UPN}, recipientsOf(reminders[1]), "everyone who may still decide")
		require.Equal(t, k.key(activities.MailReminder, 1, 2), reminders[1].Key)
		require.True(t, reminders[1].Request.FinalTier)
		require.Equal(t, t0.Add(k.base+80*time.Second), reminders[1].LinkExpires.UTC())
	})
}

// A reminder goes only to who has not decided, and none once the stage is decided.
func TestRoundRemindersSkipWhoDecided(t *testing.T) {
	forEachRound(t, func(t *testing.T, k roundKind) {
		in := twoOfThreeInput()
		in.Stages[0].Tiers[0].RemindBefore = 40 * time.Minute
		h := k.harness(t, in)
		k.decideAt(h, time.Minute, bob, approve, "")
		k.decideAt(h, 30*time.Minute, carol, approve, "")
		r := h.run()

		k.requireApproved(t, r)
		reminders := k.emails(h, activities.MailReminder)
		require.Len(t, reminders, 1)
		require.Equal(t, []string{carol.UPN, dave.UPN}, recipientsOf(reminders[0]))
		require.Equal(t, 1, reminders[0].Request.Approved)
		require.Equal(t, 2, reminders[0].Request.Approvals)
		require.Equal(t, []time.Duration{20 * time.Minute}, k.notifiedAt(h, activities.MailReminder))
	})
}

func TestRoundDenial(t *testing.T) {
	forEachRound(t, func(t *testing.T, k roundKind) {
		h := k.harness(t, readerInput())
		o := k.decideAt(h, 5*time.Second, bob, deny, "not during the freeze")
		r := h.run()

		accepted(t, o)
		k.requireEnded(t, h, r, api.StatusDenied, "denied by bob@example.com: not during the freeze")
		denied := h.audit.ofType(api.EventDenied)
		require.Len(t, denied, 1)
		require.Equal(t, bob.UPN, denied[0].Actor)
		require.Equal(t, bob.ID, denied[0].ActorID)
		require.Equal(t, t0.Add(k.base+5*time.Second), denied[0].Time.UTC())
	})
}

// Who may not decide, and why, in the same words for every round.
func TestRoundRefusals(t *testing.T) {
	tests := []struct {
		name     string
		in       func() workflows.AccessRequestInput
		at       time.Duration
		decide   workflows.DecideInput
		errType  string
		contains func(k roundKind) string
	}{
		{"self-approval", readerInput, time.Second, workflows.DecideInput{ApproverID: alice.ID, Decision: approve}, workflows.ErrForbidden,
			func(k roundKind) string {
				if k.ext > 0 {
					return "alice@example.com requested extension 1 of this access and cannot decide on it"
				}
				return "alice@example.com requested this access and cannot decide on it"
			}},
		{"not an approver", readerInput, time.Second, workflows.DecideInput{ApproverID: mallory.ID, Decision: approve}, workflows.ErrForbidden,
			func(k roundKind) string { return "oid-mallory is not an approver of " + k.subject() }},
		{"approver of a later stage", adminInput, time.Second, workflows.DecideInput{ApproverID: dave.ID, Decision: approve}, workflows.ErrForbidden,
			func(k roundKind) string {
				return "dave@example.com approves stage 2, not the current stage 1 (team lead) of " + strings.ReplaceAll(k.subject(), "req-reader", "req-admin")
			}},
		{"tier not reached", readerInput, 10 * time.Second, workflows.DecideInput{ApproverID: carol.ID, Decision: approve}, workflows.ErrForbidden,
			func(k roundKind) string {
				return "carol@example.com is an approver of tier 2 of stage 1, which is reached only by escalation (that stage of " + k.subject() + " is at tier 1)"
			}},
		{"stale stage", adminInput, time.Second, workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Stage: 2}, workflows.ErrConflict,
			func(k roundKind) string {
				return "the decision is for stage 2 but " + strings.ReplaceAll(k.subject(), "req-reader", "req-admin") + " is at stage 1"
			}},
		{"unknown decision", readerInput, time.Second, workflows.DecideInput{ApproverID: bob.ID, Decision: "maybe"}, workflows.ErrInvalid,
			func(roundKind) string { return `decision must be "approve" or "deny", got "maybe"` }},
		{"comment too long", readerInput, time.Second, workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Comment: strings.Repeat("é", 2001)}, workflows.ErrInvalid,
			func(roundKind) string { return "comment is 2001 characters long; at most 2000" }},
		{"missing approver", readerInput, time.Second, workflows.DecideInput{Decision: approve}, workflows.ErrInvalid,
			func(roundKind) string { return "approver_id is required" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			forEachRound(t, func(t *testing.T, k roundKind) {
				h := k.harness(t, tc.in())
				o := h.updateAt(k.base+tc.at, workflows.UpdateDecide, tc.decide)
				r := h.run()
				rejected(t, o, tc.errType, tc.contains(k))
				require.Empty(t, k.decisions(r), "a rejected update leaves no trace")
			})
		})
	}
}

// Each approver decides once per round, in whatever stage.
func TestRoundDecidesOncePerApprover(t *testing.T) {
	once := func(k roundKind) string {
		if k.ext > 0 {
			return "already decided (approve) in stage 1 of extension 1; each approver decides once per extension"
		}
		return "already decided (approve) in stage 1; each approver decides once per request"
	}
	t.Run("same stage", func(t *testing.T) {
		forEachRound(t, func(t *testing.T, k roundKind) {
			h := k.harness(t, twoOfThreeInput())
			first := k.decideAt(h, 5*time.Second, bob, approve, "")
			again := k.decideAt(h, 6*time.Second, bob, approve, "")
			k.decideAt(h, 7*time.Second, carol, approve, "")
			r := h.run()
			accepted(t, first)
			rejected(t, again, workflows.ErrConflict, "bob@example.com "+once(k))
			require.Len(t, k.decisions(r), 2)
		})
	})
	t.Run("later stage", func(t *testing.T) {
		forEachRound(t, func(t *testing.T, k roundKind) {
			in := adminInput()
			in.Stages[1].Tiers[0].Approvers = []workflows.Person{dave, bob}
			h := k.harness(t, in)
			k.decideAt(h, 5*time.Second, bob, approve, "")
			again := k.decideAt(h, 6*time.Second, bob, approve, "")
			h.run()
			rejected(t, again, workflows.ErrConflict, once(k))
		})
	})
}

// An extension asked for before ChangeExtensionRound keeps that version's
// commands: no reminder, the new tier asked with approval_needed, the
// requester not told of the escalation.
func TestOldExtensionRoundKeepsItsCommands(t *testing.T) {
	k := roundKinds[1]
	h := k.harness(t, remindingReaderInput())
	// A request started before StartProofLean asks GetVersion for each change.
	h.env.OnGetVersion(workflows.ChangeStartProof, workflow.DefaultVersion, workflows.StartProofInline).Return(workflow.Version(1))
	h.env.OnGetVersion(workflows.ChangeExtensionRound, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	r := h.run()

	k.requireEnded(t, h, r, api.StatusTimedOut, "no decision in stage 1 (team lead) before its last tier ran out, 1m20s after the stage began")
	require.Empty(t, k.emails(h, activities.MailReminder))
	require.Empty(t, k.emails(h, activities.MailEscalated))
	require.Empty(t, k.emails(h, activities.MailRequesterEscalated))
	asked := k.emails(h, activities.MailApprovalNeeded)
	require.Len(t, asked, 2)
	require.Equal(t, []string{carol.UPN}, recipientsOf(asked[1]))
	require.Equal(t, k.key(activities.MailApprovalNeeded, 1, 2), asked[1].Key)
	require.Len(t, h.audit.ofType(api.EventEscalated), 1)
}
