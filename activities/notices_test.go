package activities_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
)

// grantEmail is an email to the requester about an active grant of reader
// that ends at 10:00 UTC.
func grantEmail(kind string) activities.EmailInput {
	in := emailInput(kind, alice)
	end := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	r := &in.Request
	r.Stage, r.Stages, r.StageName, r.Approvals, r.Approvers, r.EscalatesAt = 0, 0, "", 0, nil, nil
	r.ExpiresAt = &end
	in.Key = "req-1/" + kind + "/7"
	in.LinkExpires = time.Time{}
	return in
}

// The notices about the end of a grant and its extensions say which role,
// when the grant ends, and how to ask for more time: the CLI, the API call
// and the request's URL.
func TestRenderGrantNotices(t *testing.T) {
	tests := []struct {
		kind, subject, lead string
		set                 func(r *activities.EmailRequest)
	}{
		{activities.MailEndingSoon, "Ending in 10m: reader",
			"Your grant of reader ends in 10m, at 2026-11-26 10:00:00 UTC.",
			func(r *activities.EmailRequest) { r.EndsIn = 9*time.Minute + 59*time.Second + 400*time.Millisecond }},
		{activities.MailExtensionGranted, "Extended: reader until 2026-11-26 10:00:00 UTC",
			"Extension 2 (30m more) was granted. The grant now ends at 2026-11-26 10:00:00 UTC.", nil},
		{activities.MailExtensionDenied, "Extension denied: reader",
			"Extension 2 (30m more) was denied by bob@example.com. The grant still ends at 2026-11-26 10:00:00 UTC.",
			func(r *activities.EmailRequest) { r.Actor, r.Reason = bob.UPN, "finish tomorrow" }},
		{activities.MailExtensionTimedOut, "Extension timed out: reader",
			"Nobody decided on extension 2 (30m more) before the last escalation tier ran out. The grant still ends at 2026-11-26 10:00:00 UTC.", nil},
		{activities.MailExtensionRefused, "Extension refused: reader",
			"Extension 2 (30m more) could not be granted; the reason is below. The grant still ends at 2026-11-26 10:00:00 UTC.",
			func(r *activities.EmailRequest) { r.Reason = "stage 1 (lead) has nobody to ask" }},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			in := grantEmail(tt.kind)
			if tt.kind != activities.MailEndingSoon {
				in.Request.Extension, in.Request.ExtensionDuration = 2, 30*time.Minute
			}
			if tt.set != nil {
				tt.set(&in.Request)
			}
			m, err := activities.Render(in)
			require.NoError(t, err)
			require.Equal(t, tt.subject, m.Subject)
			require.Equal(t, []string{alice.Email}, m.To, "the requester is told")
			require.Equal(t, tt.kind, m.Kind)
			for _, part := range []string{m.Text, m.HTML} {
				require.Contains(t, part, tt.lead)
				require.Contains(t, part, "jitflow extend req-1 --duration 30m")
				require.Contains(t, part, "POST http://127.0.0.1:8080/api/v1/requests/req-1/extend")
				require.Contains(t, part, "http://127.0.0.1:8080/api/v1/requests/req-1")
				require.NotContains(t, part, "/approve", "nobody is asked to decide")
			}
			require.True(t, strings.HasPrefix(m.Text, tt.lead), "the text begins with what happened")
			require.Contains(t, m.Text, "Role:          reader (f2ef992c)")
			require.Contains(t, m.Text, "Expires at:    2026-11-26 10:00:00 UTC")
			if in.Request.Extension > 0 {
				require.Contains(t, m.Text, "Extension:     2 (30m more)")
				require.Contains(t, m.HTML, "<th align=\"left\">Extension</th><td>2 (30m more)</td>")
			} else {
				require.NotContains(t, m.Text, "Extension:")
			}
			if in.Request.Reason != "" {
				require.Contains(t, m.Text, "Reason:        "+in.Request.Reason)
			}
		})
	}
}

func TestRenderEndingSoonRoundsTheTimeLeft(t *testing.T) {
	for left, want := range map[time.Duration]string{
		9*time.Minute + 59*time.Second + 400*time.Millisecond: "Ending in 10m: reader",
		90*time.Second + 300*time.Millisecond:                 "Ending in 1m30s: reader",
		2*time.Hour + 10*time.Second:                          "Ending in 2h: reader",
	} {
		in := grantEmail(activities.MailEndingSoon)
		in.Request.EndsIn = left
		m, err := activities.Render(in)
		require.NoError(t, err)
		require.Equal(t, want, m.Subject)
	}
}

// What the requester and an approver wrote reaches the notices escaped:
// markup in the HTML part, control and bidi characters in both, and the
// approver's name cannot break the subject's line.
func TestRenderGrantNoticesEscapeWhatPeopleWrote(t *testing.T) {
	for _, kind := range []string{activities.MailEndingSoon, activities.MailExtensionGranted, activities.MailExtensionDenied, activities.MailExtensionTimedOut, activities.MailExtensionRefused} {
		t.Run(kind, func(t *testing.T) {
			in := grantEmail(kind)
			in.Request.Extension, in.Request.ExtensionDuration = 1, 15*time.Minute
			in.Request.Justification = `<script>alert("x")</script>` + "\u202e"
			in.Request.Ticket = `<a href="https://evil.example">INC</a>`
			in.Request.Actor = "<b>bob</b>\r\nBcc: mallory@example.com"
			in.Request.Reason = "<img src=x onerror=alert(1)>\x1b[2J"
			m, err := activities.Render(in)
			require.NoError(t, err)
			for _, raw := range []string{"<script>", `<a href="https://evil.example">`, "<b>bob</b>", "<img"} {
				require.NotContains(t, m.HTML, raw)
			}
			for _, part := range []string{m.Subject, m.Text, m.HTML} {
				require.NotContains(t, part, "\u202e")
				require.NotContains(t, part, "\x1b")
				require.NotContains(t, part, "\r\n")
			}
			require.NotContains(t, m.Subject, "\n")
		})
	}
}
