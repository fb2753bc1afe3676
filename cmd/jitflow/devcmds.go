//go:build !production

package main

import "github.com/spf13/cobra"

// devCommands are the commands that embed the dev machinery (a Temporal
// server and its Web UI, the Graph emulator, the dev token issuer, the
// benchmark, and the emulators as processes of their own). A build with
// -tags production has none of them.
func devCommands() []*cobra.Command {
	return []*cobra.Command{devCommand(), benchCommand(), emulateCommand()}
}
