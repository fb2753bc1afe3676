package cli

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

func showCommand() *cobra.Command {
	return readCommand(&cobra.Command{
		Use:     "show ID",
		Short:   "Show one request: status, approvers, decisions, grant window",
		Example: "  jitflow show req-0123abcd-... --as alice\n  jitflow show req-0123abcd-... --json | jq .status",
	}, (*client.Client).Get, func(r client.Request) json.RawMessage { return r.Raw }, printer.detail)
}

// readCommand completes cmd as a command that reads something of one
// request (its argument, the request id) with read and prints it, or with
// --json the API's answer as it came (raw).
func readCommand[T any](cmd *cobra.Command, read func(*client.Client, context.Context, string) (T, error),
	raw func(T) json.RawMessage, print func(printer, T) error) *cobra.Command {
	var api apiFlags
	cmd.Args = idArg
	cmd.ValidArgsFunction = completeIDs(&api, "")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := api.session(cmd)
		if err != nil {
			return err
		}
		v, err := read(s.Client, cmd.Context(), args[0])
		if err != nil {
			return err
		}
		if api.json {
			return writeRaw(cmd.OutOrStdout(), raw(v))
		}
		return print(newPrinter(cmd.OutOrStdout()), v)
	}
	api.register(cmd.Flags())
	return cmd
}
