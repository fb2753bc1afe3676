//go:build !production

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/bench"
	"github.com/jitflow/jitflow/internal/sendgridemu"
)

// maxBenchWorkers bounds --workers: each worker is a process with its own
// Temporal pollers and caches.
const maxBenchWorkers = 64

// validateOwnStack checks the flags that shape the bench's own stack.
func (bf *benchFlags) validateOwnStack() error {
	if bf.workers < 1 || bf.workers > maxBenchWorkers {
		return fmt.Errorf("--workers %d: give 1 to %d worker processes", bf.workers, maxBenchWorkers)
	}
	return validateTemporalAddress(bf.temporal)
}

// validateTemporalAddress accepts "" (none) or host:port.
func validateTemporalAddress(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p < 1 || p > 65535 {
		return fmt.Errorf("--temporal-address %q: give the Temporal frontend as host:port, e.g. 127.0.0.1:7233", addr)
	}
	return nil
}

// externalWorkers says whether the bench's own stack runs its worker in
// other processes: with more than one, and always against a Temporal
// service of its own, as production does.
func (bf *benchFlags) externalWorkers() bool {
	return bf.workers > 1 || bf.temporal != ""
}

// benchWorkers are the `jitflow worker` processes of the bench's own stack
// and the SendGrid stand-in that takes their mail.
type benchWorkers struct {
	procs []*workerProc
	mail  *http.Server
}

// workerSetup is what every worker of the bench's stack is given: the
// same Temporal service and namespace as the bench's API server, its key
// list (the workflows refuse requests and decisions without a proof made
// with it), its URL for approval links, and its Graph emulator.
type workerSetup struct {
	temporal, namespace string
	keysFile            string
	apiURL, graphURL    string
	mailURL, mailKey    string
}

// args are the worker's command line: plain gRPC to Temporal, no metrics
// endpoint (ports would clash between workers), JSON logs at info so the
// bench sees "worker started".
func (ws workerSetup) args() []string {
	return []string{"worker",
		"--temporal-address", ws.temporal, "--namespace", ws.namespace,
		"--graph-url", ws.graphURL,
		"--approval-keys", ws.keysFile, "--base-url", ws.apiURL,
		"--mailer", mailerSendGrid, "--sendgrid-url", ws.mailURL, "--mail-from", "jitflow-bench@example.com",
		"--metrics-addr", "off",
		"--log-format", "json", "--log-level", "info",
	}
}

// workerEnvPrefixes name the settings a worker would otherwise take from
// the bench's environment (TLS to Temporal, API keys, another key list or
// mailer, Azure credentials): the bench's workers get only what it gives.
var workerEnvPrefixes = []string{"TEMPORAL_", "JITFLOW_", "AZURE_", "SENDGRID_"}

// env is environ without those settings, plus the SendGrid stand-in's key.
func (ws workerSetup) env(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if !hasAnyPrefix(kv, workerEnvPrefixes) {
			out = append(out, kv)
		}
	}
	return append(out, activities.SendGridKeyEnv+"="+ws.mailKey)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// logLevel is the bench's --log-level, which the run has already checked;
// the workers' lines below it are dropped.
func (bf *benchFlags) logLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(bf.logs.level)); err != nil {
		return slog.LevelError
	}
	return lv
}

// workerStartWait bounds the wait for a worker to log that it started.
const workerStartWait = 2 * time.Minute

// startWorkers starts n worker processes of this binary and waits until
// each has started; their log lines at level or above go to logs.
func startWorkers(ctx context.Context, n int, ws workerSetup, level slog.Level, logs io.Writer) (*benchWorkers, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("--workers: find this binary to start workers from: %w", err)
	}
	bw := &benchWorkers{}
	if err := bw.serveMail(&ws); err != nil {
		return nil, err
	}
	var logMu sync.Mutex
	for i := range n {
		p, err := startWorkerProc(exe, fmt.Sprintf("worker-%d", i+1), ws, level, logs, &logMu)
		if err != nil {
			bw.stop()
			return nil, err
		}
		bw.procs = append(bw.procs, p)
	}
	wait, cancel := context.WithTimeout(ctx, workerStartWait)
	defer cancel()
	for _, p := range bw.procs {
		select {
		case <-p.started:
		case <-p.exited:
			bw.stop()
			return nil, fmt.Errorf("%s exited before it started (%v): %s", p.name, p.err, p.lastLines())
		case <-wait.Done():
			bw.stop()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("bench interrupted while %s started: %w", p.name, ctx.Err())
			}
			return nil, fmt.Errorf("%s did not start within %s: %s", p.name, workerStartWait, p.lastLines())
		}
	}
	return bw, nil
}

// serveMail runs the SendGrid stand-in: it takes the workers' mail and
// keeps it in this process's memory, where the in-process worker's mail
// counter keeps a count: mail costs the workers an HTTP call, as in
// production, and nothing on disk.
func (bw *benchWorkers) serveMail(ws *workerSetup) error {
	secret := make([]byte, 16)
	rand.Read(secret)
	ws.mailKey = "SG.bench-" + hex.EncodeToString(secret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("mail stand-in for the workers: %w", err)
	}
	ws.mailURL = "http://" + ln.Addr().String()
	bw.mail = &http.Server{Handler: sendgridemu.New(ws.mailKey), ReadHeaderTimeout: 10 * time.Second}
	go bw.mail.Serve(ln)
	return nil
}

