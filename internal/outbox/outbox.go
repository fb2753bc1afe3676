// Package outbox is the dev mailer: it keeps every email in a JSON file in
// the data dir instead of sending it, and serves them at /dev/outbox.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jitflow/jitflow/activities"
)

// Email is one stored message, as /dev/outbox serves it.
type Email struct {
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
	SentAt  time.Time `json:"sent_at"`
	Key     string    `json:"key,omitempty"`
}

// Outbox stores emails. It is safe for concurrent use.
type Outbox struct {
	mu     sync.Mutex
	path   string // "" keeps mail in memory only
	emails []Email
	keys   map[string]bool
}

// Open loads the outbox kept at path, or starts an empty one. An empty path
// keeps mail in memory.
func Open(path string) (*Outbox, error) {
	o := &Outbox{path: path, keys: map[string]bool{}}
	if path == "" {
		return o, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	if err := json.Unmarshal(data, &o.emails); err != nil {
		return nil, fmt.Errorf("outbox %s is not valid JSON: %w", path, err)
	}
	for _, e := range o.emails {
		if e.Key != "" {
			o.keys[e.Key] = true
		}
	}
	return o, nil
}

// Send stores m once per key: a retried activity does not store it twice.
func (o *Outbox) Send(_ context.Context, m activities.Message) error {
	if len(m.To) == 0 {
		return &activities.PermanentError{Err: errors.New("email has no recipient")}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if m.Key != "" && o.keys[m.Key] {
		return nil
	}
	o.emails = append(o.emails, Email{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, SentAt: time.Now().UTC(), Key: m.Key})
	if err := o.save(); err != nil {
		o.emails = o.emails[:len(o.emails)-1]
		return err
	}
	if m.Key != "" {
		o.keys[m.Key] = true
	}
	return nil
}

// Emails returns a copy of every stored email, oldest first.
func (o *Outbox) Emails() []Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Email, len(o.emails)) // never nil: an empty outbox is [], not null
	copy(out, o.emails)
	return out
}

// ServeHTTP answers GET /dev/outbox with the stored emails as a JSON array.
func (o *Outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	emails := o.Emails()
	for i := range emails {
		emails[i].Key = ""
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(emails)
}

// save writes the whole outbox atomically; it is small in dev.
func (o *Outbox) save() error {
	if o.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(o.emails, "", "  ")
	if err != nil {
		return fmt.Errorf("encode outbox: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.path), ".outbox-*")
	if err != nil {
		return fmt.Errorf("save outbox: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save outbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), o.path); err != nil {
		return fmt.Errorf("save outbox: %w", err)
	}
	return nil
}
