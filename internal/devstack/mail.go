package devstack

import (
	"context"
	"path/filepath"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/outbox"
)

// mailer is what the worker sends with: Options.Mailer, the outbox, or SendGrid with a copy
// of every message kept in the outbox, so dev links stay at hand even when
// SendGrid runs in sandbox mode and delivers nothing.
func mailer(opts Options, box *outbox.Outbox) (activities.Mailer, error) {
	if opts.Mailer != nil {
		return opts.Mailer, nil
	}
	if opts.SendGrid == nil {
		return box, nil
	}
	cfg := *opts.SendGrid
	if cfg.Sent == nil {
		sent, err := activities.OpenSentKeys(filepath.Join(opts.DataDir, "sent-mail-keys.jsonl"))
		if err != nil {
			return nil, err
		}
		cfg.Sent = sent
	}
	if cfg.Logger == nil {
		cfg.Logger = opts.Logger.With("component", "sendgrid")
	}
	sg, err := activities.NewSendGrid(cfg)
	if err != nil {
		return nil, err
	}
	return copyingMailer{send: sg, copy: box}, nil
}

// copyingMailer sends, then keeps a copy. Both skip keys they already
// have, so a retry after a failed copy does not send twice.
type copyingMailer struct {
	send activities.Mailer
	copy *outbox.Outbox
}

func (m copyingMailer) Send(ctx context.Context, msg activities.Message) error {
	if err := m.send.Send(ctx, msg); err != nil {
		return err
	}
	return m.copy.Send(ctx, msg)
}
