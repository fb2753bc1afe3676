package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// remindingReaderInput is the reader role with reminders: 5s before bob's
// 20s run out, 15s before the last 60s tier runs out.
func remindingReaderInput() workflows.AccessRequestInput {
	in := readerInput()
	in.Stages[0].Tiers[0].RemindBefore = 5 * time.Second
	in.Stages[0].Tiers[1].RemindBefore = 15 * time.Second
	return in
}

// notifiedAt is when the audit trail recorded an email of kind as sent.
func (h *harness) notifiedAt(kind string) []time.Duration {
	var out []time.Duration
	for _, e := range h.audit.ofType(api.EventNotified) {
		if strings.HasPrefix(e.Detail, kind+" email to ") {
			out = append(out, e.Time.Sub(t0))
		}
	}
	return out
}

// Approval links live until the stage's last tier runs out: an approver of
// an earlier tier may still decide after an escalation.
func TestApprovalLinksExpireWithTheStage(t *testing.T) {
	h := newHarness(t, adminInput())
	h.decideAt(25*time.Second, carol, approve, "")
	h.run()
	asked := h.emailsOf(activities.MailApprovalNeeded)
	require.Len(t, asked, 2)
	require.Equal(t, t0.Add(80*time.Second), asked[0].LinkExpires)
	require.Equal(t, t0.Add(25*time.Second+time.Hour), asked[1].LinkExpires, "stage 2 began with carol's approval")
	require.Equal(t, t0.Add(80*time.Second), h.emailsOf(activities.MailEscalated)[0].LinkExpires)
	for _, e := range h.emailsOf(activities.MailApproved) {
		require.True(t, e.LinkExpires.IsZero(), "emails to the requester carry no link")
	}
	for _, e := range h.emails {
		if activities.AsksDecision(e.Kind) {
			require.Equal(t, alice.ID, e.Request.RequesterID)
			require.NotContains(t, recipientsOf(e), alice.UPN)
		}
	}
}

func TestNoReminderOnceTheStageIsDecided(t *testing.T) {
	h := newHarness(t, remindingReaderInput())
	h.decideAt(10*time.Second, bob, approve, "")
	r := h.run()
	require.Equal(t, api.StatusExpired, r.Status)
	require.Empty(t, h.emailsOf(activities.MailReminder))
}

func TestRemindBeforeMustFitTheTier(t *testing.T) {
	for _, before := range []time.Duration{-time.Second, 20 * time.Second, time.Minute} {
		in := readerInput()
		in.Stages[0].Tiers[0].RemindBefore = before
		require.ErrorContains(t, in.Validate(), "stages[0].tiers[0].remind_before must be 0 (no reminder) or less than the tier's timeout 20s")
	}
}
