package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/api"
)

func rolesCommand() *cobra.Command {
	var flags apiFlags
	cmd := &cobra.Command{
		Use:   "roles",
		Short: "List the roles you may request, with their limits and approvers",
		Long: `List the roles you may request under the policy in force, in the policy's
order: how long each may be held, what a request must carry, who would be
asked to approve, and which auto-approval rules would approve your request
of the default duration now.`,
		Example: "  jitflow roles --as alice\n  jitflow roles --json | jq '.roles[].name'",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("%s takes no arguments, not %q; it lists every role you may request", cmd.CommandPath(), args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := flags.session(cmd)
			if err != nil {
				return err
			}
			roles, err := s.Roles(cmd.Context())
			if err != nil {
				return err
			}
			if flags.json {
				b, err := json.Marshal(api.RoleList{Roles: roles})
				if err != nil {
					return err
				}
				return writeRaw(cmd.OutOrStdout(), b)
			}
			return newPrinter(cmd.OutOrStdout()).roles(roles)
		},
	}
	flags.register(cmd.Flags())
	return cmd
}

// roles writes the roles a caller may request as a table, then what the
// table cannot hold: rules that could not be evaluated.
func (p printer) roles(rs []api.Role) error {
	if len(rs) == 0 {
		_, err := fmt.Fprintln(p.w, "No roles you may request.")
		return err
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tDEFAULT\tMAX\tREQUIRES\tAPPROVAL")
	var notes []string
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", show(r.Name), apiDuration(r.Duration.Default), apiDuration(r.Duration.Max), requires(r), approval(r))
		for _, rule := range r.AutoApprove {
			if rule.Error != "" {
				notes = append(notes, fmt.Sprintf("role %s: auto-approval rule %s could not be evaluated, so it approves nothing: %s", show(r.Name), show(rule.Name), show(rule.Error)))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(p.w, n); err != nil {
			return err
		}
	}
	return nil
}

// apiDuration writes a duration of the API ("1h0m0s") for people ("1h");
// one it cannot read is shown as it came.
func apiDuration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return orDash(s)
	}
	return human(d)
}

// requires is what a request for the role must carry and the sign-in it
// asks for.
func requires(r api.Role) string {
	var out []string
	if r.Justification.Required {
		out = append(out, "justification")
	}
	switch {
	case r.Ticket.Required && r.Ticket.Pattern != "":
		out = append(out, "ticket "+show(r.Ticket.Pattern))
	case r.Ticket.Required:
		out = append(out, "ticket")
	}
	if r.StepUp.MFA {
		out = append(out, "MFA")
	}
	if r.StepUp.AuthContext != "" {
		out = append(out, "auth context "+show(r.StepUp.AuthContext))
	}
	if r.RequireEligibility {
		switch {
		case r.EligibilityHeld == nil:
			out = append(out, "PIM eligibility")
		case *r.EligibilityHeld:
			out = append(out, "PIM eligibility (held)")
		default:
			out = append(out, "PIM eligibility (NOT held)")
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

// approval says who would be asked, stage by stage, tier after tier, and
// which auto-approval rule would approve a request now.
func approval(r api.Role) string {
	if r.BreakGlass {
		return "none: break-glass, active at once"
	}
	var out []string
	for _, rule := range r.AutoApprove {
		if rule.WouldApply {
			out = append(out, "auto-approved now by rule "+show(rule.Name))
			break
		}
	}
	for _, st := range r.Stages {
		name := show(st.Name)
		if st.Approvals > 1 {
			name += " (" + strconv.Itoa(st.Approvals) + " approvals)"
		}
		var tiers []string
		for _, t := range st.Tiers {
			tiers = append(tiers, approverList(t.Approvers))
		}
		out = append(out, name+": "+strings.Join(tiers, ", then "))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, "; ")
}

func approverList(as []api.RoleApprover) string {
	var names []string
	for _, a := range as {
		switch {
		case a.User != "":
			names = append(names, show(a.User))
		case a.Group != "":
			names = append(names, "group "+show(a.Group))
		case a.Manager == 1:
			names = append(names, "your manager")
		case a.Manager > 1:
			names = append(names, "your manager's manager")
		}
	}
	if len(names) == 0 {
		return "nobody but you"
	}
	return strings.Join(names, " or ")
}