// workerStopWait is how long a worker has to finish its tasks after
// SIGTERM before it is killed.
const workerStopWait = 30 * time.Second

// stop ends every worker (SIGTERM, then SIGKILL after workerStopWait),
// then the mail stand-in.
func (bw *benchWorkers) stop() {
	for _, p := range bw.procs {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			p.cmd.Process.Kill()
		}
	}
	for _, p := range bw.procs {
		select {
		case <-p.exited:
		case <-time.After(workerStopWait):
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
	bw.procs = nil
	if bw.mail != nil {
		bw.mail.Close()
	}
}

// workerProc is one worker process.
type workerProc struct {
	name    string
	cmd     *exec.Cmd
	started chan struct{} // closed when it logs "worker started"
	exited  chan struct{} // closed when it has exited; err is then set
	err     error
	mu      sync.Mutex
	tail    []string // its last log lines, for errors
}

// workerTail is how many log lines a worker's error quotes.
const workerTail = 5

func startWorkerProc(exe, name string, ws workerSetup, level slog.Level, logs io.Writer, logMu *sync.Mutex) (*workerProc, error) {
	p := &workerProc{name: name, started: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(exe, ws.args()...)
	p.cmd.Env = ws.env(os.Environ())
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s worker): %w", name, exe, err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		p.readLogs(stderr, level, logs, logMu)
	}()
	go func() {
		<-read
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// workerLogLine is what the bench reads of a worker's JSON log line.
type workerLogLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
}

// readLogs watches the worker's log for its start and passes on the lines
// at level or above, and any line that is not JSON (a panic, the exit
// error), named by the worker.
func (p *workerProc) readLogs(r io.Reader, level slog.Level, logs io.Writer, logMu *sync.Mutex) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	startSeen := false
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > workerTail {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
		var l workerLogLine
		var lv slog.Level
		structured := json.Unmarshal([]byte(line), &l) == nil && lv.UnmarshalText([]byte(l.Level)) == nil
		if structured && l.Msg == "worker started" && !startSeen {
			startSeen = true
			close(p.started)
		}
		if !structured || lv >= level {
			logMu.Lock()
			fmt.Fprintf(logs, "%s: %s\n", p.name, line)
			logMu.Unlock()
		}
	}
	// The pipe must be drained to the end, or the worker blocks on writes.
	io.Copy(io.Discard, r)
}

func (p *workerProc) lastLines() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == 0 {
		return "no output"
	}
	return strings.Join(p.tail, "\n")
}

// stackReport is a result with the stack it was measured on: the table
// says which Temporal and which workers, and the --json line carries
// "workers" (null with --api, whose workers the bench does not know).
type stackReport struct {
	tabled
	stack   string
	workers *int
}

// described wraps res with what the flags say of the stack measured.
func (bf *benchFlags) described(res tabled) tabled {
	if bf.api != "" {
		return stackReport{tabled: res, stack: "the one at " + bf.api}
	}
	r := stackReport{tabled: res, workers: &bf.workers, stack: "embedded Temporal (SQLite, 1 history shard)"}
	if bf.temporal != "" {
		r.stack = fmt.Sprintf("Temporal at %s (namespace %s)", bf.temporal, bf.namespace)
		if p, ok := res.(*bench.PendingResult); ok {
			p.Notes = replaceNote(p.Notes, "database size skipped", "database size skipped: Temporal at "+bf.temporal+" keeps its data in its own database")
		}
	}
	switch {
	case bf.externalWorkers() && bf.workers == 1:
		r.stack += ", 1 `jitflow worker` process"
	case bf.externalWorkers():
		r.stack += fmt.Sprintf(", %d `jitflow worker` processes", bf.workers)
	default:
		r.stack += ", the worker in this process"
	}
	return r
}

// replaceNote replaces the notes that start with prefix by note.
func replaceNote(notes []string, prefix, note string) []string {
	out := []string{note}
	for _, n := range notes {
		if !strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// WriteTable says what was measured, then prints the table.
func (r stackReport) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "stack: %s\n", r.stack); err != nil {
		return err
	}
	return r.tabled.WriteTable(w)
}

// MarshalJSON is the result's line with "workers" added at its end.
func (r stackReport) MarshalJSON() ([]byte, error) {
	line, err := json.Marshal(r.tabled)
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[0] != '{' || line[len(line)-1] != '}' {
		return nil, errors.New("bench result: its JSON line is not an object")
	}
	workers, err := json.Marshal(r.workers)
	if err != nil {
		return nil, err
	}
	sep := ","
	if len(line) == 2 {
		sep = ""
	}
	out := append(line[:len(line)-1:len(line)-1], sep+`"workers":`...)
	out = append(out, workers...)
	return append(out, '}'), nil
}
