package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

// auditCommand prints a request's audit trail. It takes the request id as
// its argument and may also carry subcommands (cobra picks a subcommand by
// name before reading an id).
func auditCommand() *cobra.Command {
	return readCommand(&cobra.Command{
		Use:     "audit ID",
		Short:   "Show a request's audit trail, read from its workflow history",
		Example: "  jitflow audit req-0123abcd-... --as alice",
	}, (*client.Client).Audit, func(a client.Audit) json.RawMessage { return a.Raw },
		func(p printer, a client.Audit) error { return p.audit(a.Events) })
}
