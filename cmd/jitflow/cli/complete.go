package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

// maxCompletions bounds the listing a shell completion asks for.
const maxCompletions = 50

// completeIDs completes a request id from the requests the caller may
// see, in the given status (any when empty), described by role, requester
// and status. It signs in as the command line says (--as, --token, ...);
// when that fails, the shell just offers nothing.
func completeIDs(api *apiFlags, status client.Status) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		s, err := api.session(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		page, err := s.List(cmd.Context(), client.ListOptions{Status: status, Limit: maxCompletions})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		out := make([]cobra.Completion, len(page.Requests))
		for i, r := range page.Requests {
			out[i] = cobra.CompletionWithDesc(r.ID, fmt.Sprintf("%s %s %s", r.Status, r.Role, r.Requester))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
