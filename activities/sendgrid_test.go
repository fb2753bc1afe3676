package activities_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/sendgridemu"
)

const testKey = "SG.test-key"

// sendGridEndpoint starts the local Mail Send endpoint and a mailer that
// talks to it through sendgrid-go.
func sendGridEndpoint(t *testing.T, mutate func(*activities.SendGridConfig)) (*sendgridemu.Emulator, *activities.SendGrid) {
	t.Helper()
	emu := sendgridemu.New(testKey)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	cfg := activities.SendGridConfig{APIKey: testKey, Host: srv.URL, From: "jitflow@example.com", FromName: "jitflow"}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := activities.NewSendGrid(cfg)
	require.NoError(t, err)
	return emu, m
}

func testMessage(key string) activities.Message {
	return activities.Message{
		To:        []string{"bob@example.com", "carol@example.com"},
		Subject:   "alice@example.com asks for reader for 1h",
		Text:      "plain body",
		HTML:      "<p>html body</p>",
		Key:       key,
		Kind:      activities.MailApprovalNeeded,
		RequestID: "req-1",
	}
}

func TestSendGridSendsTheDocumentedPayload(t *testing.T) {
	emu, m := sendGridEndpoint(t, nil)
	require.NoError(t, m.Send(context.Background(), testMessage("k1")))
	got := emu.Accepted()
	require.Len(t, got, 1)
	a := got[0]
	require.False(t, a.Sandbox)
	require.Equal(t, "Bearer "+testKey, a.Header.Get("Authorization"))
	require.True(t, strings.HasPrefix(a.Header.Get("User-Agent"), "sendgrid/"), "the real sendgrid-go client sent it: %q", a.Header.Get("User-Agent"))
	mail := a.Mail
	require.Equal(t, "jitflow@example.com", mail.From.Email)
	require.Equal(t, "jitflow", mail.From.Name)
	require.Equal(t, "alice@example.com asks for reader for 1h", mail.Subject)
	require.Len(t, mail.Personalizations, 2, "one envelope per recipient, so nobody sees the others' addresses")
	require.Equal(t, "bob@example.com", mail.Personalizations[0].To[0].Email)
	require.Equal(t, "carol@example.com", mail.Personalizations[1].To[0].Email)
	require.Equal(t, []sendgridemu.Content{{Type: "text/plain", Value: "plain body"}, {Type: "text/html", Value: "<p>html body</p>"}}, mail.Content)
	require.True(t, mail.ClickTrackingOff(), "click tracking would send approval links through a third party")
	require.True(t, mail.OpenTrackingOff())
	require.Equal(t, []string{activities.MailCategory, activities.MailApprovalNeeded}, mail.Categories)
	require.Equal(t, map[string]string{"jitflow_request_id": "req-1", "jitflow_kind": activities.MailApprovalNeeded}, mail.CustomArgs)
}

func TestSendGridSandboxMode(t *testing.T) {
	emu, m := sendGridEndpoint(t, func(c *activities.SendGridConfig) { c.Sandbox = true })
	require.NoError(t, m.Send(context.Background(), testMessage("k1")), "sandbox mode answers 200, which is success")
	require.True(t, emu.Accepted()[0].Sandbox)
}

