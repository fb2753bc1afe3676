//go:build !production

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/spf13/cobra"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/internal/graphemu"
	"github.com/jitflow/jitflow/internal/sendgridemu"
	"github.com/jitflow/jitflow/policies"
)

// emulateCommand is `jitflow emulate`: the dev stand-ins for Microsoft
// Graph, SendGrid and Entra's token issuer, each as its own process, so
// that `jitflow server` and `jitflow worker` reach them over HTTP exactly
// as they reach the real services (the production check runs them so).
func emulateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "emulate",
		Short:  "Run a dev stand-in for Microsoft Graph, SendGrid or the token issuer as its own process",
		Hidden: true,
		Args:   cobra.NoArgs,
	}
	cmd.AddCommand(emulateGraphCommand(), emulateSendGridCommand(), emulateIssuerCommand())
	return cmd
}

func emulateGraphCommand() *cobra.Command {
	var addr, dataDir string
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Serve the Microsoft Graph emulator: PIM (state kept in --data-dir) and the dev tenant's users, managers and groups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				return errors.New("--data-dir is required: where the emulator keeps its assignments across restarts")
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return fmt.Errorf("--data-dir: %w", err)
			}
			emu, err := graphemu.New(graphemu.Options{StatePath: filepath.Join(dataDir, "graph.json")})
			if err != nil {
				return err
			}
			defer emu.Close()
			// The dev tenant's people, managers and groups, so policies
			// that name people through Entra run against it.
			if err := emu.SeedDevTenant(); err != nil {
				return err
			}
			return serveUntilDone(cmd, "graph emulator", addr, emu.Handler())
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8091", "address to serve Graph on")
	f.StringVar(&dataDir, "data-dir", "", "directory of the emulator's state")
	return cmd
}

// sendGridMessagesPath lists what the SendGrid stand-in took, for tests
// that count the emails sent.
const sendGridMessagesPath = "/_emulator/messages"

func emulateSendGridCommand() *cobra.Command {
	var addr, keyFile string
	cmd := &cobra.Command{
		Use:   "sendgrid",
		Short: "Serve a SendGrid-compatible Mail Send endpoint; GET " + sendGridMessagesPath + " lists what it took",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := activities.ReadSendGridKey(keyFile)
			if err != nil {
				return err
			}
			emu := sendgridemu.New(key)
			mux := http.NewServeMux()
			mux.Handle("/v3/", emu)
			mux.HandleFunc("GET "+sendGridMessagesPath, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				msgs := emu.Accepted()
				out := make([]sendgridemu.Mail, len(msgs))
				for i, m := range msgs {
					out[i] = m.Mail
				}
				json.NewEncoder(w).Encode(map[string][]sendgridemu.Mail{"value": out})
			})
			return serveUntilDone(cmd, "sendgrid emulator", addr, mux)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8092", "address to serve the Mail Send API on")
	f.StringVar(&keyFile, "api-key-file", "", "file holding the API key it accepts (default: "+activities.SendGridKeyEnv+")")
	return cmd
}

func emulateIssuerCommand() *cobra.Command {
	var addr, dataDir, policyFile, audience string
	cmd := &cobra.Command{
		Use:   "issuer",
		Short: "Serve the dev token issuer (OIDC discovery and JWKS under /dev) for the policy's users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" || policyFile == "" {
				return errors.New("--data-dir and --policy are required: where the signing key is kept, and the users tokens are issued for")
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return fmt.Errorf("--data-dir: %w", err)
			}
			pol, err := policies.Load(policyFile)
			if err != nil {
				return err
			}
			issuer, err := devauth.New(filepath.Join(dataDir, "dev-signing-key.pem"), "http://"+addr+"/dev", audience, pol)
			if err != nil {
				return err
			}
			e := echo.New()
			e.HideBanner, e.HidePort = true, true
			issuer.Register(e)
			return serveUntilDone(cmd, "token issuer", addr, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8093", "address to serve on; the issuer is http://ADDR/dev")
	f.StringVar(&dataDir, "data-dir", "", "directory of the signing key, kept across restarts")
	f.StringVar(&policyFile, "policy", "", "policy file whose users get tokens")
	f.StringVar(&audience, "audience", "api://jitflow", "audience of the tokens")
	return cmd
}

// serveUntilDone serves h on addr until the command's context ends.
func serveUntilDone(cmd *cobra.Command, what, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-cmd.Context().Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	slog.Info(what+" listening", "url", "http://"+ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
