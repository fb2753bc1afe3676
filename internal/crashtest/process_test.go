package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logTail is how much of each process's log a failed test prints.
const logTail = 6000

// process is one run of the jitflow binary. Its stdout and stderr go to a
// file that a failed test prints the end of.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// procs starts processes for one test and kills them all when it ends.
type procs struct {
	t      *testing.T
	logDir string
	mu     sync.Mutex
	all    []*process
	runs   map[string]int
}

func newProcs(t *testing.T) *procs {
	t.Helper()
	ps := &procs{t: t, logDir: t.TempDir(), runs: map[string]int{}}
	t.Cleanup(ps.cleanup)
	return ps
}

// start runs `jitflow args...`; name says which process it is in logs.
func (ps *procs) start(name string, args ...string) *process {
	ps.t.Helper()
	return ps.startCmd(name, exec.Command(jitflowBin, args...))
}

// startCmd runs cmd, which may be any program; its output goes to the log.
func (ps *procs) startCmd(name string, cmd *exec.Cmd) *process {
	ps.t.Helper()
	ps.mu.Lock()
	ps.runs[name]++
	logPath := filepath.Join(ps.logDir, fmt.Sprintf("%s-%d.log", name, ps.runs[name]))
	ps.mu.Unlock()
	logFile, err := os.Create(logPath)
	if err != nil {
		ps.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		ps.t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: fmt.Sprintf("%s (run %d, pid %d)", name, ps.runs[name], cmd.Process.Pid), cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p
}

// kill sends SIGKILL and waits until the process is gone.
func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends sig (a graceful stop) and waits until the process is gone,
// killing it if it takes longer than within.
func (p *process) stop(sig os.Signal, within time.Duration) {
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(within):
		p.kill()
	}
}

// running reports whether the process has not exited.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// cleanup kills what still runs and, when the test failed, prints the end
// of every process's log.
func (ps *procs) cleanup() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.all {
		p.kill()
	}
	if !ps.t.Failed() {
		return
	}
	for _, p := range ps.all {
		data, err := os.ReadFile(p.logPath)
		if err != nil {
			ps.t.Logf("%s: no log: %v", p.name, err)
			continue
		}
		if len(data) > logTail {
			data = data[len(data)-logTail:]
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				data = data[i+1:]
			}
		}
		ps.t.Logf("---- end of the log of %s (%v) ----\n%s", p.name, p.waitErr, data)
	}
}

// waitHealthy polls url (a /healthz) until it answers 200. It fails the
// test if the process exits first or the time runs out.
func waitHealthy(t *testing.T, p *process, url string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited before %s answered 200: %v", p.name, url, p.waitErr)
		case <-ctx.Done():
			t.Fatalf("%s: %s did not answer 200 within %s", p.name, url, within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freeAddr returns 127.0.0.1:PORT with a port free right now. A test picks
// its ports once and gives them again to each restarted process.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// freePort is freeAddr's port.
func freePort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}
