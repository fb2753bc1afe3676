//go:build production

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// devCommands stand in for dev and bench in the production binary: they
// say that this build has no dev machinery and how to get a build that
// has, instead of cobra's "unknown command".
func devCommands() []*cobra.Command {
	return []*cobra.Command{notInThisBuild("dev"), notInThisBuild("bench")}
}

func notInThisBuild(name string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              "not in the production build",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("jitflow %s is not in this build: this is the production binary (built with -tags production), "+
				"which has no embedded Temporal server, Web UI, emulators or dev token issuer; "+
				"for %s build without the tag: go build ./cmd/jitflow, or go run ./cmd/jitflow %s", name, name, name)
		},
	}
}
