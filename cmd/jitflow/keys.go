package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/approvals"
)

// keysCommand manages jitflow's key list (see approvalFlags).
func keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Make entries for jitflow's key list (--approval-keys)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "generate",
		Short: "Print a fresh random key list entry, KID:BASE64SECRET",
		Long: `Print a fresh random key list entry, KID:BASE64SECRET (32 random bytes).

jitflow's key list signs approval links and the proofs that workflows demand of
every request and decision; every jitflow server and worker needs the same
list (--approval-keys FILE, JITFLOW_APPROVAL_KEYS_FILE or JITFLOW_APPROVAL_KEYS).
The first entry signs, every entry verifies. To rotate, put a new entry first,
deploy it to every server and worker, and drop the old one once the links it
signed have expired (the longest approval chain of the policy).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), approvals.FormatKey(approvals.GenerateKey()))
			return err
		},
	})
	return cmd
}
