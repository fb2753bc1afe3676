package policies

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// The outcomes of a reload.
const (
	ReloadApplied   = "applied"   // the file changed and its policy is now in force
	ReloadRefused   = "refused"   // the file has errors (or cannot be read); the old policy stays
	ReloadUnchanged = "unchanged" // the file holds the policy in force already
)

// DefaultWatchInterval is how often Watch looks at the file when
// LiveOptions.Interval is zero.
const DefaultWatchInterval = 2 * time.Second

// LiveOptions tune a Live policy.
type LiveOptions struct {
	// Interval is how often Watch looks at the file (DefaultWatchInterval
	// when zero).
	Interval time.Duration
	// OnReload, when set, hears every load and reload: once from NewLive
	// (Initial set), then after each Reload. Calls are serialised; a slow
	// OnReload delays the next reload, never Current.
	OnReload func(ReloadResult)
	// Log, when set, gets a line per reload: Info when a policy is applied,
	// Error with every problem when a file is refused, Debug when unchanged.
	Log *slog.Logger
	// Check, when set, may refuse a new policy that parsed: the server
	// refuses one it cannot serve (a role needing a sign-in or Graph it
	// was not given). A refusal keeps the policy in force, like a file
	// with errors. NewLive does not call it.
	Check func(*Policy) error
}

// ReloadResult says what one load or reload of the policy file did.
type ReloadResult struct {
	Path    string
	Outcome string // ReloadApplied, ReloadRefused or ReloadUnchanged
	// Err is why the file was refused: every problem Parse found (one
	// *FieldError each, joined), or why the file could not be read.
	Err error
	// Generation counts the policies put in force: 1 for the one NewLive
	// loaded, one more for each applied reload. It is the generation in
	// force after this reload, whatever its outcome.
	Generation int64
	// Changes says what the applied policy changed; empty otherwise.
	Changes Changes
	// Initial is set for the first load, by NewLive.
	Initial bool
	At      time.Time
}

// Changes summarises what a new policy changes, by role name.
type Changes struct {
	RolesAdded, RolesRemoved, RolesChanged []string
	// Others names the other top-level parts that changed: "tenant_id",
	// "users", "operators".
	Others []string
}

// Empty reports whether nothing that decides anything changed (the file
// differs only in comments or layout).
func (c Changes) Empty() bool {
	return len(c.RolesAdded)+len(c.RolesRemoved)+len(c.RolesChanged)+len(c.Others) == 0
}

// String reads "roles added: admin; roles changed: reader; users changed".
func (c Changes) String() string {
	var parts []string
	for _, p := range []struct {
		what  string
		roles []string
	}{{"roles added", c.RolesAdded}, {"roles removed", c.RolesRemoved}, {"roles changed", c.RolesChanged}} {
		if len(p.roles) > 0 {
			parts = append(parts, p.what+": "+strings.Join(p.roles, ", "))
		}
	}
	for _, o := range c.Others {
		parts = append(parts, o+" changed")
	}
	if len(parts) == 0 {
		return "no rule changed (comments or layout only)"
	}
	return strings.Join(parts, "; ")
}

// Live is the policy in force, read from a file and replaced when the file
// changes (Watch) or on demand (Reload, e.g. on SIGHUP). A new policy is
// put in force whole or not at all: a file with errors is refused and the
// policy in force stays.
//
// A caller takes Current once per request and uses that snapshot
// throughout, so one request never sees two policies. Requests already
// running are unaffected by a reload by design: each workflow received its
// resolved approval plan when it started, and keeps it. What a reload does
// reach is every later decision that reads the policy in force, such as
// whether an approver may still decide.
type Live struct {
	path string
	opts LiveOptions

	cur atomic.Pointer[loaded]

	// mu serialises reloads, so two at once (the watcher and a SIGHUP)
	// cannot put an older file in force after a newer one, and OnReload
	// hears them in order.
	mu sync.Mutex
}

// loaded is one policy in force, with what it was made from.
type loaded struct {
	policy     *Policy
	generation int64
	hash       [sha256.Size]byte
	shape      fileShape
}

// NewLive loads the policy file at path. A file with errors is an error:
// there is no older policy to keep.
func NewLive(path string, opts LiveOptions) (*Live, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultWatchInterval
	}
	l := &Live{path: path, opts: opts}
	data, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	p, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	l.cur.Store(&loaded{policy: p, generation: 1, hash: sha256.Sum256(data), shape: shapeOf(data)})
	l.report(ReloadResult{Path: path, Outcome: ReloadApplied, Generation: 1, Changes: Changes{RolesAdded: p.RoleNames()}, Initial: true, At: time.Now()})
	return l, nil
}

// Current returns the policy in force. It never blocks, and the policy it
// returns is never changed afterwards: a reload replaces it whole.
func (l *Live) Current() *Policy { return l.cur.Load().policy }

// Generation returns the generation of the policy in force (1 for the
// first).
func (l *Live) Generation() int64 { return l.cur.Load().generation }

// Path returns the file the policy is read from.
func (l *Live) Path() string { return l.path }

// Reload reads the file again and puts its policy in force if it changed.
// A file that cannot be read or has errors is refused: the policy in force
// stays, and the error (every problem Parse found) is returned. A file
// whose bytes are those of the policy in force changes nothing. Reload is
// safe to call from several goroutines.
func (l *Live) Reload() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := readPolicyFile(l.path)
	return l.apply(data, err)
}

