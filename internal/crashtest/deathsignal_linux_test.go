package crashtest

import (
	"os/exec"
	"syscall"
)

// dieWithTest has Linux kill the process if the test binary dies first
// (a go test timeout, say), so that no jitflow keeps running and holding
// ports after a failed run.
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
