package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/assignments"
	"github.com/jitflow/jitflow/workflows"
)

// noticedReaderInput is the reader role (a 1h grant) whose requester is
// told 10 minutes before the grant ends. Bob approves at 5s in the tests,
// so the grant ends at 1h0m5s and its notice is due at 50m5s.
func noticedReaderInput() workflows.AccessRequestInput {
	in := readerInput()
	in.EndNoticeBefore = 10 * time.Minute
	in.Extension = workflows.Extension{WithoutApprovalUpTo: 30 * time.Minute, MaxDuration: 8 * time.Hour}
	return in
}

const approvedAt = 5 * time.Second

// requireEndingSoon checks the notices sent: one per end, each to the
// requester alone, saying the end and the time left then.
func requireEndingSoon(t *testing.T, h *harness, ends ...time.Duration) {
	t.Helper()
	sent := h.emailsOf(activities.MailEndingSoon)
	require.Len(t, sent, len(ends))
	var at []time.Duration
	for i, e := range sent {
		require.Equal(t, []string{alice.UPN}, recipientsOf(e))
		require.Equal(t, t0.Add(ends[i]), e.Request.ExpiresAt.UTC(), "notice %d names the end", i+1)
		require.Equal(t, 10*time.Minute, e.Request.EndsIn, "notice %d says the time left", i+1)
		require.Equal(t, h.in.RequestID, e.Request.ID)
		require.Equal(t, h.in.BaseURL, e.BaseURL, "the email links to the request")
		require.True(t, e.LinkExpires.IsZero(), "nobody is asked to decide")
		at = append(at, ends[i]-10*time.Minute)
	}
	require.Equal(t, at, h.notifiedAt(activities.MailEndingSoon), "each notice goes 10 minutes before its end")
}

func TestEndingSoonNotice(t *testing.T) {
	h := newHarness(t, noticedReaderInput())
	h.decideAt(approvedAt, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	end := approvedAt + time.Hour
	require.Equal(t, t0.Add(end), r.EndedAt.UTC(), "the notice does not move the end")
	requireEndingSoon(t, h, end)
	// approved and active leave in the same workflow task, as two
	// activities that run in either order.
	kinds := h.kinds()
	require.Len(t, kinds, 5)
	require.Equal(t, activities.MailApprovalNeeded, kinds[0])
	require.ElementsMatch(t, []string{activities.MailApproved, activities.MailActive}, kinds[1:3])
	require.Equal(t, []string{activities.MailEndingSoon, activities.MailExpired}, kinds[3:])
}

// A notice the mailer keeps failing costs an audit entry, not the grant's
// end: the role is removed on time.
func TestEndingSoonFailingDoesNotDelayTheEnd(t *testing.T) {
	h := newHarness(t, noticedReaderInput())
	h.sendEmail = func(in activities.EmailInput) error {
		if in.Kind == activities.MailEndingSoon {
			return errors.New("mailer down")
		}
		return nil
	}
	h.decideAt(approvedAt, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	require.Equal(t, t0.Add(approvedAt+time.Hour), r.EndedAt.UTC())
	require.Len(t, h.emailsOf(activities.MailEndingSoon), 5, "the activity's attempts")
	var failed []string
	for _, e := range h.audit.ofType(api.EventNotified) {
		if strings.HasPrefix(e.Detail, activities.MailEndingSoon+" email to alice@example.com failed") {
			failed = append(failed, e.Detail)
		}
	}
	require.Len(t, failed, 1, "the trail says the notice failed")
}

// An extension before the notice moves it to the new end; one after it
// arms a notice for the new end too.
func TestEndingSoonReArmedByExtension(t *testing.T) {
	t.Run("before the notice", func(t *testing.T) {
		h := newHarness(t, noticedReaderInput())
		h.decideAt(approvedAt, bob, approve, "")
		ask := extendAt(h, 20*time.Minute, alice, 30*time.Minute)
		r := h.run()

		accepted(t, ask)
		end := approvedAt + 90*time.Minute
		require.Equal(t, t0.Add(end), r.EndedAt.UTC())
		requireEndingSoon(t, h, end)
	})
	t.Run("after the notice", func(t *testing.T) {
		h := newHarness(t, noticedReaderInput())
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 55*time.Minute, alice, 30*time.Minute)
		r := h.run()

		first, second := approvedAt+time.Hour, approvedAt+90*time.Minute
		require.Equal(t, t0.Add(second), r.EndedAt.UTC())
		requireEndingSoon(t, h, first, second)
	})
	t.Run("twice", func(t *testing.T) {
		h := newHarness(t, noticedReaderInput())
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 55*time.Minute, alice, 30*time.Minute)
		extendAt(h, 85*time.Minute, alice, 15*time.Minute)
		r := h.run()

		ends := []time.Duration{approvedAt + time.Hour, approvedAt + 90*time.Minute, approvedAt + 105*time.Minute}
		require.Equal(t, t0.Add(ends[2]), r.EndedAt.UTC())
		requireEndingSoon(t, h, ends...)
	})
}

