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

// approvalFlags give jitflow's key list: it signs and checks approval
// links, and the proofs that workflows demand of every request and
// decision (package proof). Every server and worker needs the same list.
type approvalFlags struct {
	keysFile string
}

func (a *approvalFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.keysFile, "approval-keys", envOr("JITFLOW_APPROVAL_KEYS_FILE", ""),
		"file of jitflow's keys, KID:BASE64SECRET per line, the first one signs; required, the same on every server and worker (env JITFLOW_APPROVAL_KEYS_FILE; or the list itself in env JITFLOW_APPROVAL_KEYS; make one with `jitflow keys generate`)")
}

// errNoKeys explains the one setting servers and workers cannot run
// without.
var errNoKeys = errors.New("jitflow's key list is required: give --approval-keys FILE, JITFLOW_APPROVAL_KEYS_FILE or JITFLOW_APPROVAL_KEYS " +
	"(KID:BASE64SECRET entries, the first one signs; make one with `jitflow keys generate`). " +
	"Every server and worker needs the same list: it signs approval links and the proofs without which workflows refuse requests and decisions")

// keys returns the configured key set; there must be one.
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
	return nil, errNoKeys
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

// links returns the key set and the link minter made with it.
func (l *linkFlags) links() (*approvals.KeySet, activities.ApprovalLinks, error) {
	keys, err := l.keys()
	if err != nil {
		return nil, nil, err
	}
	if l.baseURL == "" {
		return nil, nil, errors.New("--base-url is required: the public URL of the jitflow server, where approval links point, e.g. https://jitflow.example.com")
	}
	links, err := approvals.NewLinks(keys, l.baseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--base-url: %w", err)
	}
	return keys, links, nil
}
