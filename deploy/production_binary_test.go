package deploy

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// devOnly are the packages the production binary must not link: the
// embedded Temporal server and Web UI, the emulators, the dev token issuer,
// the dev stack and the benchmark.
var devOnly = []string{
	"go.temporal.io/server/",
	"github.com/temporalio/ui-server/",
	"github.com/jitflow/jitflow/internal/devstack.",
	"github.com/jitflow/jitflow/internal/devtemporal.",
	"github.com/jitflow/jitflow/internal/devauth.",
	"github.com/jitflow/jitflow/internal/graphemu.",
	"github.com/jitflow/jitflow/internal/sendgridemu.",
	"github.com/jitflow/jitflow/internal/bench.",
}

// TestProductionBinary builds the binary the Dockerfile builds and checks
// that neither its module list nor its symbol table has dev machinery,
// and that `jitflow dev` says it is not in this build.
func TestProductionBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the production binary")
	}
	bin := filepath.Join(t.TempDir(), "jitflow")
	build := exec.Command("go", "build", "-tags", "production", "-o", bin, "./cmd/jitflow")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags production: %v\n%s", err, out)
	}

	mods, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, mods)
	}
	for line := range strings.Lines(string(mods)) {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "dep" || f[0] == "=>") {
			for _, mod := range []string{"go.temporal.io/server", "github.com/temporalio/ui-server"} {
				if f[1] == mod || strings.HasPrefix(f[1], mod+"/") {
					t.Errorf("go version -m lists %s", strings.TrimSpace(line))
				}
			}
		}
	}

	syms, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	// The check sees jitflow's own packages, so it would see these.
	if !strings.Contains(string(syms), "github.com/jitflow/jitflow/server.") {
		t.Fatal("the symbol table has no github.com/jitflow/jitflow/server symbols: the check below would prove nothing")
	}
	for _, pkg := range devOnly {
		if i := strings.Index(string(syms), pkg); i >= 0 {
			line, _, _ := strings.Cut(string(syms[i:]), "\n")
			t.Errorf("the production binary links %s (e.g. %s)", strings.TrimSuffix(pkg, "."), line)
		}
	}

	for _, name := range []string{"dev", "bench"} {
		out, err := exec.Command(bin, name, "--data-dir", t.TempDir()).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "jitflow "+name+" is not in this build") || !strings.Contains(string(out), "go build ./cmd/jitflow") {
			t.Errorf("jitflow %s in the production binary: %v\n%s", name, err, out)
		}
	}
}
