package policies

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// adminRole is a second role; withAdmin is basePolicy with it.
const (
	adminRole = `  - name: admin
    role_definition_id: 194ae4cb-b126-40b2-bd5b-6091b380977d
    requesters: {groups: [engineers]}
    duration: {min: 10s, max: 2h}
    approval:
      stages:
        - tiers:
            - approvers: {users: [bob]}
              timeout: 20s
`
	withAdmin = basePolicy + adminRole
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// recorder keeps what OnReload heard, and hands each result to a channel
// for tests that wait on the watcher.
type recorder struct {
	mu      sync.Mutex
	results []ReloadResult
	ch      chan ReloadResult
}

func newRecorder() *recorder { return &recorder{ch: make(chan ReloadResult, 1000)} }

func (r *recorder) hear(res ReloadResult) {
	r.mu.Lock()
	r.results = append(r.results, res)
	r.mu.Unlock()
	r.ch <- res
}

func (r *recorder) all() []ReloadResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.results)
}

// next waits for the watcher's next result with this outcome, skipping
// others.
func (r *recorder) next(t *testing.T, outcome string) ReloadResult {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case res := <-r.ch:
			if res.Outcome == outcome {
				return res
			}
		case <-timeout:
			t.Fatalf("no %s reload within 10s; heard %+v", outcome, r.all())
		}
	}
}

