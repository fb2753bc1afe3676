package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/client"
)

// answer prints a request an action answered: the API's JSON, only its
// id, or a line for people.
func (s *session) answer(cmd *cobra.Command, r client.Request, quiet bool) error {
	out := cmd.OutOrStdout()
	switch {
	case s.flags.json:
		return writeRaw(out, r.Raw)
	case quiet:
		_, err := fmt.Fprintln(out, r.ID)
		return err
	}
	return newPrinter(out).summary(r)
}

// settle waits until the request has left approval and activation, prints
// it, and fails when it ended without becoming active. Progress goes to
// stderr, so scripts reading stdout see only the answer.
func (s *session) settle(cmd *cobra.Command, r client.Request, quiet bool) error {
	if !r.Status.Settled() {
		var progress io.Writer = io.Discard
		if !quiet && !s.flags.json {
			progress = cmd.ErrOrStderr()
			fmt.Fprintf(progress, "waiting for %s to leave %s (Ctrl-C stops waiting, not the request)\n", show(r.ID), show(string(r.Status)))
		}
		last := r
		var err error
		r, err = s.Wait(cmd.Context(), r.ID, client.WaitOptions{Polled: func(now client.Request) {
			// Steps along the way (a stage approved, an escalation); the
			// end is printed below.
			if !now.Status.Settled() && (now.Status != last.Status || now.Stage != last.Stage || now.Tier != last.Tier) {
				newPrinter(progress).summary(now)
			}
			last = now
		}})
		if err != nil {
			return fmt.Errorf("wait for %s: %w", last.ID, err)
		}
	}
	if err := s.answer(cmd, r, quiet); err != nil {
		return err
	}
	if r.Status != client.StatusActive {
		return fmt.Errorf("request %s ended %s without becoming active", r.ID, r.Status)
	}
	return nil
}
