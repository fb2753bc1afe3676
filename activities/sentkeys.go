package activities

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// sentKeyTTL is how long a sent key is remembered. The email activity's
// retries end within minutes, so a day leaves a wide margin while keeping
// the file small.
const sentKeyTTL = 24 * time.Hour

// SentKeys remembers the keys of emails already handed to the mail
// provider, so a retried activity does not send them again. With a path it
// survives restarts of the worker: every key is appended to the file and
// synced before Add returns. It is safe for concurrent use.
type SentKeys struct {
	mu   sync.Mutex
	path string
	keys map[string]time.Time
	now  func() time.Time
}

type sentKey struct {
	Key    string    `json:"key"`
	SentAt time.Time `json:"sent_at"`
}

// OpenSentKeys loads the keys kept at path (one JSON object a line) that are
// younger than a day, and rewrites the file without the older ones. An empty
// path keeps keys in memory only.
func OpenSentKeys(path string) (*SentKeys, error) {
	s := &SentKeys{path: path, keys: map[string]time.Time{}, now: time.Now}
	if path == "" {
		return s, nil
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := s.compact(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *SentKeys) load() error {
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sent mail keys: %w", err)
	}
	defer f.Close()
	cutoff := s.now().Add(-sentKeyTTL)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var k sentKey
		if err := json.Unmarshal(sc.Bytes(), &k); err != nil {
			// A crash can leave half a last line; what came before holds.
			continue
		}
		if k.Key != "" && k.SentAt.After(cutoff) {
			s.keys[k.Key] = k.SentAt
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("sent mail keys %s: %w", s.path, err)
	}
	return nil
}

// compact rewrites the file with the keys still remembered.
func (s *SentKeys) compact() error {
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".sent-keys-*")
	if err != nil {
		return fmt.Errorf("sent mail keys: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for k, at := range s.keys {
		if err := enc.Encode(sentKey{Key: k, SentAt: at}); err != nil {
			tmp.Close()
			return fmt.Errorf("sent mail keys: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("sent mail keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sent mail keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("sent mail keys: %w", err)
	}
	return nil
}

// Has reports whether key was sent.
func (s *SentKeys) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

// Add records key as sent: in memory at once, then in the file. An error
// means only the file write failed.
func (s *SentKeys) Add(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.now().UTC()
	s.keys[key] = at
	if s.path == "" {
		return nil
	}
	line, err := json.Marshal(sentKey{Key: key, SentAt: at})
	if err != nil {
		return fmt.Errorf("sent mail keys: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sent mail keys: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("sent mail keys %s: %w", s.path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sent mail keys %s: %w", s.path, err)
	}
	return f.Close()
}
