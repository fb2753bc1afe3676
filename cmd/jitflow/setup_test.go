package main

import (
	"context"
	"strings"
	"testing"
)

// TestSetupRefusesBadFlags: mistakes are named before any connection.
func TestSetupRefusesBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--retention", "12h"}, "--retention 12h0m0s: must be at least 24h0m0s"},
		{[]string{"--wait", "0s"}, "--wait 0s: must be more than 0"},
		{[]string{"--temporal-tls-cert", "client.pem"}, "--temporal-tls-cert and --temporal-tls-key go together"},
	}
	for _, c := range cases {
		cmd := setupCommand()
		cmd.SetArgs(c.args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("setup %v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
