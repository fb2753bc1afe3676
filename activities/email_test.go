package activities_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/jitflow/jitflow/activities"
)

var (
	alice = activities.Recipient{ID: "id-alice", UPN: "alice@example.com", Email: "alice@example.com"}
	bob   = activities.Recipient{ID: "id-bob", UPN: "bob@example.com", Email: "bob@example.com"}
	carol = activities.Recipient{ID: "id-carol", UPN: "carol@example.com", Email: "carol@example.com"}
)

func emailInput(kind string, to ...activities.Recipient) activities.EmailInput {
	escalates := time.Date(2026, 11, 26, 9, 0, 20, 0, time.UTC)
	return activities.EmailInput{
		Kind: kind,
		To:   to,
		Request: activities.EmailRequest{
			ID: "req-1", Requester: alice.UPN, RequesterID: alice.ID,
			Role: "reader", RoleID: "f2ef992c", Scope: "/", Duration: time.Hour,
			Justification: "incident 42", Ticket: "INC-42",
			Stage: 1, Stages: 2, StageName: "team-lead", Approvals: 1,
			Approvers:   []string{bob.UPN, carol.UPN},
			EscalatesAt: &escalates,
		},
		BaseURL:     "http://127.0.0.1:8080",
		Key:         "req-1/approval_needed/s1t1",
		LinkExpires: escalates.Add(time.Minute),
	}
}

func TestRenderSaysWhoWantsWhatForHowLong(t *testing.T) {
	tests := []struct {
		kind, subject string
		body          []string
	}{
		{activities.MailApprovalNeeded, "alice@example.com asks for reader for 1h", []string{"Escalates at:  2026-11-26 09:00:20 UTC", "Stage:         1 of 2 (team-lead), 0 of 1 approvals", "Also asked:    bob@example.com, carol@example.com", "POST http://127.0.0.1:8080/api/v1/requests/req-1/approve"}},
		{activities.MailEscalated, "Escalated: alice@example.com asks for reader for 1h", []string{"because nobody before you decided in time", "Why:           no decision within 20s at tier 1"}},
		{activities.MailReminder, "Reminder: alice@example.com asks for reader for 1h", []string{"still waits for your decision"}},
		{activities.MailApproved, "Approved: your request for reader for 1h", []string{"approved by bob@example.com"}},
		{activities.MailDenied, "Denied: your request for reader for 1h", []string{"denied by bob@example.com", "Reason:        no change window"}},
		{activities.MailBreakGlass, "Break-glass: alice@example.com activated reader for 1h", []string{"without approval", "Justification: incident 42"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			in := emailInput(tt.kind, bob)
			in.Request.Actor = bob.UPN
			switch tt.kind {
			case activities.MailEscalated:
				in.Request.Reason = "no decision within 20s at tier 1"
			case activities.MailDenied:
				in.Request.Reason = "no change window"
			}
			m, err := activities.Render(in)
			require.NoError(t, err)
			require.Equal(t, tt.subject, m.Subject)
			for _, want := range append(tt.body, "Requester:     alice@example.com", "Duration:      1h", "Ticket:        INC-42") {
				require.Contains(t, m.Text, want)
			}
			require.Equal(t, tt.kind, m.Kind)
			require.Equal(t, "req-1", m.RequestID)
		})
	}
}

func TestRenderFinalTierSaysWhenItTimesOut(t *testing.T) {
	in := emailInput(activities.MailEscalated, carol)
	in.Request.FinalTier = true
	m, err := activities.Render(in)
	require.NoError(t, err)
	require.Contains(t, m.Text, "Times out at:  2026-11-26 09:00:20 UTC")
	require.Contains(t, m.HTML, "Times out at")
}

func TestRenderEscapesWhatUsersWrote(t *testing.T) {
	in := emailInput(activities.MailApprovalNeeded, bob)
	in.Request.Justification = `<script>alert("x")</script>`
	in.Request.Ticket = `<a href="https://evil.example">INC</a>`
	m, err := activities.Render(in)
	require.NoError(t, err)
	require.NotContains(t, m.HTML, "<script>")
	require.NotContains(t, m.HTML, `<a href="https://evil.example">`)
	require.Contains(t, m.HTML, "&lt;script&gt;")
	require.Contains(t, m.Text, `<script>alert("x")</script>`, "plain text shows it as written")
}

