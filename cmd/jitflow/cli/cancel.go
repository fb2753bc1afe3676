package cli

import (
	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

func cancelCommand() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:               "cancel ID",
		Short:             "Withdraw your own request while it waits for approval",
		Example:           "  jitflow cancel req-0123abcd-... --as alice",
		Args:              idArg,
		ValidArgsFunction: completeIDs(&api, client.StatusPending),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			r, err := s.Cancel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return s.answer(cmd, r, false)
		},
	}
	api.register(cmd.Flags())
	return cmd
}
