package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitflow/jitflow/cmd/jitflow/cli"
	"github.com/jitflow/jitflow/policies"
)

// cliRun is one run of the jitflow command line.
type cliRun struct {
	stdout, stderr string
	code           int
	err            error
}

// runCLI runs the jitflow command line in process, as the binary does.
func runCLI(t *testing.T, args ...string) cliRun {
	t.Helper()
	root := cli.NewRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return cliRun{stdout: out.String(), stderr: errOut.String(), code: cli.ExitCode(err), err: err}
}

// TestCLIWalkthroughEndToEnd runs the README's CLI walkthrough, line by
// line as a user would type it, against the dev stack with the dev policy.
// Each command must exit 0 unless its comment says "exit code N".
func TestCLIWalkthroughEndToEnd(t *testing.T) {
	steps := readmeCLISteps(t)
	st := startStack(t, t.TempDir(), policies.Dev())
	defer st.Stop()
	t.Setenv("JITFLOW_API", st.APIURL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")

	vars := map[string]string{}
	outputs := map[string]string{} // last stdout of each subcommand
	for _, s := range steps {
		args := make([]string, len(s.args))
		for i, a := range s.args {
			args[i] = os.Expand(a, func(name string) string { return vars[name] })
		}
		res := runCLI(t, args...)
		t.Logf("$ jitflow %s\n%s%s(exit %d: %v)", strings.Join(args, " "), res.stdout, res.stderr, res.code, res.err)
		if res.code != s.exit {
			t.Fatalf("README line %q: exit %d (%v), want %d", s.line, res.code, res.err, s.exit)
		}
		if s.capture != "" {
			vars[s.capture] = strings.TrimSpace(res.stdout)
		}
		outputs[args[0]] = res.stdout
	}

	id := vars["ID"]
	if !regexp.MustCompile(`^req-[0-9a-f-]+$`).MatchString(id) {
		t.Fatalf("ID = %q, want a request id", id)
	}
	want := map[string][]string{
		"list":    {id + `\s+pending_approval\s+reader\s+alice@example.com\s+2m`},
		"approve": {id + `.*: active until`},
		"show":    {`Status\s+active`, `approve\s+bob@example.com\s+.*ok for INC-42`, `Expires\s+\d{4}-`},
		"revoke":  {id + `.*: revoked`},
		"audit":   {`requested\s+alice@example.com`, `notified`, `approved\s+bob@example.com`, `activated`, `revoked\s+alice@example.com`},
	}
	for cmd, wants := range want {
		for _, w := range wants {
			if !regexp.MustCompile(w).MatchString(outputs[cmd]) {
				t.Errorf("jitflow %s printed nothing like %q:\n%s", cmd, w, outputs[cmd])
			}
		}
	}
	if holds(st, mustUser(t, "alice"), "f2ef992c-3afb-46b9-b7cf-a126ee74c451") {
		t.Error("the emulator still holds Global Reader for alice after revoke")
	}

	t.Run("exit codes", func(t *testing.T) {
		tests := []struct {
			args []string
			code int
			say  string
		}{
			{[]string{"show", "req-00000000-0000", "--as", "alice"}, cli.ExitNotFound, "no request"},
			{[]string{"cancel", id, "--as", "alice"}, cli.ExitConflict, "revoked"},
			{[]string{"request", "reader", "-d", "9h", "-j", "too long", "--as", "alice"}, cli.ExitPolicy, "8h"},
			{[]string{"request", "breakglass", "-j", "not on call", "--as", "alice"}, cli.ExitNotAllowed, "breakglass"},
			{[]string{"request", "reader", "-d", "soon", "-j", "x", "--as", "alice"}, cli.ExitUsage, "duration"},
			{[]string{"list", "--role", "nope", "--as", "alice"}, cli.ExitUsage, "role"},
			{[]string{"show", id, "--as", "mallory"}, cli.ExitNotAllowed, "mallory"},
		}
		for _, tt := range tests {
			res := runCLI(t, tt.args...)
			if res.code != tt.code || res.err == nil || !strings.Contains(res.err.Error(), tt.say) {
				t.Errorf("jitflow %s: exit %d, error %v; want exit %d saying %q", strings.Join(tt.args, " "), res.code, res.err, tt.code, tt.say)
			}
		}
	})

	t.Run("request --wait ends when bob denies", func(t *testing.T) {
		var wg sync.WaitGroup
		var waited cliRun
		wg.Add(1)
		go func() {
			defer wg.Done()
			waited = runCLI(t, "request", "reader", "-d", "10m", "-j", "check the logs again", "--wait", "--as", "alice")
		}()
		var pending string
		waitFor(t, 20*time.Second, "a request waiting for bob", func() bool {
			pending = strings.TrimSpace(runCLI(t, "list", "--pending-my-approval", "-q", "--as", "bob").stdout)
			return pending != ""
		})
		if res := runCLI(t, "deny", pending, "--comment", "not today", "--as", "bob"); res.code != 0 || !strings.Contains(res.stdout, "denied") {
			t.Fatalf("deny: exit %d (%v): %s", res.code, res.err, res.stdout)
		}
		wg.Wait()
		if waited.code != cli.ExitError || !strings.Contains(waited.stdout, "denied") || !strings.Contains(waited.err.Error(), "without becoming active") {
			t.Errorf("request --wait: exit %d (%v), stdout %q", waited.code, waited.err, waited.stdout)
		}
	})

	t.Run("json is the API's answer", func(t *testing.T) {
		res := runCLI(t, "show", id, "--json", "--as", "alice")
		var got struct {
			ID          string `json:"id"`
			Status      string `json:"status"`
			RequesterID string `json:"requester_id"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || got.ID != id || got.Status != "revoked" || got.RequesterID != mustUser(t, "alice") {
			t.Errorf("show --json = %s (%v)", res.stdout, err)
		}
		res = runCLI(t, "list", "--mine", "--json", "--as", "alice")
		var listed struct {
			Requests []struct {
				ID string `json:"id"`
			} `json:"requests"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &listed); err != nil || len(listed.Requests) != 2 {
			t.Errorf("list --mine --json = %s (%v), want alice's two requests", res.stdout, err)
		}
	})
}

func mustUser(t *testing.T, name string) string {
	t.Helper()
	u, ok := policies.Dev().UserByName(name)
	if !ok {
		t.Fatalf("dev policy has no user %s", name)
	}
	return u.ID
}

// cliStep is one command of the README's walkthrough.
type cliStep struct {
	line    string
	args    []string // after ./jitflow
	capture string   // VAR of VAR=$(./jitflow ...)
	exit    int
}

var (
	captureLine = regexp.MustCompile(`^([A-Z_]+)=\$\((.*)\)$`)
	exitComment = regexp.MustCompile(`exit code (\d+)`)
)

// readmeCLISteps reads the first sh block of the README's CLI section.
func readmeCLISteps(t *testing.T) []cliStep {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## CLI\n")
	if !ok {
		t.Fatal("README has no ## CLI section")
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README's CLI section has no sh block")
	}
	var steps []cliStep
	built := false
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if line == "go build -o jitflow ./cmd/jitflow" {
			built = true // the test runs the same commands in process
			continue
		}
		words, comment := shellWords(t, line)
		s := cliStep{line: line}
		if m := captureLine.FindStringSubmatch(line); m != nil {
			s.capture = m[1]
			words, comment = shellWords(t, m[2])
		}
		if len(words) == 0 || words[0] != "./jitflow" {
			t.Fatalf("README line %q is not a ./jitflow command", line)
		}
		s.args = words[1:]
		if m := exitComment.FindStringSubmatch(comment); m != nil {
			s.exit, _ = strconv.Atoi(m[1])
		}
		steps = append(steps, s)
	}
	if !built || len(steps) < 5 {
		t.Fatalf("README's CLI block: build step %v, %d commands", built, len(steps))
	}
	return steps
}