func newLive(t *testing.T, text string) (*Live, *recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, text)
	rec := newRecorder()
	l, err := NewLive(path, LiveOptions{OnReload: rec.hear, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l, rec, path
}

func TestLiveFirstLoad(t *testing.T) {
	l, rec, path := newLive(t, basePolicy)
	if l.Generation() != 1 || l.Current().RoleNames()[0] != "reader" {
		t.Fatalf("generation %d, roles %v", l.Generation(), l.Current().RoleNames())
	}
	got := rec.all()
	if len(got) != 1 || !got[0].Initial || got[0].Outcome != ReloadApplied || got[0].Generation != 1 || got[0].Path != path {
		t.Fatalf("first load reported as %+v", got)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, strings.Replace(basePolicy, "max: 8h", "max: 2x", 1))
	if _, err := NewLive(bad, LiveOptions{}); err == nil || !strings.Contains(err.Error(), "roles[0].duration.max") {
		t.Fatalf("a bad file at start should be an error naming the field, got %v", err)
	}
	if _, err := NewLive(filepath.Join(t.TempDir(), "missing.yaml"), LiveOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file at start: %v", err)
	}
}

func TestLiveReloadApplies(t *testing.T) {
	l, rec, path := newLive(t, basePolicy)
	before := l.Current()

	writeFile(t, path, strings.Replace(withAdmin, "max: 8h", "max: 4h", 1))
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Current().Role("admin"); !ok {
		t.Fatalf("admin not in force after reload: %v", l.Current().RoleNames())
	}
	if _, ok := before.Role("admin"); ok || before.Roles[0].MaxDuration != 8*time.Hour {
		t.Fatal("the snapshot taken before the reload changed")
	}
	res := rec.all()[1]
	if res.Outcome != ReloadApplied || res.Generation != 2 || l.Generation() != 2 || res.Err != nil || res.Initial {
		t.Fatalf("result %+v, generation %d", res, l.Generation())
	}
	want := Changes{RolesAdded: []string{"admin"}, RolesChanged: []string{"reader"}}
	if !slices.Equal(res.Changes.RolesAdded, want.RolesAdded) || !slices.Equal(res.Changes.RolesChanged, want.RolesChanged) || len(res.Changes.RolesRemoved) != 0 || len(res.Changes.Others) != 0 {
		t.Fatalf("changes %+v, want %+v", res.Changes, want)
	}
	if s := res.Changes.String(); s != "roles added: admin; roles changed: reader" {
		t.Errorf("summary %q", s)
	}

	// Back to one role, with bob moved to another group: a removal and a directory change.
	writeFile(t, path, strings.Replace(basePolicy, "groups: [leads]", "groups: [security]", 1))
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	res = rec.all()[2]
	if s := res.Changes.String(); res.Generation != 3 || s != "roles removed: admin; roles changed: reader; users changed" {
		t.Fatalf("generation %d, summary %q", res.Generation, s)
	}
}

func TestLiveReloadRefusesBrokenFile(t *testing.T) {
	l, rec, path := newLive(t, basePolicy)
	before := l.Current()

	broken := strings.Replace(strings.Replace(withAdmin, "max: 8h", "max: 2x", 1), "users: [bob]}\n              timeout: 20s\n  - name: admin", "users: [bobby]}\n              timeout: 20s\n  - name: admin", 1)
	writeFile(t, path, broken)
	err := l.Reload()
	if err == nil {
		t.Fatal("a broken file was applied")
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want field errors, got %T %v", err, err)
	}
	for _, want := range []string{`roles[0].duration.max: "2x"`, `roles[0].approval.stages[0].tiers[0].approvers.users[0]: unknown user "bobby"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if l.Current() != before || l.Generation() != 1 {
		t.Fatalf("the old policy should stay in force (generation %d)", l.Generation())
	}
	res := rec.all()[1]
	if res.Outcome != ReloadRefused || res.Err != err || res.Generation != 1 || !res.Changes.Empty() {
		t.Fatalf("result %+v", res)
	}
	if got := problems(res.Err); len(got) != 2 {
		t.Errorf("problems %q, want both", got)
	}

	// A file that vanished is refused the same way.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(); !errors.Is(err, os.ErrNotExist) || l.Current() != before {
		t.Fatalf("a missing file: %v", err)
	}
}

func TestLiveReloadUnchanged(t *testing.T) {
	l, rec, path := newLive(t, basePolicy)
	before := l.Current()
	writeFile(t, path, basePolicy) // same bytes, new modification time
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if res := rec.all()[1]; res.Outcome != ReloadUnchanged || res.Generation != 1 || l.Current() != before {
		t.Fatalf("result %+v", res)
	}

	// A change of comments only is a new file, applied, with nothing to summarise.
	writeFile(t, path, "# reviewed\n"+basePolicy)
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if res := rec.all()[2]; res.Outcome != ReloadApplied || res.Generation != 2 || !res.Changes.Empty() || res.Changes.String() != "no rule changed (comments or layout only)" {
		t.Fatalf("result %+v", res)
	}
}

// TestLiveWatchSeesSymlinkSwap lays the file out as a Kubernetes ConfigMap
// volume does: policy.yaml -> ..data/policy.yaml, ..data -> a timestamped
// directory, and an update swaps ..data to a new directory in one rename.
func TestLiveWatchSeesSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"v1": basePolicy, "v2": withAdmin, "v3": strings.Replace(withAdmin, "max: 8h", "max: 2x", 1)} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name, "policy.yaml"), text)
	}
	swap := func(to string) {
		t.Helper()
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(to, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	swap("v1")
	path := filepath.Join(dir, "policy.yaml")
	if err := os.Symlink(filepath.Join("..data", "policy.yaml"), path); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	l, err := NewLive(path, LiveOptions{OnReload: rec.hear, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rec.next(t, ReloadApplied) // the first load
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Watch(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	swap("v2")
	if res := rec.next(t, ReloadApplied); res.Generation != 2 || !slices.Equal(res.Changes.RolesAdded, []string{"admin"}) {
		t.Fatalf("after the swap: %+v", res)
	}
	if _, ok := l.Current().Role("admin"); !ok {
		t.Fatal("admin not in force after the swap")
	}

	swap("v3")
	if res := rec.next(t, ReloadRefused); !strings.Contains(res.Err.Error(), `"2x"`) || l.Generation() != 2 {
		t.Fatalf("a broken swap: %+v, generation %d", res, l.Generation())
	}

	// An editor that writes a new file and renames it over the old one.
	swap("v2")
	rec.next(t, ReloadUnchanged) // back to the policy in force
	fresh := filepath.Join(dir, "v2", "policy.yaml.new")
	writeFile(t, fresh, basePolicy)
	if err := os.Rename(fresh, filepath.Join(dir, "v2", "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	if res := rec.next(t, ReloadApplied); res.Generation != 3 || !slices.Equal(res.Changes.RolesRemoved, []string{"admin"}) {
		t.Fatalf("after the rename: %+v", res)
	}
	for _, res := range rec.all() {
		if res.Outcome == ReloadRefused && res.Generation != 2 {
			t.Errorf("refused result with generation %d", res.Generation)
		}
	}
	if n := countOutcome(rec.all(), ReloadRefused); n != 1 {
		t.Errorf("the broken file was refused %d times; the watcher should report it once", n)
	}
}

func countOutcome(results []ReloadResult, outcome string) int {
	n := 0
	for _, r := range results {
		if r.Outcome == outcome {
			n++
		}
	}
	return n
}

// TestLiveWatchStopsWithContext checks Watch returns when its context ends.
func TestLiveWatchStopsWithContext(t *testing.T) {
	l, _, _ := newLive(t, basePolicy)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Watch(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}

// TestLiveConcurrentReloads runs reloads from several goroutines (as
// SIGHUP and the watcher do) while readers take snapshots; run with -race.
// Each policy written has one more role than the last, so a reload that put
// an older file in force after a newer one would show as a generation
// whose role count went down.
func TestLiveConcurrentReloads(t *testing.T) {
	l, rec, path := newLive(t, basePolicy)
	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for ctx.Err() == nil {
				p := l.Current()
				if len(p.Roles) == 0 || p.Roles[0].Name != "reader" {
					t.Error("a snapshot without reader")
					return
				}
			}
		})
	}
	text := basePolicy
	for i := range 20 {
		text += strings.Replace(adminRole, "name: admin", "name: extra-"+string(rune('a'+i)), 1)
		writeFile(t, path+".tmp", text)
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
		var reloads sync.WaitGroup
		for range 3 {
			reloads.Go(func() {
				if err := l.Reload(); err != nil {
					t.Error(err)
				}
			})
		}
		reloads.Wait()
	}
	cancel()
	readers.Wait()

	if got := len(l.Current().Roles); got != 21 || l.Generation() != 21 {
		t.Fatalf("%d roles at generation %d; want 21 at 21", got, l.Generation())
	}
	var gen int64
	for _, res := range rec.all() {
		if res.Generation < gen {
			t.Fatalf("generation went back from %d to %d", gen, res.Generation)
		}
		gen = res.Generation
	}
	if n := countOutcome(rec.all(), ReloadApplied); n != 21 {
		t.Errorf("%d applied results, want 21 (the first load and one per file)", n)
	}
}

// TestLiveLogs: a refused file is logged as an error with every problem;
// an applied one with what changed.
func TestLiveLogs(t *testing.T) {
	var buf bytes.Buffer
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, basePolicy)
	l, err := NewLive(path, LiveOptions{Log: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, strings.Replace(strings.Replace(basePolicy, "max: 8h", "max: 2x", 1), "users: [bob]", "users: [bobby]", 1))
	if err := l.Reload(); err == nil {
		t.Fatal("a broken file was applied")
	}
	writeFile(t, path, withAdmin)
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 log lines (loaded, refused, reloaded), got:\n%s", buf.String())
	}
	for i, want := range [][]string{
		{"level=INFO", `msg="policy loaded"`, "generation=1", `changes="roles added: reader"`},
		{"level=ERROR", "outcome=refused", "generation=1", `roles[0].duration.max: \"2x\"`, `unknown user \"bobby\"`},
		{"level=INFO", `msg="policy reloaded"`, "generation=2", `changes="roles added: admin"`},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("log line %d lacks %s:\n%s", i+1, w, lines[i])
			}
		}
	}
}