func TestSendGridAnswers(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		fault     *sendgridemu.Fault
		msg       func(*activities.Message)
		permanent bool
		rateLimit bool
		contains  string
	}{
		{name: "400 names the field", msg: func(m *activities.Message) { m.Text = "" }, permanent: true, contains: "content.0.value"},
		{name: "400 bad recipient", msg: func(m *activities.Message) { m.To = []string{"not an address"} }, permanent: true, contains: "personalizations.0.to.0.email"},
		{name: "401 unknown key", key: "SG.wrong", permanent: true, contains: "HTTP 401"},
		{name: "403 key without mail.send", key: "SG.read-only", permanent: true, contains: "HTTP 403"},
		{name: "413 too large", fault: &sendgridemu.Fault{Status: http.StatusRequestEntityTooLarge}, permanent: true, contains: "HTTP 413"},
		{name: "429 waits for the reset", fault: &sendgridemu.Fault{Status: http.StatusTooManyRequests, Reset: 20 * time.Second}, rateLimit: true, contains: "HTTP 429"},
		{name: "500 is retried", fault: &sendgridemu.Fault{Status: http.StatusInternalServerError}, contains: "HTTP 500"},
		{name: "503 is retried", fault: &sendgridemu.Fault{Status: http.StatusServiceUnavailable}, contains: "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := sendgridemu.New(testKey)
			emu.AddKey("SG.read-only", false)
			srv := httptest.NewServer(emu)
			t.Cleanup(srv.Close)
			key := testKey
			if tt.key != "" {
				key = tt.key
			}
			m, err := activities.NewSendGrid(activities.SendGridConfig{APIKey: key, Host: srv.URL, From: "jitflow@example.com"})
			require.NoError(t, err)
			if tt.fault != nil {
				emu.FailNext(*tt.fault)
			}
			msg := testMessage("k1")
			if tt.msg != nil {
				tt.msg(&msg)
			}
			err = m.Send(context.Background(), msg)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.contains)
			require.NotContains(t, err.Error(), key, "the API key never shows in errors")
			var perm *activities.PermanentError
			require.Equal(t, tt.permanent, errors.As(err, &perm), "permanent: %v", err)
			var sg *activities.SendGridError
			require.True(t, errors.As(err, &sg))
			require.Equal(t, tt.rateLimit, sg.RateLimited())
			if tt.rateLimit {
				require.InDelta(t, 20*time.Second, sg.Wait, float64(2*time.Second), "waits until X-RateLimit-Reset")
			}
			require.Empty(t, emu.Accepted())
		})
	}
}

func TestSendGridRateLimitWaitIsBounded(t *testing.T) {
	emu, m := sendGridEndpoint(t, nil)
	emu.FailNext(sendgridemu.Fault{Status: http.StatusTooManyRequests, Reset: 3 * time.Hour})
	var sg *activities.SendGridError
	require.ErrorAs(t, m.Send(context.Background(), testMessage("k1")), &sg)
	require.Equal(t, time.Minute, sg.Wait)
}

func TestSendGridSendsAKeyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sent-keys.jsonl")
	store, err := activities.OpenSentKeys(path)
	require.NoError(t, err)
	emu, m := sendGridEndpoint(t, func(c *activities.SendGridConfig) { c.Sent = store })
	ctx := context.Background()
	require.NoError(t, m.Send(ctx, testMessage("k1")))
	require.NoError(t, m.Send(ctx, testMessage("k1")), "a retry of a sent email succeeds without sending")
	require.Equal(t, 1, emu.Requests())

	// A worker restarted on the same data dir still knows the key.
	reopened, err := activities.OpenSentKeys(path)
	require.NoError(t, err)
	require.True(t, reopened.Has("k1"))
	emu2, m2 := sendGridEndpoint(t, func(c *activities.SendGridConfig) { c.Sent = reopened })
	require.NoError(t, m2.Send(ctx, testMessage("k1")))
	require.NoError(t, m2.Send(ctx, testMessage("k2")))
	require.Equal(t, 1, emu2.Requests(), "only the new key went out")

	// A failed send does not count as sent.
	emu2.FailNext(sendgridemu.Fault{Status: http.StatusServiceUnavailable})
	require.Error(t, m2.Send(ctx, testMessage("k3")))
	require.NoError(t, m2.Send(ctx, testMessage("k3")))
	require.Equal(t, 3, emu2.Requests())
}

func TestNewSendGridRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  activities.SendGridConfig
		want string
	}{
		{"no key", activities.SendGridConfig{From: "a@example.com"}, activities.SendGridKeyEnv},
		{"bad sender", activities.SendGridConfig{APIKey: "k", From: "jitflow"}, `mail sender "jitflow"`},
		{"sender with a name", activities.SendGridConfig{APIKey: "k", From: "Jit <j@example.com>"}, "plain email address"},
		{"plain http", activities.SendGridConfig{APIKey: "k", From: "j@example.com", Host: "http://mail.example.com"}, "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := activities.NewSendGrid(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestReadSendGridKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(file, []byte("SG.from-file\n"), 0o600))
	t.Setenv(activities.SendGridKeyEnv, "SG.from-env")

	key, err := activities.ReadSendGridKey(file)
	require.NoError(t, err)
	require.Equal(t, "SG.from-file", key, "a file wins and is trimmed")
	key, err = activities.ReadSendGridKey("")
	require.NoError(t, err)
	require.Equal(t, "SG.from-env", key)

	t.Setenv(activities.SendGridKeyEnv, "")
	_, err = activities.ReadSendGridKey("")
	require.ErrorContains(t, err, activities.SendGridKeyEnv)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	_, err = activities.ReadSendGridKey(empty)
	require.ErrorContains(t, err, "is empty")
}