// shellWords splits a command line as sh would for the simple lines of
// the README: quotes, and a trailing comment.
func shellWords(t *testing.T, line string) (words []string, comment string) {
	t.Helper()
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '"' || c == '\'':
			j := strings.IndexByte(line[i+1:], c)
			if j < 0 {
				t.Fatalf("unbalanced quote in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, line[i:]
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, ""
}

// TestCLIStepUpEndToEnd: for a role that needs MFA and an authentication
// context, the API answers a plain token with the claims challenge; the
// CLI's dev sign-in answers it the way Entra clients do, by signing in
// again with what the claims ask, and the request goes through.
func TestCLIStepUpEndToEnd(t *testing.T) {
	pol := policies.Dev()
	role, ok := pol.Role("reader")
	if !ok {
		t.Fatal("dev policy has no reader role")
	}
	role.StepUp = policies.StepUp{MFA: true, AuthContext: "c1"}
	st := startStack(t, t.TempDir(), pol)
	defer st.Stop()
	t.Setenv("JITFLOW_API", st.APIURL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")

	plain := apiClient{t: t, base: st.APIURL}.token("alice")
	res := runCLI(t, "request", "reader", "-d", "10m", "-j", "needs c1", "--token", plain)
	if res.code != cli.ExitNotAllowed || !strings.Contains(res.err.Error(), "c1") {
		t.Fatalf("plain token: exit %d (%v), want %d naming the authentication context", res.code, res.err, cli.ExitNotAllowed)
	}

	res = runCLI(t, "request", "reader", "-d", "10m", "-j", "needs c1", "--as", "alice", "-q")
	if res.code != 0 || !strings.Contains(res.stderr, "stronger sign-in") {
		t.Fatalf("dev sign-in: exit %d (%v), stderr %q", res.code, res.err, res.stderr)
	}
	id := strings.TrimSpace(res.stdout)
	res = runCLI(t, "approve", id, "--wait", "--as", "bob")
	if res.code != 0 || !strings.Contains(res.stdout, "active") {
		t.Fatalf("approve with step-up: exit %d (%v), stdout %q", res.code, res.err, res.stdout)
	}
}
