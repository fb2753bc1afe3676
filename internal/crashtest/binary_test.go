package crashtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binaryEnv names a jitflow binary built beforehand (CI builds one once);
// without it the tests build their own.
const binaryEnv = "JITFLOW_BINARY"

// jitflowBin is the binary under test, set by TestMain.
var jitflowBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if bin := os.Getenv(binaryEnv); bin != "" {
		jitflowBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "jitflow-crashtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	jitflowBin = filepath.Join(dir, "jitflow")
	if err := build(jitflowBin); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		return 1
	}
	return m.Run()
}

// build compiles ./cmd/jitflow of this module into out.
func build(out string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go tool is not on PATH; set %s to a built jitflow binary instead: %w", binaryEnv, err)
	}
	cmd := exec.Command(goTool, "build", "-o", out, "github.com/jitflow/jitflow/cmd/jitflow")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/jitflow: %w", err)
	}
	return nil
}
