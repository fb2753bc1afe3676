// Package approvals makes and checks the personal links that let an
// approver decide a request from an email: signed tokens bound to one
// request, one stage and one approver, with an expiry.
package approvals

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// MinKeyBytes is the shortest secret accepted: a key shorter than the
// SHA-256 output would be the weakest part of the MAC.
const MinKeyBytes = 32

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// KeySet holds the HMAC-SHA256 keys of approval links. The first key signs;
// every key verifies, so a new key can be put first while links signed
// with the old one still work until they expire.
type KeySet struct {
	active string
	keys   map[string][]byte
}

// Key is one named secret.
type Key struct {
	ID     string
	Secret []byte
}

// NewKeySet makes a set whose first key signs.
func NewKeySet(keys ...Key) (*KeySet, error) {
	if len(keys) == 0 {
		return nil, errors.New("approval keys: none given; give at least one KID:SECRET")
	}
	ks := &KeySet{active: keys[0].ID, keys: make(map[string][]byte, len(keys))}
	for i, k := range keys {
		if !kidPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("approval keys: key %d: id %q must be 1 to 32 letters, digits, '_' or '-'", i+1, k.ID)
		}
		if len(k.Secret) < MinKeyBytes {
			return nil, fmt.Errorf("approval keys: key %q: secret is %d bytes; at least %d are needed", k.ID, len(k.Secret), MinKeyBytes)
		}
		if _, dup := ks.keys[k.ID]; dup {
			return nil, fmt.Errorf("approval keys: key id %q appears twice", k.ID)
		}
		ks.keys[k.ID] = append([]byte(nil), k.Secret...)
	}
	return ks, nil
}

// ParseKeys reads a key list: entries KID:SECRET separated by newlines or
// commas, SECRET in base64 (standard or URL alphabet, padded or not) of at
// least 32 bytes. Lines starting with # are comments. The first entry signs.
func ParseKeys(text string) (*KeySet, error) {
	var keys []Key
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			kid, secret, ok := strings.Cut(entry, ":")
			if !ok {
				return nil, fmt.Errorf("approval keys: entry %d is not KID:SECRET (a key id, a colon, a base64 secret)", len(keys)+1)
			}
			raw, err := decodeSecret(strings.TrimSpace(secret))
			if err != nil {
				return nil, fmt.Errorf("approval keys: key %q: secret is not base64: %w", strings.TrimSpace(kid), err)
			}
			keys = append(keys, Key{ID: strings.TrimSpace(kid), Secret: raw})
		}
	}
	return NewKeySet(keys...)
}

func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// LoadKeys reads a key list (see ParseKeys) from a file.
func LoadKeys(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("approval keys: %w", err)
	}
	ks, err := ParseKeys(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ks, nil
}

// LoadOrCreateKeys reads the key file at path, first writing one with a
// fresh random key (mode 0600) when there is none, so links survive
// restarts of `jitflow dev`.
func LoadOrCreateKeys(path string) (*KeySet, error) {
	if _, err := os.Stat(path); err == nil {
		return LoadKeys(path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("approval keys: %w", err)
	}
	k := GenerateKey()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("approval keys: %w", err)
	}
	text := "# jitflow approval link keys: KID:SECRET, the first one signs.\n" + FormatKey(k) + "\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("approval keys: %w", err)
	}
	return NewKeySet(k)
}

// GenerateKey makes a random 32-byte key with a random id.
func GenerateKey() Key {
	secret := make([]byte, MinKeyBytes)
	id := make([]byte, 6)
	rand.Read(secret) // never fails (crypto/rand crashes the program instead)
	rand.Read(id)
	return Key{ID: "k" + base64.RawURLEncoding.EncodeToString(id), Secret: secret}
}

// FormatKey writes a key the way ParseKeys reads it.
func FormatKey(k Key) string {
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(k.Secret)
}

// ActiveID is the id of the key that signs.
func (ks *KeySet) ActiveID() string { return ks.active }

// Derive returns, for each key of the set, a secret of size bytes derived
// from it for one purpose (HKDF-SHA256 with the purpose as its info), under
// the same key id; the signing key comes first. Another use of jitflow's
// one key list (the decision proofs' Ed25519 keys) gets keys of its own
// that reveal nothing of the link keys, and rotates with them.
func (ks *KeySet) Derive(purpose string, size int) []Key {
	out := make([]Key, 0, len(ks.keys))
	add := func(kid string) {
		secret, err := hkdf.Key(sha256.New, ks.keys[kid], nil, "jitflow/"+purpose+"/v1", size)
		if err != nil {
			// Only a size beyond HKDF-SHA256's limit (8160 bytes) fails: a
			// caller's constant, not something a deployment can cause.
			panic(fmt.Sprintf("approvals: derive %d bytes for %s: %v", size, purpose, err))
		}
		out = append(out, Key{ID: kid, Secret: secret})
	}
	add(ks.active)
	ids := make([]string, 0, len(ks.keys))
	for kid := range ks.keys {
		if kid != ks.active {
			ids = append(ids, kid)
		}
	}
	slices.Sort(ids)
	for _, kid := range ids {
		add(kid)
	}
	return out
}

// mac signs msg for one purpose: the purpose is part of the MAC input, so
// a value signed for one use (a session cookie) is never accepted as
// another (an approval link).
func (ks *KeySet) mac(purpose, kid string, msg []byte) ([]byte, bool) {
	key, ok := ks.keys[kid]
	if !ok {
		return nil, false
	}
	h := hmac.New(sha256.New, key)
	h.Write([]byte("jitflow/" + purpose + "/v1\x00" + kid + "\x00"))
	h.Write(msg)
	return h.Sum(nil), true
}

// Seal signs payload for purpose with the active key:
// KID.BASE64URL(payload).BASE64URL(mac).
func (ks *KeySet) Seal(purpose string, payload []byte) string {
	body := base64.RawURLEncoding.EncodeToString(payload)
	sum, _ := ks.mac(purpose, ks.active, []byte(body))
	return ks.active + "." + body + "." + base64.RawURLEncoding.EncodeToString(sum)
}

// Errors of Open; a caller tells people apart only "malformed" from
// "forged", never which check failed inside.
var (
	ErrMalformed = errors.New("malformed")
	ErrForged    = errors.New("signature does not match")
)

// Open checks a value made by Seal for the same purpose and returns its
// payload. The MAC is compared in constant time, before the payload is
// decoded.
func (ks *KeySet) Open(purpose, sealed string) ([]byte, error) {
	kid, rest, ok := strings.Cut(sealed, ".")
	if !ok {
		return nil, ErrMalformed
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok || body == "" || strings.Contains(sig, ".") {
		return nil, ErrMalformed
	}
	// The MAC has one spelling (the decoder alone would also take other
	// trailing bits and skip line breaks), so a link cannot be reworded
	// into another string that still opens.
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size || base64.RawURLEncoding.EncodeToString(got) != sig {
		return nil, ErrMalformed
	}
	want, known := ks.mac(purpose, kid, []byte(body))
	if !known || !hmac.Equal(got, want) {
		return nil, ErrForged
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrMalformed
	}
	return payload, nil
}
