package cli

import (
	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

func requestCommand() *cobra.Command {
	var (
		api         apiFlags
		in          client.CreateInput
		wait, quiet bool
	)
	cmd := &cobra.Command{
		Use:   "request ROLE",
		Short: "Ask for a role for a while, with a reason",
		Long: `Ask for a role of the policy for a while, with a justification (and a ticket
when the role needs one). The request waits for its approvers; with --wait
this command waits too, and prints the status it ends in.`,
		Example: `  jitflow request reader --duration 1h --justification "look at the sign-in logs" --as alice
  ID=$(jitflow request admin -d 30m -j "rotate the key" --ticket CHG-1234 -q)
  jitflow request breakglass -d 15m -j "outage" --wait`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("%s: give one role, e.g. jitflow request reader (got %d arguments)", cmd.CommandPath(), len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Role = args[0]
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			r, err := s.Create(cmd.Context(), in)
			if err != nil {
				return err
			}
			if wait {
				return s.settle(cmd, r, quiet)
			}
			if s.flags.json || quiet {
				return s.answer(cmd, r, quiet)
			}
			return newPrinter(cmd.OutOrStdout()).detail(r)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&in.Duration, "duration", "d", "", `how long to hold the role: "30m", "1h30m", "PT1H" (default: the role's)`)
	f.StringVarP(&in.Justification, "justification", "j", "", "why you need the role (most roles require one)")
	f.StringVar(&in.Ticket, "ticket", "", "change or incident ticket, for roles that need one")
	f.StringVar(&in.IdempotencyKey, "idempotency-key", "", "makes the command safe to repeat: a repeat with the same key answers the same request")
	f.BoolVar(&wait, "wait", false, "wait until the request is active or has ended, and print where it ended")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the request id")
	api.register(f)
	return cmd
}
