package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// maxPageTokenLen bounds the page_token parameter; visibility's own tokens
// are a few hundred bytes.
const maxPageTokenLen = 4096

// pageSigner wraps visibility's next-page tokens so that a caller cannot
// read or change the query behind them: the token is bound to the caller
// and to the exact query (filters and scope) it continues, and signed.
type pageSigner struct{ key []byte }

func newPageSigner(key []byte) (pageSigner, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return pageSigner{}, fmt.Errorf("page token key: %w", err)
		}
	}
	if len(key) < 16 {
		return pageSigner{}, errors.New("server: PageTokenKey must be at least 16 bytes")
	}
	return pageSigner{key: key}, nil
}

type pagePayload struct {
	Query string `json:"q"` // hash of caller and query
	Next  []byte `json:"n"` // visibility's token
}

func queryHash(callerID, query string) string {
	sum := sha256.Sum256([]byte(callerID + "\n" + query))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func (p pageSigner) mac(data []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write(data)
	return m.Sum(nil)
}

// wrap makes the opaque token for the page after this one.
func (p pageSigner) wrap(callerID, query string, next []byte) string {
	if len(next) == 0 {
		return ""
	}
	data, _ := json.Marshal(pagePayload{Query: queryHash(callerID, query), Next: next})
	return base64.RawURLEncoding.EncodeToString(data) + "." + base64.RawURLEncoding.EncodeToString(p.mac(data))
}

// unwrap checks a token against the query it is used with and returns
// visibility's token.
func (p pageSigner) unwrap(token, callerID, query string) ([]byte, error) {
	bad := func(why string) error {
		return fieldError(http.StatusBadRequest, "page_token", "page_token %s; pass next_page_token from the previous page unchanged, with the same filters (or leave it out to start over)", why)
	}
	if len(token) > maxPageTokenLen {
		return nil, bad(fmt.Sprintf("is over %d characters", maxPageTokenLen))
	}
	body, sig, ok := strings.Cut(token, ".")
	// Strict decoding: one token, one spelling.
	data, err1 := base64.RawURLEncoding.Strict().DecodeString(body)
	mac, err2 := base64.RawURLEncoding.Strict().DecodeString(sig)
	if !ok || err1 != nil || err2 != nil || !hmac.Equal(mac, p.mac(data)) {
		return nil, bad("is not one this server issued")
	}
	var pl pagePayload
	if err := json.Unmarshal(data, &pl); err != nil || len(pl.Next) == 0 {
		return nil, bad("is not one this server issued")
	}
	if !hmac.Equal([]byte(pl.Query), []byte(queryHash(callerID, query))) {
		return nil, bad("belongs to another listing (other filters or another user)")
	}
	return pl.Next, nil
}
