package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/cmd/jitflow/cli"
)

func runPolicyCheck(t *testing.T, file string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := policyCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs([]string{"check", file})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), cli.ExitCode(err)
}

// TestPolicyCheck: the dev policy passes; a broken file gets every problem
// as FILE:LINE: field: message, and exit 2.
func TestPolicyCheck(t *testing.T) {
	out, _, code := runPolicyCheck(t, filepath.Join("..", "..", "policies", "dev.yaml"))
	if code != cli.ExitOK || !strings.Contains(out, "dev.yaml: ok (roles: 3,") {
		t.Fatalf("dev policy: exit %d, %q", code, out)
	}

	dev, err := os.ReadFile(filepath.Join("..", "..", "policies", "dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(dev), "\ntenant_id:", "\ntenant_idd:", 1)
	broken = strings.Replace(broken, "max: 8h", "max: eight hours", 1)
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runPolicyCheck(t, file)
	if code != cli.ExitUsage {
		t.Fatalf("broken policy: exit %d, want %d; stderr:\n%s", code, cli.ExitUsage, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 2 {
		t.Fatalf("want every problem on a line of its own, got:\n%s", stderr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, file+":") {
			t.Errorf("problem %q does not start with %s:LINE", l, file)
		}
	}
	for _, want := range []string{"tenant_idd", "eight hours"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("no problem names %q:\n%s", want, stderr)
		}
	}

	if _, _, code := runPolicyCheck(t, filepath.Join(t.TempDir(), "missing.yaml")); code != cli.ExitUsage {
		t.Errorf("missing file: exit %d, want %d", code, cli.ExitUsage)
	}
}
