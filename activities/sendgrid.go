package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/jitflow/jitflow/graph"
)

// SendGrid defaults.
const (
	// SendGridHost is SendGrid's global API host.
	SendGridHost = "https://api.sendgrid.com"
	// SendGridKeyEnv is the environment variable the API key is read from
	// when no key file is given.
	SendGridKeyEnv = "SENDGRID_API_KEY"
	// MailCategory tags every jitflow email in SendGrid's statistics.
	MailCategory = "jitflow"
	// maxRateLimitWait bounds how long a 429 makes the next attempt wait,
	// whatever X-RateLimit-Reset says: a clock far off must not park an
	// approval email for an hour.
	maxRateLimitWait = time.Minute
)

// SendGridConfig configures the SendGrid mailer.
type SendGridConfig struct {
	APIKey   string
	Host     string // SendGridHost when empty; a local endpoint in tests
	From     string // sender address, verified in SendGrid
	FromName string // sender display name
	// Sandbox asks SendGrid to validate every message without delivering it.
	Sandbox bool
	// Sent remembers which keys were sent; an in-memory store when nil.
	Sent *SentKeys
	// HTTPClient is the client sendgrid-go uses; one with a 30s timeout
	// when nil.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// SendGrid delivers email through SendGrid's v3 Mail Send API with the
// sendgrid-go client. Tracking is off for every message: click tracking
// would send approval links through a third party.
type SendGrid struct {
	cfg    SendGridConfig
	from   *sgmail.Email
	client *rest.Client
}

// NewSendGrid checks the configuration and returns the mailer.
func NewSendGrid(cfg SendGridConfig) (*SendGrid, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, fmt.Errorf("sendgrid: no API key; set %s or give a key file", SendGridKeyEnv)
	}
	cfg.APIKey = strings.TrimSpace(cfg.APIKey)
	if cfg.Host == "" {
		cfg.Host = SendGridHost
	}
	cfg.Host = strings.TrimSuffix(cfg.Host, "/")
	if !strings.HasPrefix(cfg.Host, "https://") && !graph.IsLoopbackURL(cfg.Host) {
		return nil, fmt.Errorf("sendgrid host %q: must be an https:// URL (plain http only for a loopback test endpoint)", cfg.Host)
	}
	addr, err := mail.ParseAddress(cfg.From)
	if err != nil || addr.Name != "" {
		return nil, fmt.Errorf("mail sender %q is not a plain email address such as jitflow@example.com", cfg.From)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sent == nil {
		cfg.Sent, _ = OpenSentKeys("")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &SendGrid{cfg: cfg, from: sgmail.NewEmail(cfg.FromName, addr.Address), client: &rest.Client{HTTPClient: hc}}, nil
}

// ReadSendGridKey reads the API key from file, or from SENDGRID_API_KEY
// when file is empty. The key never appears in errors.
func ReadSendGridKey(file string) (string, error) {
	if file == "" {
		key := strings.TrimSpace(os.Getenv(SendGridKeyEnv))
		if key == "" {
			return "", fmt.Errorf("sendgrid: %s is empty; set it or give --sendgrid-api-key-file", SendGridKeyEnv)
		}
		return key, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("sendgrid API key file: %w", err)
	}
	key := strings.TrimSpace(string(data))
	if key == "" {
		return "", fmt.Errorf("sendgrid API key file %s is empty", file)
	}
	return key, nil
}

// Send delivers m unless its key was sent before. SendGrid's v3 API has no
// idempotency header, so the mailer remembers sent keys itself: it checks
// the store, sends, and records the key once SendGrid accepted the message.
// A crash between SendGrid's answer and the record sends the message again
// on retry; that window is one local write long.
func (s *SendGrid) Send(ctx context.Context, m Message) error {
	if len(m.To) == 0 {
		return &PermanentError{Err: errors.New("email has no recipient")}
	}
	if m.Key != "" && s.cfg.Sent.Has(m.Key) {
		return nil
	}
	req := sendgrid.GetRequest(s.cfg.APIKey, "/v3/mail/send", s.cfg.Host)
	req.Method = rest.Post
	req.Body = sgmail.GetRequestBody(s.message(m))
	resp, err := s.client.SendWithContext(ctx, req)
	if err != nil {
		return fmt.Errorf("sendgrid: %w", err)
	}
	if err := sendGridError(resp, time.Now()); err != nil {
		return err
	}
	if m.Key != "" {
		// The message went out: failing now would only send it again. The
		// key stays in memory even when the file cannot be written.
		if err := s.cfg.Sent.Add(m.Key); err != nil {
			s.cfg.Logger.Warn("Sent email not recorded; a retry after a restart may send it again", "key", m.Key, "error", err)
		}
	}
	return nil
}

// message builds the v3 payload: one personalization per recipient, so
// recipients never see each other's addresses; text before HTML, as the
// API requires.
func (s *SendGrid) message(m Message) *sgmail.SGMailV3 {
	v3 := sgmail.NewV3Mail()
	v3.SetFrom(s.from)
	v3.Subject = m.Subject
	for _, to := range m.To {
		p := sgmail.NewPersonalization()
		p.AddTos(sgmail.NewEmail("", to))
		v3.AddPersonalizations(p)
	}
	v3.AddContent(sgmail.NewContent("text/plain", m.Text), sgmail.NewContent("text/html", m.HTML))
	v3.AddCategories(MailCategory)
	if m.Kind != "" {
		v3.AddCategories(m.Kind)
		v3.SetCustomArg("jitflow_kind", m.Kind)
	}
	if m.RequestID != "" {
		v3.SetCustomArg("jitflow_request_id", m.RequestID)
	}
	v3.SetTrackingSettings(sgmail.NewTrackingSettings().
		SetClickTracking(sgmail.NewClickTrackingSetting().SetEnable(false).SetEnableText(false)).
		SetOpenTracking(sgmail.NewOpenTrackingSetting().SetEnable(false)).
		SetSubscriptionTracking(sgmail.NewSubscriptionTrackingSetting().SetEnable(false)))
	if s.cfg.Sandbox {
		v3.SetMailSettings(sgmail.NewMailSettings().SetSandboxMode(sgmail.NewSetting(true)))
	}
	return v3
}

// SendGridError is a non-2xx answer of the Mail Send API.
type SendGridError struct {
	Status   int
	Messages []string      // SendGrid's errors[].message, with field and help
	Wait     time.Duration // for 429: until X-RateLimit-Reset, bounded
}

func (e *SendGridError) Error() string {
	msg := fmt.Sprintf("sendgrid: HTTP %d", e.Status)
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	if e.Status == http.StatusTooManyRequests {
		msg += fmt.Sprintf(" (rate limit resets in %s)", e.Wait)
	}
	return msg
}

// RateLimited is a 429: the next attempt should wait Wait.
func (e *SendGridError) RateLimited() bool { return e.Status == http.StatusTooManyRequests }

// sendGridError maps an answer to nil (2xx), a *PermanentError around a
// *SendGridError (4xx other than 429: the message or the key is wrong, and
// sending again cannot help), or a *SendGridError (429 and 5xx: retried).
func sendGridError(resp *rest.Response, now time.Time) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &SendGridError{Status: resp.StatusCode, Messages: sendGridMessages(resp.Body)}
	switch {
	case e.RateLimited():
		e.Wait = rateLimitWait(http.Header(resp.Headers).Get("X-RateLimit-Reset"), now)
		return e
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return &PermanentError{Err: e}
	}
	return e
}

// sendGridMessages reads SendGrid's {"errors":[{"message","field","help"}]}.
func sendGridMessages(body string) []string {
	var doc struct {
		Errors []struct {
			Message string `json:"message"`
			Field   string `json:"field"`
			Help    any    `json:"help"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &doc) != nil || len(doc.Errors) == 0 {
		if body = strings.TrimSpace(body); body != "" {
			return []string{truncate(body, 200)}
		}
		return nil
	}
	out := make([]string, 0, len(doc.Errors))
	for _, e := range doc.Errors {
		msg := e.Message
		if e.Field != "" {
			msg = e.Field + ": " + msg
		}
		if h, ok := e.Help.(string); ok && h != "" {
			msg += " (" + h + ")"
		}
		out = append(out, msg)
	}
	return out
}

// rateLimitWait is the time until reset (Unix seconds), between one second
// and maxRateLimitWait; one second when the header is missing or bad.
func rateLimitWait(reset string, now time.Time) time.Duration {
	secs, err := strconv.ParseInt(strings.TrimSpace(reset), 10, 64)
	if err != nil {
		return time.Second
	}
	wait := time.Unix(secs, 0).Sub(now)
	return min(max(wait, time.Second), maxRateLimitWait)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
