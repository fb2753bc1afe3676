// Package graphemu emulates the part of Microsoft Graph that jitflow uses:
// Entra ID PIM assignment schedule requests, instances and eligibility
// instances for directory roles and for PIM for Groups, the built-in role
// definitions, the directory's users, managers and (nested) groups,
// Entra's own removal of an assignment when its expiration
// passes, and, as options, Entra's rules: the minimum active time before
// removal, policy rules, and the delay before a new assignment is listed. It answers in Graph's JSON shapes and
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
	// MinActiveTime, when set, refuses removing an assignment younger than
	// it with ActiveDurationTooShort, as Entra does (EntraMinActiveTime).
	// Off by default so that short dev grants end on time.
	MinActiveTime time.Duration
	// ListDelay is how long a new assignment stays out of the instance
	// lists, as Entra takes a while to apply a request.
	ListDelay time.Duration
	// Rules are policy rules per role or group (justification, ticket,
	// maximum duration), applied to assign and update requests.
	Rules []Rule
	// Assignments are made at start unless already there, as if made in
	// the portal (e.g. standing ones, with no EndDateTime).
	Assignments []Target
	// Eligibilities are added at start unless already there.
	Eligibilities []Target
}

// Emulator is an in-process Microsoft Graph PIM endpoint. It is safe for
// concurrent use.
type Emulator struct {
	statePath   string
	now         func() time.Time
	log         *slog.Logger
	maxDuration time.Duration
	minActive   time.Duration
	listDelay   time.Duration
	rules       []Rule
	handler     http.Handler

	mu            sync.Mutex
	instances     []Instance
	requests      []ScheduleRequest
	eligibilities []Eligibility
	faults        []Fault
	madeAt        map[string]time.Time // instance id -> when made, while ListDelay matters

	// dirMu guards the directory, which is not persisted (members.go).
	dirMu     sync.RWMutex
	dirUsers  []User
	dirGroups []Group

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
		minActive:   opts.MinActiveTime,
		listDelay:   opts.ListDelay,
		rules:       slices.Clone(opts.Rules),
		madeAt:      map[string]time.Time{},
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
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	if err := e.open(); err != nil {
		return nil, err
	}
	e.seed(opts)
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
	e.instances, e.requests, e.eligibilities = st.Instances, st.Requests, st.Eligibilities
	return e.saveLocked()
}

// checkOptions names the option that is wrong.
func checkOptions(opts Options) error {
	switch {
	case opts.MinActiveTime < 0:
		return fmt.Errorf("graph emulator: MinActiveTime must be 0 (off) or positive, got %s", opts.MinActiveTime)
	case opts.ListDelay < 0:
		return fmt.Errorf("graph emulator: ListDelay must be 0 or positive, got %s", opts.ListDelay)
	}
	for i, r := range opts.Rules {
		if err := r.validate(); err != nil {
			return fmt.Errorf("graph emulator: Rules[%d]: %w", i, err)
		}
	}
	for i, t := range opts.Assignments {
		if err := t.validate(); err != nil {
			return fmt.Errorf("graph emulator: Assignments[%d]: %w", i, err)
		}
	}
	for i, t := range opts.Eligibilities {
		if err := t.validateEligibility(); err != nil {
			return fmt.Errorf("graph emulator: Eligibilities[%d]: %w", i, err)
		}
	}
	return nil
}

// seed adds the configured assignments and eligibilities that are missing.
func (e *Emulator) seed(opts Options) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range opts.Assignments {
		e.seedAssignmentLocked(t)
	}
	for _, t := range opts.Eligibilities {
		e.seedEligibilityLocked(t)
	}
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