// apply decides what the bytes read (or the read error) do to the policy
// in force, and reports it. l.mu must be held.
func (l *Live) apply(data []byte, readErr error) error {
	old := l.cur.Load()
	res := ReloadResult{Path: l.path, Generation: old.generation, At: time.Now()}
	var p *Policy
	err := readErr
	if err == nil {
		if h := sha256.Sum256(data); h == old.hash {
			res.Outcome = ReloadUnchanged
			l.report(res)
			return nil
		}
		p, err = Parse(l.path, data)
		if err == nil && l.opts.Check != nil {
			if err = l.opts.Check(p); err != nil {
				err = fmt.Errorf("%s: this server cannot serve the new policy: %w", l.path, err)
			}
		}
	}
	if err != nil {
		res.Outcome, res.Err = ReloadRefused, err
		l.report(res)
		return err
	}
	next := &loaded{policy: p, generation: old.generation + 1, hash: sha256.Sum256(data), shape: shapeOf(data)}
	l.cur.Store(next)
	res.Outcome, res.Generation, res.Changes = ReloadApplied, next.generation, diff(old, next)
	l.report(res)
	return nil
}

func (l *Live) report(r ReloadResult) {
	if log := l.opts.Log; log != nil {
		attrs := []any{"path", r.Path, "outcome", r.Outcome, "generation", r.Generation}
		switch r.Outcome {
		case ReloadApplied:
			msg := "policy reloaded"
			if r.Initial {
				msg = "policy loaded"
			}
			log.Info(msg, append(attrs, "changes", r.Changes.String())...)
		case ReloadRefused:
			log.Error("policy file refused; the policy in force stays", append(attrs, "problems", problems(r.Err))...)
		default:
			log.Debug("policy file unchanged", attrs...)
		}
	}
	if l.opts.OnReload != nil {
		l.opts.OnReload(r)
	}
}

// problems lists every problem of a refused file, one string each.
func problems(err error) []string {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []string
		for _, e := range joined.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}

// Watch looks at the file every LiveOptions.Interval and reloads it when it
// changed, until ctx ends. A change is a different size, modification time
// or content hash of the file the path leads to now, so an editor that
// writes a new file and renames it over the old one, and a Kubernetes
// ConfigMap volume that swaps a symlink to a new directory, are both seen.
// A refused file is reported once, not at every look; the next change is
// tried again. An editor that rewrites the file in place may be caught
// halfway: that version is refused, and the whole file applied at the next
// look.
func (l *Live) Watch(ctx context.Context) {
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	last := l.look()
	if last.err != nil || last.hash != l.cur.Load().hash {
		l.applyLocked(last) // changed since NewLive read it
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := l.look()
		if now.sameVersion(last) {
			continue
		}
		last = now
		l.applyLocked(now)
	}
}

// applyLocked applies what a look read; apply reports the outcome.
func (l *Live) applyLocked(f fileLook) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.apply(f.data, f.err)
}

// fileLook is what Watch saw of the file at one look.
type fileLook struct {
	size    int64
	modTime time.Time
	hash    [sha256.Size]byte
	errText string

	data []byte
	err  error
}

func (l *Live) look() fileLook {
	var f fileLook
	if st, err := os.Stat(l.path); err == nil {
		f.size, f.modTime = st.Size(), st.ModTime()
	}
	f.data, f.err = readPolicyFile(l.path)
	if f.err != nil {
		f.errText = f.err.Error()
	} else {
		f.hash = sha256.Sum256(f.data)
	}
	return f
}

// sameVersion compares what identifies a version of the file.
func (f fileLook) sameVersion(g fileLook) bool {
	return f.size == g.size && f.modTime.Equal(g.modTime) && f.hash == g.hash && f.errText == g.errText
}

// readPolicyFile reads a policy file with Load's size bound.
func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("read policy %s: larger than %d MiB; a policy file is a few kilobytes", path, maxFileSize>>20)
	}
	return data, nil
}

// fileShape is a parsed file's content without comments and layout, to
// tell which roles a new file changes. Two spellings of one value ("1h",
// "PT1H") count as a change: the summary is for people, who wrote it.
type fileShape struct {
	roles  []string       // role names in file order
	byName map[string]any // role name -> its decoded mapping
	others map[string]any // the other top-level keys
}

func shapeOf(data []byte) fileShape {
	var doc map[string]any
	// The file passed Parse, so it decodes; a failure would only blur the summary.
	_ = yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	s := fileShape{byName: map[string]any{}, others: map[string]any{}}
	for k, v := range doc {
		if k != "roles" {
			s.others[k] = v
		}
	}
	roles, _ := doc["roles"].([]any)
	for _, r := range roles {
		m, _ := r.(map[string]any)
		name, _ := m["name"].(string)
		s.roles = append(s.roles, name)
		s.byName[name] = m
	}
	return s
}

// diff says what next changes from old, roles in file order.
func diff(old, next *loaded) Changes {
	var c Changes
	for _, name := range next.shape.roles {
		prev, ok := old.shape.byName[name]
		switch {
		case !ok:
			c.RolesAdded = append(c.RolesAdded, name)
		case !reflect.DeepEqual(prev, next.shape.byName[name]):
			c.RolesChanged = append(c.RolesChanged, name)
		}
	}
	for _, name := range old.shape.roles {
		if _, ok := next.shape.byName[name]; !ok {
			c.RolesRemoved = append(c.RolesRemoved, name)
		}
	}
	for _, k := range policyKeys {
		if k != "roles" && !reflect.DeepEqual(old.shape.others[k], next.shape.others[k]) {
			c.Others = append(c.Others, k)
		}
	}
	return c
}