// An extension granted after its new end's notice time already passed
// (here 55m5s, the approval at 55m10s)
// sends no late notice: the extension_granted email tells that end.
func TestEndingSoonNotSentLate(t *testing.T) {
	in := noticedReaderInput()
	in.Extension.WithoutApprovalUpTo = 0
	h := newHarness(t, in)
	h.decideAt(approvedAt, bob, approve, "")
	extendAt(h, 55*time.Minute, alice, 5*time.Minute)
	h.decideAt(55*time.Minute+10*time.Second, bob, approve, "")
	r := h.run()

	end := approvedAt + 65*time.Minute
	require.Equal(t, t0.Add(end), r.EndedAt.UTC())
	requireEndingSoon(t, h, approvedAt+time.Hour)
	granted := h.emailsOf(activities.MailExtensionGranted)
	require.Len(t, granted, 1)
	require.Equal(t, t0.Add(end), granted[0].Request.ExpiresAt.UTC())
}

// A revoke before the notice cancels it; after it, nothing more is sent.
func TestEndingSoonNotSentAfterRevoke(t *testing.T) {
	for name, at := range map[string]time.Duration{"before the notice": 30 * time.Minute, "after the notice": 55 * time.Minute} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, noticedReaderInput())
			h.decideAt(approvedAt, bob, approve, "")
			h.revokeAt(at, alice, false)
			r := h.run()

			require.Equal(t, api.StatusRevoked, r.Status)
			require.Equal(t, t0.Add(at), r.EndedAt.UTC())
			if at < 50*time.Minute {
				requireEndingSoon(t, h)
			} else {
				requireEndingSoon(t, h, approvedAt+time.Hour)
			}
		})
	}
}

// The assignment workflow ending the grant early (the role gone) cancels
// the notice.
func TestEndingSoonNotSentAfterTheRoleIsLost(t *testing.T) {
	in := noticedReaderInput()
	h := newHarness(t, in)
	h.decideAt(approvedAt, bob, approve, "")
	h.env.RegisterDelayedCallback(func() {
		h.notice(assignments.RemovalProgress{Reassigned: &assignments.Reassignment{Failure: "assigning the role again failed"}})
	}, 20*time.Minute)
	r := h.run()

	require.Equal(t, api.StatusFailed, r.Status)
	requireEndingSoon(t, h)
}

// No notice when the plan asks for none, or when the lead time is not
// shorter than the grant.
func TestEndingSoonNone(t *testing.T) {
	tests := []struct {
		name   string
		in     workflows.AccessRequestInput
		before time.Duration
	}{
		{"no notice", readerInput(), 0},
		{"as long as the grant", readerInput(), time.Hour},
		{"longer than the grant", readerInput(), 2 * time.Hour},
		{"longer than a break-glass grant", breakGlassInput(), 31 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.EndNoticeBefore = tt.before
			h := newHarness(t, tt.in)
			if !tt.in.BreakGlass {
				h.decideAt(approvedAt, bob, approve, "")
			}
			r := h.run()

			require.Equal(t, api.StatusExpired, r.Status)
			require.Empty(t, h.emailsOf(activities.MailEndingSoon))
		})
	}
}

// A break-glass grant (30m, active at once) is noticed like any other.
func TestEndingSoonBreakGlass(t *testing.T) {
	in := breakGlassInput()
	in.EndNoticeBefore = 10 * time.Minute
	h := newHarness(t, in)
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	sent := h.emailsOf(activities.MailEndingSoon)
	require.Len(t, sent, 1)
	require.Equal(t, []string{erin.UPN}, recipientsOf(sent[0]), "the requester, not the security list")
	require.Equal(t, []time.Duration{20 * time.Minute}, h.notifiedAt(activities.MailEndingSoon))
}

// A grant too short for its notice gets one once an extension makes it
// longer than the lead time.
func TestEndingSoonOnceTheGrantIsLongEnough(t *testing.T) {
	in := noticedReaderInput()
	in.EndNoticeBefore = time.Hour
	h := newHarness(t, in)
	h.decideAt(approvedAt, bob, approve, "")
	extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	r := h.run()

	end := approvedAt + 90*time.Minute
	require.Equal(t, t0.Add(end), r.EndedAt.UTC())
	sent := h.emailsOf(activities.MailEndingSoon)
	require.Len(t, sent, 1)
	require.Equal(t, time.Hour, sent[0].Request.EndsIn)
	require.Equal(t, []time.Duration{end - time.Hour}, h.notifiedAt(activities.MailEndingSoon))
}

