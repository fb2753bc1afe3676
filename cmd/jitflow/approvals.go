package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/jitflow/jitflow/activities"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/server"
)

// approvalFlags configure approval links: the keys that sign them (worker)
// and check them (server). Both processes need the same key list.
type approvalFlags struct {
	keysFile string
}

func (a *approvalFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.keysFile, "approval-keys", envOr("JITFLOW_APPROVAL_KEYS_FILE", ""),
		"file of approval link keys, KID:BASE64SECRET per line, the first one signs (env JITFLOW_APPROVAL_KEYS_FILE; or the list itself in env JITFLOW_APPROVAL_KEYS)")
}

// keys returns the configured key set, or nil when approval links are off.
func (a *approvalFlags) keys() (*approvals.KeySet, error) {
	inline := os.Getenv("JITFLOW_APPROVAL_KEYS")
	switch {
	case a.keysFile != "" && inline != "":
		return nil, errors.New("--approval-keys and JITFLOW_APPROVAL_KEYS are both set; give the keys one way")
	case a.keysFile != "":
		return approvals.LoadKeys(a.keysFile)
	case inline != "":
		ks, err := approvals.ParseKeys(inline)
		if err != nil {
			return nil, fmt.Errorf("JITFLOW_APPROVAL_KEYS: %w", err)
		}
		return ks, nil
	}
	return nil, nil
}

// pageTokenKey is the key that signs list page tokens, derived from the
// approval keys so that every server with the same key list accepts the
// tokens of the others: the active key's MAC, for a purpose of its own,
// over nothing. Only holders of the secret can compute it, and no approval
// link or cookie (other purposes) is ever this value. Putting a new key
// first invalidates the page tokens in flight, which only makes a client
// list again from the first page. Without keys the server makes a random
// key, good for itself alone.
func pageTokenKey(keys *approvals.KeySet) []byte {
	if keys == nil {
		return nil
	}
	return []byte(keys.Seal("page-token-key", nil))
}

// signInFlags configure approver sign-in on the approval pages, for roles
// with approver_sign_in and roles that require a step-up (MFA or an
// authentication context).
type signInFlags struct {
	clientID, secretFile string
}

func (s *signInFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.clientID, "signin-client-id", envOr("JITFLOW_SIGNIN_CLIENT_ID", ""),
		"Entra app (client) id that signs approvers in on the approval pages; its redirect URI is BASE_URL"+server.SignInCallbackPath+" (env JITFLOW_SIGNIN_CLIENT_ID)")
	f.StringVar(&s.secretFile, "signin-client-secret-file", envOr("JITFLOW_SIGNIN_CLIENT_SECRET_FILE", ""),
		"file holding that app's client secret (env JITFLOW_SIGNIN_CLIENT_SECRET_FILE; or the secret itself in env JITFLOW_SIGNIN_CLIENT_SECRET)")
}

// config is the sign-in for issuer, or nil when no client id is set.
func (s *signInFlags) config(issuer string) (*server.SignInConfig, error) {
	if s.clientID == "" {
		return nil, nil
	}
	secret := os.Getenv("JITFLOW_SIGNIN_CLIENT_SECRET")
	if s.secretFile != "" {
		b, err := os.ReadFile(s.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--signin-client-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	return &server.SignInConfig{Issuer: issuer, ClientID: s.clientID, ClientSecret: secret}, nil
}

// linkFlags configure the worker's approval links: the keys and the
// public URL of the server that serves the pages.
type linkFlags struct {
	approvalFlags
	baseURL string
}

func (l *linkFlags) register(f *pflag.FlagSet) {
	l.approvalFlags.register(f)
	f.StringVar(&l.baseURL, "base-url", envOr("JITFLOW_BASE_URL", ""),
		"public URL of the jitflow server, where approval links in emails point (env JITFLOW_BASE_URL); needed with approval keys")
}

// links returns the link minter, or nil (approvers are told to use the
// API) when no keys are configured.
func (l *linkFlags) links() (activities.ApprovalLinks, error) {
	keys, err := l.keys()
	if err != nil || keys == nil {
		return nil, err
	}
	if l.baseURL == "" {
		return nil, errors.New("--base-url is required with approval keys: the public URL of the jitflow server, e.g. https://jitflow.example.com")
	}
	links, err := approvals.NewLinks(keys, l.baseURL)
	if err != nil {
		return nil, fmt.Errorf("--base-url: %w", err)
	}
	return links, nil
}
