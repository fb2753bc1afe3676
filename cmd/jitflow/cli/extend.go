package cli

import (
	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

func extendCommand() *cobra.Command {
	var (
		api                     apiFlags
		duration, justification string
	)
	cmd := &cobra.Command{
		Use:   "extend ID --duration D",
		Short: "Ask for more time on an active grant",
		Long: `Ask for more time on an active grant. The extension goes through the role's
approval again, unless the policy grants extensions this short at once; then
Entra's expiration and the grant move together. Only the requester may extend.`,
		Example:           "  jitflow extend req-0123abcd-... --duration 30m --justification \"the fix needs longer\" --as alice",
		Args:              idArg,
		ValidArgsFunction: completeIDs(&api, client.StatusActive),
		RunE: func(cmd *cobra.Command, args []string) error {
			if duration == "" {
				return usagef("--duration is required: how much longer, such as 30m or PT30M")
			}
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			r, err := s.Extend(cmd.Context(), args[0], duration, justification)
			if err != nil {
				return err
			}
			return s.answer(cmd, r, false)
		},
	}
	cmd.Flags().StringVarP(&duration, "duration", "d", "", `how much longer: "30m", "1h", "PT30M"`)
	cmd.Flags().StringVarP(&justification, "justification", "j", "", "why more time is needed")
	api.register(cmd.Flags())
	return cmd
}
