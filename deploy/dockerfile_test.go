package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// instruction is one Dockerfile line (continuations joined).
type instruction struct{ cmd, args string }

func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDockerfile: a build stage with the Go of go.mod, then a small final
// stage that runs as an unprivileged user.
func TestDockerfile(t *testing.T) {
	ins := readDockerfile(t)
	var stages []string
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, in.args)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("stages = %v, want a build stage and a final one", stages)
	}
	if !strings.HasPrefix(stages[0], "golang:1.26.8") {
		t.Errorf("build stage FROM %s, want golang:1.26.8 (go.mod's Go)", stages[0])
	}
	final := stages[len(stages)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && !strings.HasPrefix(final, "scratch") {
		t.Errorf("final stage FROM %s, want distroless static or scratch", final)
	}
	var last []instruction
	for i := len(ins) - 1; i >= 0 && ins[i].cmd != "FROM"; i-- {
		last = append([]instruction{ins[i]}, last...)
	}
	var user, entry string
	copiesBinary := false
	for _, in := range last {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args
		case "COPY":
			copiesBinary = copiesBinary || (strings.Contains(in.args, "--from=") && strings.Contains(in.args, "jitflow"))
		case "RUN":
			t.Errorf("final stage runs %q; it should only copy the binary in", in.args)
		}
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("final stage USER %q, want an unprivileged user", user)
	}
	if !copiesBinary || !strings.Contains(entry, "jitflow") {
		t.Errorf("final stage copies the binary %v, entrypoint %q", copiesBinary, entry)
	}
	builds := 0
	for _, in := range ins {
		if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		builds++
		if !strings.Contains(in.args, "./cmd/jitflow") {
			t.Errorf("build step %q does not build ./cmd/jitflow", in.args)
		}
		if !strings.Contains(in.args, "-tags production") {
			t.Errorf("build step %q is not the production build (-tags production)", in.args)
		}
	}
	if builds == 0 {
		t.Error("no RUN go build step")
	}
}
