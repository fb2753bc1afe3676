// Package deploy holds what the production deployment files share: the
// list of jitflow commands they run (topology.txt). Its tests check the
// files at the root of the repository (docker-compose.yml, Dockerfile) and
// the Helm chart (helm/jitflow) the way Docker Compose, Docker and Helm
// read them; none of those run in CI.
package deploy

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
)

//go:embed topology.txt
var topologyText string

// Command is one jitflow process of a deployment: the subcommand and the
// flags every deployment target passes it.
type Command struct {
	Name  string
	Flags []string // sorted, without values
}

// Topology is the list in topology.txt, in its order.
func Topology() ([]Command, error) {
	var out []Command
	for i, line := range strings.Split(topologyText, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		c := Command{Name: fields[0], Flags: fields[1:]}
		for _, f := range c.Flags {
			if !strings.HasPrefix(f, "--") || strings.Contains(f, "=") {
				return nil, fmt.Errorf("topology.txt line %d: %q is not a flag name such as --namespace", i+1, f)
			}
		}
		slices.Sort(c.Flags)
		out = append(out, c)
	}
	return out, nil
}

// CommandOf reduces a container's arguments to their Command: the
// subcommand and the names of the flags given (as --name value or
// --name=value). Arguments that are not flags are values.
func CommandOf(args []string) Command {
	var c Command
	for i, a := range args {
		switch {
		case i == 0:
			c.Name = a
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a, "=")
			c.Flags = append(c.Flags, name)
		}
	}
	slices.Sort(c.Flags)
	return c
}

// String is the command as topology.txt spells it.
func (c Command) String() string {
	return strings.Join(append([]string{c.Name}, c.Flags...), " ")
}