// A hold begun before ChangeEndingSoon keeps its commands: no timer, no
// notice.
func TestEndingSoonOldHold(t *testing.T) {
	h := newHarness(t, noticedReaderInput())
	// A request started before StartProofLean asks GetVersion for each change.
	h.env.OnGetVersion(workflows.ChangeStartProof, workflow.DefaultVersion, workflows.StartProofInline).Return(workflow.Version(1))
	h.env.OnGetVersion(workflows.ChangeEndingSoon, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.decideAt(approvedAt, bob, approve, "")
	r := h.run()

	require.Equal(t, api.StatusExpired, r.Status)
	requireEndingSoon(t, h)
}

func TestEndNoticeBeforeMustNotBeNegative(t *testing.T) {
	in := readerInput()
	in.EndNoticeBefore = -time.Minute
	require.ErrorContains(t, in.Validate(), "end_notice_before must be 0 (no notice) or positive, got -1m0s")
}

// requireExtensionEmail checks the one email of kind about extension 1:
// to the requester alone, naming the extension, the grant's end, and
// who decided and why.
func requireExtensionEmail(t *testing.T, h *harness, kind string, end time.Duration, actor, reason string) {
	t.Helper()
	sent := h.emailsOf(kind)
	require.Len(t, sent, 1, kind)
	e := sent[0]
	require.Equal(t, []string{alice.UPN}, recipientsOf(e))
	require.Equal(t, h.in.RequestID+"/"+kind+"/x1", e.Key)
	require.Equal(t, 1, e.Request.Extension)
	require.Equal(t, 30*time.Minute, e.Request.ExtensionDuration)
	require.Equal(t, t0.Add(end), e.Request.ExpiresAt.UTC())
	require.Equal(t, actor, e.Request.Actor)
	require.Equal(t, reason, e.Request.Reason)
	require.True(t, e.LinkExpires.IsZero())
	for _, other := range []string{activities.MailExtensionGranted, activities.MailExtensionDenied, activities.MailExtensionTimedOut, activities.MailExtensionRefused} {
		if other != kind {
			require.Empty(t, h.emailsOf(other), "only %s is sent", kind)
		}
	}
}

// The requester is emailed how every extension ended.
func TestExtensionOutcomeEmails(t *testing.T) {
	end := approvedAt + time.Hour
	t.Run("granted after approval", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
		h.decideAt(11*time.Minute, bob, approve, "ok")
		h.run()
		requireExtensionEmail(t, h, activities.MailExtensionGranted, end+30*time.Minute, "", "")
		require.Equal(t, []time.Duration{11 * time.Minute}, h.notifiedAt(activities.MailExtensionGranted))
	})
	t.Run("granted without approval", func(t *testing.T) {
		h := newHarness(t, noticedReaderInput())
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
		h.run()
		requireExtensionEmail(t, h, activities.MailExtensionGranted, end+30*time.Minute, "", "")
	})
	t.Run("denied", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
		h.decideAt(11*time.Minute, bob, deny, "finish it tomorrow")
		r := h.run()
		require.Equal(t, t0.Add(end), r.EndedAt.UTC())
		requireExtensionEmail(t, h, activities.MailExtensionDenied, end, bob.UPN, "finish it tomorrow")
	})
	t.Run("timed out", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
		h.run()
		requireExtensionEmail(t, h, activities.MailExtensionTimedOut, end, "",
			"no decision in stage 1 (team lead) before its last tier ran out, 1m20s after the stage began")
		require.Equal(t, []time.Duration{10*time.Minute + 80*time.Second}, h.notifiedAt(activities.MailExtensionTimedOut))
	})
	t.Run("nobody to ask", func(t *testing.T) {
		h := groupGoneForExtensions(t)
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
		h.run()
		requireExtensionEmail(t, h, activities.MailExtensionRefused, end, "",
			"stage 1 (team lead) has nobody to ask: group "+groupLeads+" does not exist in the directory")
	})
	t.Run("Entra's end not moved", func(t *testing.T) {
		h := newHarness(t, noticedReaderInput())
		h.hold = func(in assignments.HoldInput) (assignments.HoldResult, error) {
			if !in.Until.IsZero() {
				return assignments.HoldResult{Failure: "Graph refused the new end"}, nil
			}
			until := h.env.Now().Add(in.Duration)
			h.noticeEndAt(until)
			return assignments.HoldResult{Until: until, EntraEnd: until}, nil
		}
		h.decideAt(approvedAt, bob, approve, "")
		extendAt(h, 10*time.Minute, alice, 30*time.Minute)
		r := h.run()
		require.Equal(t, t0.Add(end), r.EndedAt.UTC())
		requireExtensionEmail(t, h, activities.MailExtensionRefused, end, "", "Graph refused the new end")
		requireEndingSoon(t, h, end)
	})
}

// Extensions settled before ChangeExtensionOutcomeEmails told nobody.
func TestExtensionOutcomeEmailsOldVersion(t *testing.T) {
	h := newHarness(t, readerInput())
	// A request started before StartProofLean asks GetVersion for each change.
	h.env.OnGetVersion(workflows.ChangeStartProof, workflow.DefaultVersion, workflows.StartProofInline).Return(workflow.Version(1))
	h.env.OnGetVersion(workflows.ChangeExtensionOutcomeEmails, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.decideAt(approvedAt, bob, approve, "")
	extendAt(h, 10*time.Minute, alice, 30*time.Minute)
	h.decideAt(11*time.Minute, bob, deny, "no")
	h.run()
	for _, kind := range []string{activities.MailExtensionGranted, activities.MailExtensionDenied, activities.MailExtensionTimedOut, activities.MailExtensionRefused} {
		require.Empty(t, h.emailsOf(kind))
	}
	require.Len(t, h.audit.ofType(api.EventExtensionRefused), 1, "the trail keeps the outcome")
}
