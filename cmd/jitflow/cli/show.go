package cli

import (
	"github.com/spf13/cobra"
)

func showCommand() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:               "show ID",
		Short:             "Show one request: status, approvers, decisions, grant window",
		Example:           "  jitflow show req-0123abcd-... --as alice\n  jitflow show req-0123abcd-... --json | jq .status",
		Args:              idArg,
		ValidArgsFunction: completeIDs(&api, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			r, err := s.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if api.json {
				return writeRaw(cmd.OutOrStdout(), r.Raw)
			}
			return newPrinter(cmd.OutOrStdout()).detail(r)
		},
	}
	api.register(cmd.Flags())
	return cmd
}
