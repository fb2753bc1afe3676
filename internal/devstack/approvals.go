package devstack

import (
	"fmt"
	"path/filepath"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/internal/devauth"
	"github.com/jitflow/jitflow/server"
)

// SignInClientID is the dev issuer's client for approvers who sign in.
const SignInClientID = "jitflow-dev-approvals"

// approvalLinks loads (or first makes) the approval link keys kept in the
// data dir, so links in the outbox work across restarts, and the minter
// the worker puts them in emails with.
func approvalLinks(dataDir, apiURL string) (*approvals.KeySet, *approvals.Links, error) {
	keys, err := approvals.LoadOrCreateKeys(filepath.Join(dataDir, "approval-keys"))
	if err != nil {
		return nil, nil, err
	}
	links, err := approvals.NewLinks(keys, apiURL)
	if err != nil {
		return nil, nil, fmt.Errorf("approval links: %w", err)
	}
	return keys, links, nil
}

// signIn registers the approval pages with the dev issuer and says how
// the pages reach it.
func signIn(issuer *devauth.Issuer, apiURL string) *server.SignInConfig {
	issuer.AllowClient(SignInClientID, apiURL+server.SignInCallbackPath)
	return &server.SignInConfig{Issuer: issuer.Issuer(), ClientID: SignInClientID}
}
