package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/approvals"
)

func TestLinkFlags(t *testing.T) {
	key := approvals.FormatKey(approvals.GenerateKey())
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		file, env, base string
		wantLinks       bool
		wantErr         string
	}{
		{"no keys", "", "", "https://jitflow.example.com", false, "jitflow keys generate"},
		{"file", file, "", "https://jitflow.example.com", true, ""},
		{"env", "", key, "https://jitflow.example.com", true, ""},
		{"both", file, key, "https://jitflow.example.com", false, "both set"},
		{"no base url", file, "", "", false, "--base-url is required"},
		{"bad base url", file, "", "jitflow.example.com", false, "--base-url"},
		{"bad env", "", "k1:short", "https://jitflow.example.com", false, "JITFLOW_APPROVAL_KEYS"},
		{"missing file", filepath.Join(t.TempDir(), "none"), "", "https://jitflow.example.com", false, "approval keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("JITFLOW_APPROVAL_KEYS", tt.env)
			l := linkFlags{approvalFlags: approvalFlags{keysFile: tt.file}, baseURL: tt.base}
			_, links, err := l.links()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("links() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (links != nil) != tt.wantLinks {
				t.Fatalf("links = %v, want set: %v", links, tt.wantLinks)
			}
			if links == nil {
				return
			}
			link, err := links.Link(context.Background(), activities.LinkInput{RequestID: "req-0123abcd", Stage: 1, ApproverID: "b", Expires: time.Now().Add(time.Hour)})
			if err != nil || !strings.HasPrefix(link, "https://jitflow.example.com/approvals/") {
				t.Errorf("link %q, %v", link, err)
			}
		})
	}
}

func TestSignInFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JITFLOW_SIGNIN_CLIENT_SECRET", "from-env")
	off := signInFlags{}
	if cfg, err := off.config("https://issuer"); cfg != nil || err != nil {
		t.Errorf("no client id: %+v, %v; want sign-in off", cfg, err)
	}
	env := signInFlags{clientID: "app"}
	if cfg, err := env.config("https://issuer"); err != nil || cfg.ClientSecret != "from-env" || cfg.Issuer != "https://issuer" {
		t.Errorf("secret from env: %+v, %v", cfg, err)
	}
	file := signInFlags{clientID: "app", secretFile: secretFile}
	if cfg, err := file.config("https://issuer"); err != nil || cfg.ClientSecret != "s3cret" {
		t.Errorf("secret from file: %+v, %v", cfg, err)
	}
	missing := signInFlags{clientID: "app", secretFile: secretFile + ".none"}
	if _, err := missing.config("https://issuer"); err == nil || !strings.Contains(err.Error(), "--signin-client-secret-file") {
		t.Errorf("missing secret file: %v", err)
	}
}

// TestPageTokenKey: servers with the same key list derive the same page
// token key, and a new first key changes it.
func TestPageTokenKey(t *testing.T) {
	k1, k2 := approvals.GenerateKey(), approvals.GenerateKey()
	parse := func(list string) *approvals.KeySet {
		t.Helper()
		ks, err := approvals.ParseKeys(list)
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	a := pageTokenKey(parse(approvals.FormatKey(k1) + "," + approvals.FormatKey(k2)))
	b := pageTokenKey(parse(approvals.FormatKey(k1) + "," + approvals.FormatKey(k2)))
	if string(a) != string(b) || len(a) < 32 {
		t.Fatalf("two servers with one key list derive %q and %q, want one key of 32 bytes or more", a, b)
	}
	if rotated := pageTokenKey(parse(approvals.FormatKey(k2) + "," + approvals.FormatKey(k1))); string(rotated) == string(a) {
		t.Error("a new first key keeps the page token key")
	}
	if pageTokenKey(nil) != nil {
		t.Error("no keys: want nil (a random key of the server's own)")
	}
}

// jitflow keys generate prints an entry the key list takes.
func TestKeysGenerate(t *testing.T) {
	var out strings.Builder
	cmd := keysCommand()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"generate"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := approvals.ParseKeys(out.String()); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("keys generate printed %q: %v", out.String(), err)
	}
}

// jitflow server refuses to start without the key list, and says how to
// give one.
func TestServerNeedsKeys(t *testing.T) {
	t.Setenv("JITFLOW_APPROVAL_KEYS", "")
	t.Setenv("JITFLOW_APPROVAL_KEYS_FILE", "")
	cmd := serverCommand()
	cmd.SetArgs([]string{"--policy", "none.yaml"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	for _, want := range []string{"--approval-keys", "JITFLOW_APPROVAL_KEYS", "jitflow keys generate"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("server without keys: %v; want an error naming %s", err, want)
		}
	}
}