// Text written before the freetext rule cannot make an email read
// differently from what was asked: control and bidi characters show as
// escapes in both parts, and a line break cannot start a line of its own.
func TestRenderShowsControlAndBidiEscaped(t *testing.T) {
	in := emailInput(activities.MailApprovalNeeded, bob)
	in.Request.Role, in.Request.Duration = "admin", 2*time.Hour
	in.Request.Justification = "reader, 5m\u202e\x1b[2J\nDuration:      5m"
	in.Request.Ticket = "INC-1\u2066"
	in.Request.Reason = "why\u200f"
	m, err := activities.Render(in)
	require.NoError(t, err)
	for _, part := range []string{m.Text, m.HTML} {
		for _, raw := range []string{"\u202e", "\x1b", "\u2066", "\u200f"} {
			require.NotContains(t, part, raw)
		}
		require.Contains(t, part, `reader, 5m\u202e\x1b[2J`)
		require.Contains(t, part, `INC-1\u2066`)
	}
	require.Contains(t, m.Text, "Justification: reader, 5m\\u202e\\x1b[2J\n               Duration:      5m\n")
	require.Contains(t, m.Text, "Duration:      2h\n", "the real duration keeps its own line")
}

func TestRenderNeverAsksTheRequester(t *testing.T) {
	m, err := activities.Render(emailInput(activities.MailApprovalNeeded, alice, bob))
	require.NoError(t, err)
	require.Equal(t, []string{bob.Email}, m.To)
	m, err = activities.Render(emailInput(activities.MailDenied, alice))
	require.NoError(t, err)
	require.Equal(t, []string{alice.Email}, m.To, "outcomes go to the requester")
}

func TestRenderRefusesUnknownKinds(t *testing.T) {
	_, err := activities.Render(emailInput("party", bob))
	require.ErrorContains(t, err, `email kind "party"`)
}

// fakeLinks mints predictable links and records what it was asked.
type fakeLinks struct {
	mu  sync.Mutex
	got []activities.LinkInput
}

func (f *fakeLinks) Link(_ context.Context, in activities.LinkInput) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, in)
	return "http://127.0.0.1:8080/approvals/token-for-" + in.ApproverID, nil
}

// recordingMailer keeps what it was given and fails as told.
type recordingMailer struct {
	mu   sync.Mutex
	sent []activities.Message
	fail map[string]error // by key
}

func (r *recordingMailer) Send(_ context.Context, m activities.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.fail[m.Key]; err != nil {
		return err
	}
	r.sent = append(r.sent, m)
	return nil
}

func TestSendEmailGivesEachApproverTheirOwnLink(t *testing.T) {
	links := &fakeLinks{}
	mail := &recordingMailer{}
	a := &activities.Activities{Mailer: mail, Links: links}
	in := emailInput(activities.MailApprovalNeeded, bob, alice, carol)
	res, err := a.SendEmail(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, []string{bob.Email, carol.Email}, res.To, "the requester is never asked")
	require.Len(t, mail.sent, 2)
	for i, who := range []activities.Recipient{bob, carol} {
		m := mail.sent[i]
		require.Equal(t, []string{who.Email}, m.To)
		require.Equal(t, in.Key+"/"+who.ID, m.Key, "one key per approver")
		link := "http://127.0.0.1:8080/approvals/token-for-" + who.ID
		require.Contains(t, m.Text, link)
		require.Contains(t, m.HTML, `href="`+link+`"`)
		require.NotContains(t, m.Text, "/api/v1/requests/req-1/approve", "the link replaces the API instructions")
		require.Equal(t, activities.LinkInput{RequestID: "req-1", Stage: 1, ApproverID: who.ID, Expires: in.LinkExpires}, links.got[i])
	}
	require.Contains(t, mail.sent[0].Text, "Also asked:    carol@example.com\n", "who else can approve, without the reader")
	require.NotContains(t, mail.sent[1].Text, "token-for-"+bob.ID, "nobody sees another approver's link")
}

