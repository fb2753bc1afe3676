// Command jitflow is the just-in-time access system for Entra ID roles:
// `jitflow dev` runs everything on a laptop; `jitflow server` and
// `jitflow worker` are the production processes; request, approve, list
// and the other API commands (package cli) are its command line.
//
// Built with -tags production it is the production binary: the commands
// that embed a Temporal server, its Web UI and the emulators (dev, bench)
// are left out, and only say so when called (see devcmds.go and
// production.go).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/jitflow/jitflow/cmd/jitflow/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := cli.NewRoot()
	root.AddCommand(serverCommand(), workerCommand(), setupCommand(), keysCommand(), policyCommand(), probeCommand())
	root.AddCommand(devCommands()...)
	addAuditExport(root)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "jitflow:", err)
		stop()
		os.Exit(cli.ExitCode(err))
	}
}

// logFlags choose how a command logs: JSON for machines or text for
// people, to stderr.
type logFlags struct{ format, level string }

func (l *logFlags) register(f *pflag.FlagSet, format, level string) {
	f.StringVar(&l.format, "log-format", format, "log format: json or text")
	f.StringVar(&l.level, "log-level", level, "log level: debug, info, warn or error")
}

func (l *logFlags) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch l.format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use json or text", l.format)
}
