//go:build !production

package main

import (
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
