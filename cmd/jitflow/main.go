// Command jitflow is the just-in-time access system for Entra ID roles:
// `jitflow dev` runs everything on a laptop; `jitflow server` and
// `jitflow worker` are the production processes.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "jitflow",
		Short:         "Just-in-time access to Microsoft Entra ID privileged roles",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(devCommand(), serverCommand(), workerCommand(), auditCommand(), probeCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "jitflow:", err)
		os.Exit(1)
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
