package approvals

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// purposeLink is the MAC purpose of approval link tokens.
const purposeLink = "approval-link"

// maxTokenLen bounds what Verify looks at; real tokens are about 250 bytes.
const maxTokenLen = 1024

// Claims is what an approval link token says.
type Claims struct {
	// ID is random and unique per link: it names the link in the decision
	// it makes, so history shows which link decided.
	ID        string `json:"jti"`
	RequestID string `json:"rid"`
	Stage     int    `json:"stg"` // 1-based
	// Extension is the 1-based extension of the grant the link decides; 0
	// (and absent, in links made before extensions had links) for the
	// request itself.
	Extension  int       `json:"ext,omitempty"`
	ApproverID string    `json:"sub"` // Entra object id
	Expires    time.Time `json:"exp"`
	KeyID      string    `json:"-"` // the key that signed it
}

// Kinds of TokenError, for the pages to choose status and wording.
const (
	Malformed = "malformed" // not a token at all, or cut short
	Forged    = "forged"    // altered, or signed with a key this server does not hold
	Expired   = "expired"   // genuine but past its expiry
)

// TokenError says why a token was refused. Claims is set for an expired
// token only: its signature held, so what it names can be trusted.
type TokenError struct {
	Kind   string
	Claims *Claims
}

func (e *TokenError) Error() string {
	switch e.Kind {
	case Expired:
		return fmt.Sprintf("approval link expired at %s", e.Claims.Expires.UTC().Format(time.RFC3339))
	case Forged:
		return "approval link was altered or not made by this jitflow"
	}
	return "approval link is malformed"
}

// Mint signs a token for c with the active key. The ID is filled in.
func (ks *KeySet) Mint(c Claims) (string, Claims, error) {
	switch {
	case c.RequestID == "":
		return "", Claims{}, errors.New("approval link: request id is required")
	case c.Stage < 1:
		return "", Claims{}, fmt.Errorf("approval link: stage is %d; stages count from 1", c.Stage)
	case c.Extension < 0:
		return "", Claims{}, fmt.Errorf("approval link: extension is %d; extensions count from 1, 0 is the request itself", c.Extension)
	case c.ApproverID == "":
		return "", Claims{}, errors.New("approval link: approver id is required")
	case c.Expires.IsZero():
		return "", Claims{}, errors.New("approval link: expiry is required")
	}
	nonce := make([]byte, 12)
	rand.Read(nonce) // never fails (crypto/rand crashes the program instead)
	c.ID = base64.RawURLEncoding.EncodeToString(nonce)
	c.Expires = c.Expires.UTC().Truncate(time.Second)
	c.KeyID = ks.active
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, fmt.Errorf("approval link: %w", err)
	}
	return ks.Seal(purposeLink, payload), c, nil
}

// Verify checks token's signature and expiry against now. Errors are
// *TokenError.
func (ks *KeySet) Verify(token string, now time.Time) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, &TokenError{Kind: Malformed}
	}
	payload, err := ks.Open(purposeLink, token)
	switch {
	case errors.Is(err, ErrForged):
		return Claims{}, &TokenError{Kind: Forged}
	case err != nil:
		return Claims{}, &TokenError{Kind: Malformed}
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil || c.RequestID == "" || c.Stage < 1 || c.Extension < 0 || c.ApproverID == "" || c.ID == "" {
		// Signed by us but not a link: only a key holder could make it.
		return Claims{}, &TokenError{Kind: Forged}
	}
	c.KeyID, _, _ = strings.Cut(token, ".")
	if !now.Before(c.Expires) {
		return Claims{}, &TokenError{Kind: Expired, Claims: &c}
	}
	return c, nil
}
