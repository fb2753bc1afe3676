//go:build !production

package main

import (
	"strings"
	"testing"
	"time"
)

// TestDevRetention: the dev namespace keeps the audit trail a year unless
// told otherwise.
func TestDevRetention(t *testing.T) {
	f := devCommand().Flags()
	r := f.Lookup("retention")
	if r == nil {
		t.Fatal("jitflow dev has no --retention")
	}
	d, err := time.ParseDuration(r.DefValue)
	if err != nil || d < 365*24*time.Hour {
		t.Fatalf("--retention default %q, want at least 365 days", r.DefValue)
	}
	if err := f.Parse([]string{"--retention", "17520h"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.GetDuration("retention"); got != 2*365*24*time.Hour {
		t.Errorf("--retention 17520h parsed as %s", got)
	}
}

// TestDevTemporalAddressFlags: the embedded server's flags are refused
// beside --temporal-address, naming the flag, before anything starts.
func TestDevTemporalAddressFlags(t *testing.T) {
	for _, flag := range []string{"--temporal-port", "--ui-port"} {
		cmd := devCommand()
		cmd.SetArgs([]string{"--temporal-address", "127.0.0.1:1", flag, "7000", "--data-dir", t.TempDir()})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), flag) || !strings.Contains(err.Error(), "--temporal-address") {
			t.Errorf("%s with --temporal-address: error %v, want one naming both", flag, err)
		}
	}
}
