package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/cmd/jitflow/cli"
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
				args[0], len(p.Roles), len(p.Users), len(p.Operators))
			return err
		},
	})
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
