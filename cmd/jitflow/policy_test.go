package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/cmd/jitflow/cli"
	"github.com/jitflow/jitflow/internal/graphemu"
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

func runPolicy(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := policyCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		fmt.Fprintln(&errOut, err)
	}
	return out.String(), errOut.String(), cli.ExitCode(err)
}

// TestPolicyExplain answers for the dev policy (no Graph needed) and for
// a policy of only Entra group ids and managers, resolved through the real
// Graph client against the emulator's dev tenant.
func TestPolicyExplain(t *testing.T) {
	dev := filepath.Join("..", "..", "policies", "dev.yaml")
	out, stderr, code := runPolicy(t, "explain", "--policy", dev, "--user", "alice", "--role", "reader", "--duration", "2h")
	if code != cli.ExitOK {
		t.Fatalf("dev policy: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"alice@example.com", "bob@example.com", "carol@example.com", "2h"} {
		if !strings.Contains(out, want) {
			t.Errorf("dev policy explanation lacks %q:\n%s", want, out)
		}
	}
	_, stderr, code = runPolicy(t, "explain", "--policy", dev, "--user", "mallory", "--role", "reader")
	if code != cli.ExitUsage || !strings.Contains(stderr, "mallory") {
		t.Errorf("unknown user: exit %d, stderr %q; want exit %d naming the user", code, stderr, cli.ExitUsage)
	}
	out, _, _ = runPolicy(t, "explain", "--policy", dev, "--user", "alice", "--role", "reader", "--duration", "9h")
	if !strings.Contains(out, "over the maximum") {
		t.Errorf("a duration over the role's maximum is not explained as such:\n%s", out)
	}

	emu, err := graphemu.New(graphemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	if err := emu.SeedDevTenant(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	entra := filepath.Join("..", "..", "policies", "testdata", "entra.yaml")
	out, stderr, code = runPolicy(t, "explain", "--policy", entra, "--graph-url", srv.URL, "--user", "alice@example.com", "--role", "admin")
	if code != cli.ExitOK {
		t.Fatalf("entra policy: exit %d\n%s", code, stderr)
	}
	// alice's manager is bob, bob's is carol; security holds dave.
	for _, want := range []string{"bob@example.com", "carol@example.com", "dave@example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("entra policy explanation lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runPolicy(t, "explain", "--policy", entra, "--graph-url", srv.URL, "--user", "dave@example.com", "--role", "admin")
	if code != cli.ExitOK || !strings.Contains(strings.ToLower(out), "may not") {
		t.Errorf("dave (not an engineer): exit %d, want an explanation that he may not ask:\n%s", code, out)
	}
}