// TestSendEmailExtensionLinks: the links of an email about an extension
// are bound to the extension, its stage and its deadline.
func TestSendEmailExtensionLinks(t *testing.T) {
	links := &fakeLinks{}
	mail := &recordingMailer{}
	a := &activities.Activities{Mailer: mail, Links: links}
	in := emailInput(activities.MailApprovalNeeded, bob)
	in.Request.Extension, in.Request.Stage = 2, 2
	in.Request.Reason = "extension 2: 30m more: the fix needs longer"
	_, err := a.SendEmail(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, []activities.LinkInput{{RequestID: "req-1", Stage: 2, Extension: 2, ApproverID: bob.ID, Expires: in.LinkExpires}}, links.got)
	require.Len(t, mail.sent, 1)
	require.Equal(t, "alice@example.com asks to extend reader (extension 2)", mail.sent[0].Subject)
	require.Contains(t, mail.sent[0].Text, "more time on an active grant")
	require.Contains(t, mail.sent[0].Text, "token-for-"+bob.ID)
}

func TestSendEmailToTheRequesterCarriesNoLink(t *testing.T) {
	links := &fakeLinks{}
	mail := &recordingMailer{}
	a := &activities.Activities{Mailer: mail, Links: links}
	_, err := a.SendEmail(context.Background(), emailInput(activities.MailRequesterEscalated, alice))
	require.NoError(t, err)
	require.Len(t, mail.sent, 1)
	require.Empty(t, links.got)
	require.NotContains(t, mail.sent[0].Text, "/approvals/")
}

// A retried attempt sends only what the earlier one did not: the heartbeat
// of the failed attempt carries the keys it sent.
func TestSendEmailRetrySkipsWhatWasSent(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	mail := &recordingMailer{}
	a := &activities.Activities{Mailer: mail, Links: &fakeLinks{}}
	env.RegisterActivity(a)
	in := emailInput(activities.MailApprovalNeeded, bob, carol)
	env.SetHeartbeatDetails([]string{in.Key + "/" + bob.ID})
	val, err := env.ExecuteActivity(a.SendEmail, in)
	require.NoError(t, err)
	var res activities.EmailResult
	require.NoError(t, val.Get(&res))
	require.Len(t, mail.sent, 1)
	require.Equal(t, []string{carol.Email}, mail.sent[0].To)
	require.Equal(t, []string{bob.Email, carol.Email}, res.To)
}

func TestSendEmailFailures(t *testing.T) {
	rateLimited := &activities.SendGridError{Status: 429, Wait: 7 * time.Second}
	tests := []struct {
		name         string
		err          error
		nonRetryable bool
		errType      string
		delay        time.Duration
	}{
		{"permanent", &activities.PermanentError{Err: errors.New("HTTP 400")}, true, activities.ErrMailRejected, 0},
		{"rate limited", rateLimited, false, activities.ErrMailRateLimited, 7 * time.Second},
		{"transient", errors.New("connection reset"), false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := emailInput(activities.MailApprovalNeeded, bob)
			a := &activities.Activities{Mailer: &recordingMailer{fail: map[string]error{in.Key: tt.err}}}
			_, err := a.SendEmail(context.Background(), in)
			require.Error(t, err)
			require.Contains(t, err.Error(), fmt.Sprintf("send %s email for req-1", in.Kind))
			var app *temporal.ApplicationError
			if tt.errType == "" {
				require.False(t, errors.As(err, &app), "a plain error is retried by the policy")
				return
			}
			require.True(t, errors.As(err, &app))
			require.Equal(t, tt.errType, app.Type())
			require.Equal(t, tt.nonRetryable, app.NonRetryable())
			require.Equal(t, tt.delay, app.NextRetryDelay())
		})
	}
}

func TestSendEmailLinkFailureIsRetried(t *testing.T) {
	a := &activities.Activities{Mailer: &recordingMailer{}, Links: failingLinks{}}
	_, err := a.SendEmail(context.Background(), emailInput(activities.MailEscalated, bob))
	require.ErrorContains(t, err, "approval link for id-bob on request req-1")
	var app *temporal.ApplicationError
	require.False(t, errors.As(err, &app))
}

type failingLinks struct{}

func (failingLinks) Link(context.Context, activities.LinkInput) (string, error) {
	return "", errors.New("no signing key configured")
}
