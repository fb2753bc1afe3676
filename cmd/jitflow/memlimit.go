//go:build !production

package main

import (
	"os"
	"runtime/debug"
)

// devMemoryLimit is the Go heap's soft limit in the processes that embed
// everything (jitflow dev, jitflow bench): the garbage collector works
// harder near it instead of letting the heap grow to twice what is live.
// GOMEMLIMIT, Go's own setting, overrides it.
const devMemoryLimit = 448 << 20

// limitMemory applies devMemoryLimit unless GOMEMLIMIT is set.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(devMemoryLimit)
	}
}
