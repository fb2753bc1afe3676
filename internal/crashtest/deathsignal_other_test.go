//go:build !linux

package crashtest

import "os/exec"

// dieWithTest does nothing where the kernel cannot tie a child's life to
// its parent's; t.Cleanup still kills every child of a test that ends.
func dieWithTest(*exec.Cmd) {}
