package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/outbox"
)

func TestWorkerMailer(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("SG.k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	box := filepath.Join(dir, "outbox.jsonl")
	tests := []struct {
		name    string
		flags   mailFlags
		outbox  string
		want    string // "outbox" or "sendgrid"
		wantErr string
	}{
		{name: "outbox file chooses the outbox", outbox: box, want: mailerOutbox},
		{name: "sendgrid by default", flags: mailFlags{from: "jitflow@example.com", keyFile: keyFile, url: activities.SendGridHost}, want: mailerSendGrid},
		{name: "sendgrid needs a sender", flags: mailFlags{keyFile: keyFile}, wantErr: "--mail-from is required"},
		{name: "sendgrid needs a key", flags: mailFlags{from: "jitflow@example.com"}, wantErr: activities.SendGridKeyEnv},
		{name: "bad sender", flags: mailFlags{from: "jitflow", keyFile: keyFile}, wantErr: `mail sender "jitflow"`},
		{name: "outbox needs a file", flags: mailFlags{mailer: mailerOutbox}, wantErr: "--outbox is required"},
		{name: "unknown mailer", flags: mailFlags{mailer: "smtp"}, wantErr: `--mailer "smtp": use outbox or sendgrid`},
		{name: "sent keys file", flags: mailFlags{from: "jitflow@example.com", keyFile: keyFile, url: activities.SendGridHost, sentKeys: filepath.Join(dir, "sent")}, want: mailerSendGrid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(activities.SendGridKeyEnv, "")
			m, err := workerMailer(&tt.flags, tt.outbox, slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch m.(type) {
			case *outbox.Outbox:
				if tt.want != mailerOutbox {
					t.Fatalf("got the outbox, want %s", tt.want)
				}
			case *activities.SendGrid:
				if tt.want != mailerSendGrid {
					t.Fatalf("got SendGrid, want %s", tt.want)
				}
			default:
				t.Fatalf("got %T", m)
			}
		})
	}
}
