package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

func approveCommand() *cobra.Command {
	return decideCommand("approve", "Approve a request's current stage", (*client.Client).Approve, true)
}

func denyCommand() *cobra.Command {
	return decideCommand("deny", "Deny a request, which ends it", (*client.Client).Deny, false)
}

type decideFunc func(c *client.Client, ctx context.Context, id, comment string) (client.Request, error)

func decideCommand(name, short string, decide decideFunc, waitable bool) *cobra.Command {
	var (
		api     apiFlags
		comment string
		wait    bool
	)
	cmd := &cobra.Command{
		Use:     name + " ID",
		Short:   short,
		Example: "  jitflow " + name + " req-0123abcd-... --comment \"ok for INC-42\" --as bob",
		Args:    idArg,
		// Both decisions apply to pending requests only.
		ValidArgsFunction: completeIDs(&api, client.StatusPending),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := api.session(cmd)
			if err != nil {
				return err
			}
			r, err := decide(s.Client, cmd.Context(), args[0], comment)
			if err != nil {
				return err
			}
			if wait {
				return s.settle(cmd, r, false)
			}
			return s.answer(cmd, r, false)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&comment, "comment", "c", "", "a comment for the requester and the audit trail")
	if waitable {
		f.BoolVar(&wait, "wait", false, "then wait until the request is active or has ended (a later stage may still need other approvers)")
	}
	api.register(f)
	return cmd
}
