package cli

import (
	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

func revokeCommand() *cobra.Command {
	var (
		api    apiFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "End an active grant now; the role is removed at once",
		Long: `End an active grant now: the role is removed in Entra ID before the command
returns. The requester, an approver of the role or an operator may revoke.`,
		Example:           "  jitflow revoke req-0123abcd-... --reason \"done\" --as alice",
		Args:              idArg,
		ValidArgsFunction: completeIDs(&api, client.StatusActive),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			r, err := s.Revoke(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			return s.answer(cmd, r, false)
		},
	}
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why, for the audit trail")
	api.register(cmd.Flags())
	return cmd
}
