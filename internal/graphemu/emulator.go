// Package graphemu emulates the part of Microsoft Graph that jitflow uses:
// Entra ID PIM role assignment schedule requests and instances for directory
// roles, the built-in role definitions, and Entra's own removal of an
// assignment when its expiration passes. It answers in Graph's JSON shapes and
// errors, so the real msgraph-sdk-go client runs against it unchanged. It
// serves `jitflow dev` and tests; production talks to the real Graph.
package graphemu

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultExpiryInterval = 250 * time.Millisecond
	DefaultMaxDuration    = 365 * 24 * time.Hour
)

// Options configure an Emulator.
type Options struct {
	// StatePath is the JSON file that keeps assignments and requests across
	// restarts; "" keeps state in memory only.
	StatePath string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per Graph call; nil discards.
	Logger *slog.Logger
	// ExpiryInterval is how often expired assignments are removed.
	ExpiryInterval time.Duration
	// MaxDuration is the longest active assignment the emulated role policy
	// allows (Entra's ExpirationRule); longer requests fail policy validation.
	MaxDuration time.Duration
}

// Emulator is an in-process Microsoft Graph PIM endpoint. It is safe for
// concurrent use.
type Emulator struct {
	statePath   string
	now         func() time.Time
	log         *slog.Logger
	maxDuration time.Duration
	handler     http.Handler

	mu        sync.Mutex
	instances []Instance
	requests  []ScheduleRequest
	faults    []Fault

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New loads the state at opts.StatePath (if it exists), checks that it can be
// written, and starts the expiry loop. Close stops it.
func New(opts Options) (*Emulator, error) {
	e := &Emulator{
		statePath:   opts.StatePath,
		now:         opts.Now,
		log:         opts.Logger,
		maxDuration: opts.MaxDuration,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.maxDuration == 0 {
		e.maxDuration = DefaultMaxDuration
	}
	if e.maxDuration < 0 {
		return nil, fmt.Errorf("graph emulator: MaxDuration must be positive, got %s", opts.MaxDuration)
	}
	interval := opts.ExpiryInterval
	if interval == 0 {
		interval = DefaultExpiryInterval
	}
	if interval < 0 {
		return nil, fmt.Errorf("graph emulator: ExpiryInterval must be positive, got %s", opts.ExpiryInterval)
	}
	if err := e.open(); err != nil {
		return nil, err
	}
	e.handler = e.routes()
	go e.expireLoop(interval)
	return e, nil
}

// open loads existing state and writes it back at once, so a data dir that
// cannot be written fails at startup rather than on the first assignment.
func (e *Emulator) open() error {
	if e.statePath == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(e.statePath), 0o700); err != nil {
		return fmt.Errorf("graph emulator state dir: %w", err)
	}
	st, err := loadState(e.statePath)
	if err != nil {
		return err
	}
	e.instances, e.requests = st.Instances, st.Requests
	return e.saveLocked()
}

// Handler serves Graph under /v1.0 and the emulator's controls under /_emulator.
func (e *Emulator) Handler() http.Handler { return e.handler }

// Close stops the expiry loop and saves the state. It is safe to call twice.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		close(e.stop)
		<-e.done
		e.mu.Lock()
		defer e.mu.Unlock()
		e.closeErr = e.saveLocked()
	})
	return e.closeErr
}

// Instances returns the assignments the emulator holds, as of its last
// expiry pass, in creation order.
func (e *Emulator) Instances() []Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.instances)
}

// Requests returns every schedule request received since New (including the
// ones that failed, with Status "Failed"), oldest first.
func (e *Emulator) Requests() []ScheduleRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// changedLocked persists the state after a change. A failed write is logged,
// not returned: the in-memory state stays authoritative while the process
// runs, and a dev flow should not break on a full disk.
func (e *Emulator) changedLocked() {
	if err := e.saveLocked(); err != nil {
		e.log.Error("graph emulator: saving state failed", "path", e.statePath, "error", err)
	}
}
