// Package cli is jitflow's command line for people and scripts: roles,
// request, approve, deny, cancel, revoke, extend, list, show and audit,
// talking to the HTTP API through package client.
package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

// NewRoot is the jitflow root command with the API commands; the binary
// adds its server commands. Errors are left to the caller to print, and
// ExitCode tells its exit code.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "jitflow",
		Short: "Just-in-time access to Microsoft Entra ID privileged roles",
		Long: `Just-in-time access to Microsoft Entra ID privileged roles.

Against a local "jitflow dev", sign in as a dev user with --as:
  jitflow roles --as alice
  jitflow request reader --duration 1h --justification "why" --as alice
  jitflow approve ID --as bob

Elsewhere, set the API with --api or JITFLOW_API and sign in with Entra ID
(--scope or JITFLOW_SCOPE, through the Azure CLI or a device code), or pass a
token with --token or JITFLOW_TOKEN.

` + exitCodesHelp,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q; see jitflow help", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%s: %w (see jitflow help %s)", cmd.CommandPath(), err, cmd.Name())
	})
	for _, cmd := range []*cobra.Command{
		rolesCommand(), requestCommand(), approveCommand(), denyCommand(), cancelCommand(), revokeCommand(), extendCommand(),
		listCommand(), showCommand(), auditCommand(),
	} {
		cmd.RunE = withHint(cmd.RunE)
		root.AddCommand(cmd)
	}
	return root
}

// withHint adds what to check when the API cannot be reached at all.
func withHint(run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		var apiErr *client.Error
		if errors.Is(err, client.ErrUnavailable) && !errors.As(err, &apiErr) {
			api, _ := cmd.Flags().GetString("api")
			return fmt.Errorf("%w\nis the jitflow API running at %s? (set --api or JITFLOW_API; locally: jitflow dev)", err, api)
		}
		return err
	}
}

// idArg checks for exactly one request id.
func idArg(cmd *cobra.Command, args []string) error {
	switch len(args) {
	case 1:
		return nil
	case 0:
		return usagef("%s: give the request id, e.g. jitflow %s req-0123abcd-...", cmd.CommandPath(), cmd.Name())
	}
	return usagef("%s: give one request id, not %d arguments (%q)", cmd.CommandPath(), len(args), args)
}
