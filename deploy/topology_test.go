package deploy

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCommandOf(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"worker"}, "worker"},
		{[]string{"server", "--policy", "/etc/p.yaml", "--http-addr=0.0.0.0:8080"}, "server --http-addr --policy"},
		{[]string{"setup", "--retention", "8760h", "--namespace", "jitflow"}, "setup --namespace --retention"},
	}
	for _, tt := range tests {
		if got := CommandOf(tt.args).String(); got != tt.want {
			t.Errorf("CommandOf(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
	cmds, err := Topology()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"setup", "server", "worker"}) {
		t.Errorf("topology.txt lists %v, want setup, server and worker", names)
	}
}

// helpFlag matches a flag line of cobra's help ("  -n, --name string ...").
var helpFlag = regexp.MustCompile(`(?m)^\s+(?:-[a-zA-Z], )?(--[a-z0-9-]+)\b`)

// TestBinaryAcceptsTopology: every command and flag of topology.txt is
// one the jitflow binary has, so no deployment target passes a flag the
// binary would refuse at start. It reads each command's --help from the
// binary JITFLOW_BINARY names (.ci/run builds one).
func TestBinaryAcceptsTopology(t *testing.T) {
	bin := os.Getenv("JITFLOW_BINARY")
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("JITFLOW_BINARY is not set; CI builds the binary and sets it")
		}
		t.Skip("JITFLOW_BINARY is not set (go build -o /tmp/jitflow ./cmd/jitflow; JITFLOW_BINARY=/tmp/jitflow)")
	}
	cmds, err := Topology()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		out, err := exec.Command(bin, c.Name, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "jitflow "+c.Name+" [flags]") {
			first, _, _ := strings.Cut(string(out), "\n")
			t.Errorf("jitflow %s --help: the binary has no command %s (%v: %s)", c.Name, c.Name, err, first)
			continue
		}
		var have []string
		for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
			have = append(have, m[1])
		}
		for _, f := range c.Flags {
			if !slices.Contains(have, f) {
				t.Errorf("jitflow %s has no flag %s (it has %v)", c.Name, f, have)
			}
		}
	}
}
