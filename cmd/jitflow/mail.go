package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/jitflow/jitflow/activities"
)

// Mailers a worker can send with.
const (
	mailerOutbox   = "outbox"
	mailerSendGrid = "sendgrid"
)

// mailFlags choose and configure the mailer: the outbox file, or SendGrid.
type mailFlags struct {
	mailer   string
	keyFile  string
	url      string
	from     string
	fromName string
	sandbox  bool
	sentKeys string
}

// register adds the flags; mailer is the default choice, and sentKeys says
// whether --mail-sent-keys is offered (dev keeps them in its data dir).
func (m *mailFlags) register(f *pflag.FlagSet, mailer string, sentKeys bool) {
	f.StringVar(&m.mailer, "mailer", envOr("JITFLOW_MAILER", mailer), "how email leaves: outbox (kept in a file) or sendgrid (env JITFLOW_MAILER)")
	f.StringVar(&m.keyFile, "sendgrid-api-key-file", envOr("JITFLOW_SENDGRID_API_KEY_FILE", ""), "file holding the SendGrid API key (env JITFLOW_SENDGRID_API_KEY_FILE); without it the key is read from "+activities.SendGridKeyEnv)
	f.StringVar(&m.url, "sendgrid-url", envOr("JITFLOW_SENDGRID_URL", activities.SendGridHost), "SendGrid API base URL (env JITFLOW_SENDGRID_URL), e.g. https://api.eu.sendgrid.com")
	f.BoolVar(&m.sandbox, "sendgrid-sandbox", false, "ask SendGrid to validate every email without delivering it")
	f.StringVar(&m.from, "mail-from", envOr("JITFLOW_MAIL_FROM", ""), "sender address of jitflow's email, verified in SendGrid (env JITFLOW_MAIL_FROM)")
	f.StringVar(&m.fromName, "mail-from-name", envOr("JITFLOW_MAIL_FROM_NAME", "jitflow"), "sender display name (env JITFLOW_MAIL_FROM_NAME)")
	if sentKeys {
		f.StringVar(&m.sentKeys, "mail-sent-keys", envOr("JITFLOW_MAIL_SENT_KEYS", ""), "file where the worker remembers which emails SendGrid took, so a retry after a restart does not send them twice (env JITFLOW_MAIL_SENT_KEYS; in memory when empty)")
	}
}

// sendGrid is the SendGrid configuration, or nil when the outbox is chosen.
func (m *mailFlags) sendGrid(log *slog.Logger) (*activities.SendGridConfig, error) {
	switch m.mailer {
	case mailerOutbox:
		return nil, nil
	case mailerSendGrid:
	default:
		return nil, fmt.Errorf("--mailer %q: use %s or %s", m.mailer, mailerOutbox, mailerSendGrid)
	}
	if m.from == "" {
		return nil, fmt.Errorf("--mail-from is required with --mailer %s: the sender address verified in SendGrid", mailerSendGrid)
	}
	key, err := activities.ReadSendGridKey(m.keyFile)
	if err != nil {
		return nil, err
	}
	cfg := &activities.SendGridConfig{
		APIKey: key, Host: m.url, From: m.from, FromName: m.fromName, Sandbox: m.sandbox,
		Logger: log.With("component", "sendgrid"),
	}
	if m.sentKeys != "" {
		if cfg.Sent, err = activities.OpenSentKeys(m.sentKeys); err != nil {
			return nil, fmt.Errorf("--mail-sent-keys: %w", err)
		}
	}
	return cfg, nil
}
