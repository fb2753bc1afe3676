package cli

import (
	"github.com/spf13/cobra"
)

// auditCommand prints a request's audit trail. It takes the request id as
// its argument and may also carry subcommands (cobra picks a subcommand by
// name before reading an id).
func auditCommand() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:               "audit ID",
		Short:             "Show a request's audit trail, read from its workflow history",
		Example:           "  jitflow audit req-0123abcd-... --as alice",
		Args:              idArg,
		ValidArgsFunction: completeIDs(&api, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			a, err := s.Audit(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if api.json {
				return writeRaw(cmd.OutOrStdout(), a.Raw)
			}
			return newPrinter(cmd.OutOrStdout()).audit(a.Events)
		},
	}
	api.register(cmd.Flags())
	return cmd
}
