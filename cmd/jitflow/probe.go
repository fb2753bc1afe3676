package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

// probeCommand is the container health check: the image has no shell and
// no curl, so the binary checks its own endpoints.
func probeCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "probe URL",
		Short: "Exit 0 when GET URL answers 2xx (a container health check)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("probe %q: give an http(s) URL such as http://127.0.0.1:8080/healthz", args[0])
			}
			client := &http.Client{Timeout: timeout}
			resp, err := client.Get(u.String())
			if err != nil {
				return fmt.Errorf("probe %s: %w", u, err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("probe %s: %s", u, resp.Status)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}
