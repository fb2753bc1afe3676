// Package outbox is the dev mailer: it keeps every email in a file in the
// data dir instead of sending it, and serves them at /dev/outbox.
package outbox

import (
	"bytes"
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

// Outbox stores emails. It is safe for concurrent use. A file outbox is
// JSON Lines, one email per line, appended as each is sent: a demo or a
// benchmark that sends thousands of emails writes each once, and memory
// holds only their keys.
type Outbox struct {
	mu     sync.Mutex
	path   string   // "" keeps mail in memory only
	file   *os.File // append handle of path
	emails []Email  // the mail of an in-memory outbox
	keys   map[string]bool
}

// Open loads the outbox kept at path, or starts an empty one. An empty path
// keeps mail in memory. An outbox written by earlier versions (one JSON
// array) is rewritten as lines; a last line cut short by a crash is
// dropped, as that email was never reported sent.
func Open(path string) (*Outbox, error) {
	o := &Outbox{path: path, keys: map[string]bool{}}
	if path == "" {
		return o, nil
	}
	emails, err := load(path)
	if err != nil {
		return nil, err
	}
	for _, e := range emails {
		if e.Key != "" {
			o.keys[e.Key] = true
		}
	}
	if o.file, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("open outbox: %w", err)
	}
	return o, nil
}

// load reads the outbox file, converting the old array form and mending a
// torn last line on the way.
func load(path string) ([]Email, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var emails []Email
		if err := json.Unmarshal(trimmed, &emails); err != nil {
			return nil, fmt.Errorf("outbox %s is not valid JSON: %w", path, err)
		}
		return emails, rewrite(path, emails)
	}
	emails, complete, err := parseLines(path, data)
	if err != nil {
		return nil, err
	}
	if complete < len(data) {
		if err := os.Truncate(path, int64(complete)); err != nil {
			return nil, fmt.Errorf("outbox %s: drop its torn last line: %w", path, err)
		}
	}
	return emails, nil
}

// parseLines decodes one email per line and says how many bytes hold
// complete lines.
func parseLines(path string, data []byte) ([]Email, int, error) {
	var emails []Email
	complete := 0
	for n := 1; complete < len(data); n++ {
		end := bytes.IndexByte(data[complete:], '\n')
		if end < 0 {
			break // torn by a crash while it was written
		}
		line := data[complete : complete+end]
		complete += end + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Email
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, 0, fmt.Errorf("outbox %s line %d is not an email in JSON: %w", path, n, err)
		}
		emails = append(emails, e)
	}
	return emails, complete, nil
}

// rewrite replaces the file with emails as lines, atomically.
func rewrite(path string, emails []Email) error {
	var buf bytes.Buffer
	for _, e := range emails {
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode outbox: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".outbox-*")
	if err != nil {
		return fmt.Errorf("save outbox: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("save outbox: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save outbox: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save outbox: %w", err)
	}
	return nil
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
	e := Email{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, SentAt: time.Now().UTC(), Key: m.Key}
	if o.path == "" {
		o.emails = append(o.emails, e)
	} else if err := o.append(e); err != nil {
		return err
	}
	if m.Key != "" {
		o.keys[m.Key] = true
	}
	return nil
}

// append writes e as one line in one write, so a crash leaves at most a
// torn last line, which Open drops.
func (o *Outbox) append(e Email) error {
	if o.file == nil {
		return fmt.Errorf("outbox %s is closed", o.path)
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode outbox: %w", err)
	}
	if _, err := o.file.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("save outbox %s: %w", o.path, err)
	}
	return nil
}

// Emails returns a copy of every stored email, oldest first.
func (o *Outbox) Emails() []Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.path == "" {
		out := make([]Email, len(o.emails)) // never nil: an empty outbox is [], not null
		copy(out, o.emails)
		return out
	}
	data, err := os.ReadFile(o.path)
	if err != nil {
		return []Email{}
	}
	emails, _, _ := parseLines(o.path, data)
	if emails == nil {
		emails = []Email{}
	}
	return emails
}

// Close closes the outbox file.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return nil
	}
	err := o.file.Close()
	o.file = nil
	return err
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
