package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/cmd/jitflow/cli"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/policies"
)

// policyCommand holds the administrators' tools for policy files.
func policyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check a policy file before jitflow loads it",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Check a policy file: every problem as FILE:LINE: field: what is wrong, exit 2",
		Long: `Check a policy file as jitflow server and jitflow worker load it.

A valid file prints a one-line summary and exits 0. A file with problems
prints every one of them to stderr, ordered by line, as
FILE:LINE: field: what is wrong and what is accepted, and exits 2.`,
		Example: "  jitflow policy check /etc/jitflow/policy.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := policies.Load(args[0])
			if err != nil {
				return policyProblems(cmd, args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (roles: %d, users: %d, operators: %d)\n",
				args[0], len(p.Roles), len(p.Users), len(p.Operators.Users)+len(p.Operators.UserIDs)+len(p.Operators.Groups)+len(p.Operators.GroupIDs))
			return err
		},
	})
	cmd.AddCommand(policyExplainCommand())
	return cmd
}

// policyExplainCommand answers "who would approve this?" before an
// incident asks it.
func policyExplainCommand() *cobra.Command {
	var (
		policyFile, user, role, duration string
		graph                            graphFlags
	)
	cmd := &cobra.Command{
		Use:   "explain --policy FILE --user U --role R [--duration D]",
		Short: "Say whether a user may request a role, what would auto-approve it, and who each stage would ask",
		Long: `Explain how the policy treats one request, resolved against the directory
as it stands now: whether the user may ask for the role (and why not), the
duration that would be granted, the conditions and auto-approval rules that
would apply, and for each stage and tier who would be asked.

--user is a short name of the policy's users list, a user principal name or
an Entra object id. A policy that names people through Entra (group ids,
managers, users by id or principal name, pim_eligible) is resolved through
Microsoft Graph with the same flags and credential as jitflow server
(--graph-url, --credential, AZURE_* variables); one that names people only
through its users list needs no Graph. Exit 0 once explained, 2 when the
file, the user, the role or the duration is not valid.`,
		Example: "  jitflow policy explain --policy policy.yaml --user alice@contoso.com --role reader --duration 2h",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ name, v string }{{"policy", policyFile}, {"user", user}, {"role", role}} {
				if strings.TrimSpace(f.v) == "" {
					return cli.InvalidInput(fmt.Errorf("--%s is required", f.name))
				}
			}
			var d time.Duration
			if duration != "" {
				var err error
				if d, err = durations.ParseWhole(duration); err != nil || d <= 0 {
					return cli.InvalidInput(fmt.Errorf("--duration %q: give a positive duration such as \"30m\", \"2h\" or \"PT2H\"", duration))
				}
			}
			p, err := policies.Load(policyFile)
			if err != nil {
				return policyProblems(cmd, policyFile, err)
			}
			var dir policies.Directory
			if p.UsesDirectory() {
				_, gd, err := graph.withDirectory()
				if err != nil {
					return err
				}
				dir = gd
			}
			ex, err := p.Explain(cmd.Context(), dir, user, role, d, time.Now())
			var de *policies.DirectoryError
			switch {
			case errors.As(err, &de):
				return err // Graph did not answer: nothing was wrong with the question
			case err != nil:
				return cli.InvalidInput(err) // an unknown user or role
			}
			return ex.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&policyFile, "policy", envOr("JITFLOW_POLICY", ""), "policy file (env JITFLOW_POLICY)")
	f.StringVar(&user, "user", "", "who asks: a short name of the policy's users list, a user principal name or an Entra object id")
	f.StringVar(&role, "role", "", "the role asked for")
	f.StringVar(&duration, "duration", "", "how long (default: the role's default), such as \"2h\" or \"PT2H\"")
	graph.register(f)
	return cmd
}

// policyProblems prints each problem of a policy that did not load on a
// line of its own and returns the error the command ends with (exit 2).
func policyProblems(cmd *cobra.Command, file string, err error) error {
	problems := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		problems = joined.Unwrap()
	}
	var fe *policies.FieldError
	if len(problems) == 1 && !errors.As(problems[0], &fe) {
		// The file could not be read: nothing was checked.
		return cli.InvalidInput(err)
	}
	for _, p := range problems {
		fmt.Fprintln(cmd.ErrOrStderr(), p)
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return cli.InvalidInput(fmt.Errorf("policy %s: %d %s (above)", file, len(problems), noun))
}
