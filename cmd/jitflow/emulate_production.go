//go:build production

package main

import "github.com/spf13/cobra"

// addEmulate adds nothing: the production binary carries no emulator.
func addEmulate(*cobra.Command) {}
