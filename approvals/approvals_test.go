package approvals

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/activities"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func newKeys(t *testing.T, n int) []Key {
	t.Helper()
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = GenerateKey()
	}
	return keys
}

func keySet(t *testing.T, keys ...Key) *KeySet {
	t.Helper()
	ks, err := NewKeySet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func claims() Claims {
	return Claims{RequestID: "req-0123abcd", Stage: 1, ApproverID: "11111111-1111-4111-8111-000000000002", Expires: t0.Add(time.Hour)}
}

func mint(t *testing.T, ks *KeySet, c Claims) string {
	t.Helper()
	tok, _, err := ks.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMintVerifyRoundTrip(t *testing.T) {
	ks := keySet(t, newKeys(t, 1)...)
	tok, minted, err := ks.Mint(claims())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ks.Verify(tok, t0)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := claims()
	if got.RequestID != want.RequestID || got.Stage != want.Stage || got.ApproverID != want.ApproverID ||
		!got.Expires.Equal(want.Expires) || got.ID != minted.ID || got.KeyID != ks.ActiveID() {
		t.Errorf("Verify = %+v, want %+v with id %s", got, want, minted.ID)
	}
	if strings.ContainsAny(tok, "/?#+= ") {
		t.Errorf("token %q is not safe in a URL path segment", tok)
	}
	again := mint(t, ks, claims())
	if again == tok {
		t.Error("two links for the same approver are identical; each needs its own id")
	}
}

func TestVerifyRefuses(t *testing.T) {
	keys := newKeys(t, 2)
	ks := keySet(t, keys[0])
	other := keySet(t, keys[1])
	tok := mint(t, ks, claims())
	kid, rest, _ := strings.Cut(tok, ".")
	body, sig, _ := strings.Cut(rest, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	otherPurpose := ks.Seal("approver-session", []byte(`{"jti":"x","rid":"req-0123abcd","stg":1,"sub":"a","exp":"2099-01-01T00:00:00Z"}`))
	tests := []struct {
		name, token string
		now         time.Time
		kind        string
	}{
		{"empty", "", t0, Malformed},
		{"no dots", "abc", t0, Malformed},
		{"too many parts", tok + ".x", t0, Malformed},
		{"short mac", kid + "." + body + "." + sig[:10], t0, Malformed},
		{"too long", strings.Repeat("a", maxTokenLen+1), t0, Malformed},
		{"payload altered", kid + "." + flip(body, 20) + "." + sig, t0, Forged},
		{"mac altered", kid + "." + body + "." + flip(sig, 5), t0, Forged},
		{"unknown key id", "zz." + body + "." + sig, t0, Forged},
		{"another server's key", mint(t, other, claims()), t0, Forged},
		{"sealed for another purpose", otherPurpose, t0, Forged},
		{"negative extension", ks.Seal(purposeLink, []byte(`{"jti":"x","rid":"req-0123abcd","stg":1,"ext":-1,"sub":"a","exp":"2099-01-01T00:00:00Z"}`)), t0, Forged},
		{"expired", tok, t0.Add(time.Hour), Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ks.Verify(tt.token, tt.now)
			var te *TokenError
			if !errors.As(err, &te) || te.Kind != tt.kind {
				t.Fatalf("Verify error = %v, want kind %s", err, tt.kind)
			}
			if tt.kind == Expired && (te.Claims == nil || te.Claims.RequestID != "req-0123abcd") {
				t.Errorf("an expired token should still name its request, got %+v", te.Claims)
			}
		})
	}
}

// TestExtensionClaim: a link names the extension it decides, and a link
// made before links had extensions (no "ext" in its payload) still verifies
// as one for the request itself.
func TestExtensionClaim(t *testing.T) {
	ks := keySet(t, newKeys(t, 1)...)
	c := claims()
	c.Extension, c.Stage = 3, 2
	got, err := ks.Verify(mint(t, ks, c), t0)
	if err != nil || got.Extension != 3 || got.Stage != 2 {
		t.Errorf("extension link verified as %+v, %v; want extension 3, stage 2", got, err)
	}
	plain, err := ks.Verify(mint(t, ks, claims()), t0)
	if err != nil || plain.Extension != 0 {
		t.Errorf("request link verified as %+v, %v; want extension 0", plain, err)
	}
	if payload := sealedPayload(t, ks, mint(t, ks, claims())); strings.Contains(payload, `"ext"`) {
		t.Errorf("a link for the request itself carries an extension: %s", payload)
	}
	old := ks.Seal(purposeLink, []byte(`{"jti":"AAAAAAAAAAAAAAAA","rid":"req-0123abcd","stg":1,"sub":"b","exp":"2099-01-01T00:00:00Z"}`))
	got, err = ks.Verify(old, t0)
	if err != nil || got.Extension != 0 || got.RequestID != "req-0123abcd" || got.Stage != 1 {
		t.Errorf("a link made before extensions verified as %+v, %v; want request req-0123abcd, stage 1, extension 0", got, err)
	}
}

// sealedPayload opens a token the way Verify does and returns its payload.
func sealedPayload(t *testing.T, ks *KeySet, tok string) string {
	t.Helper()
	b, err := ks.Open(purposeLink, tok)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRotation(t *testing.T) {
	keys := newKeys(t, 2)
	old := keySet(t, keys[0])
	oldTok := mint(t, old, claims())
	rotated := keySet(t, keys[1], keys[0])
	if _, err := rotated.Verify(oldTok, t0); err != nil {
		t.Errorf("a link signed with the previous key no longer verifies: %v", err)
	}
	newTok := mint(t, rotated, claims())
	if c, err := rotated.Verify(newTok, t0); err != nil || c.KeyID != keys[1].ID {
		t.Errorf("new link: key %q, err %v; want signed by the first key %q", c.KeyID, err, keys[1].ID)
	}
	retired := keySet(t, keys[1])
	if _, err := retired.Verify(oldTok, t0); err == nil {
		t.Error("a link signed with a removed key still verifies")
	}
}

func TestMintRejects(t *testing.T) {
	ks := keySet(t, newKeys(t, 1)...)
	tests := []struct {
		name   string
		change func(*Claims)
		field  string
	}{
		{"no request", func(c *Claims) { c.RequestID = "" }, "request id"},
		{"stage 0", func(c *Claims) { c.Stage = 0 }, "stage"},
		{"no approver", func(c *Claims) { c.ApproverID = "" }, "approver id"},
		{"no expiry", func(c *Claims) { c.Expires = time.Time{} }, "expiry"},
		{"negative extension", func(c *Claims) { c.Extension = -1 }, "extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claims()
			tt.change(&c)
			if _, _, err := ks.Mint(c); err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Mint error = %v, want one naming %q", err, tt.field)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k := newKeys(t, 2)
	tests := []struct {
		name, text, active, wantErr string
	}{
		{"one", FormatKey(k[0]), k[0].ID, ""},
		{"comma list, first signs", FormatKey(k[1]) + "," + FormatKey(k[0]), k[1].ID, ""},
		{"lines and comments", "# rotated\n" + FormatKey(k[0]) + "\n\n" + FormatKey(k[1]) + "\n", k[0].ID, ""},
		{"standard base64 with padding", k[0].ID + ":" + "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", k[0].ID, ""},
		{"empty", "", "", "none given"},
		{"no colon", "abc", "", "KID:SECRET"},
		{"short secret", "a:MDEyMzQ1Njc4OQ", "", "at least 32"},
		{"bad base64", "a:!!!", "", "not base64"},
		{"bad id", "a b:" + strings.Split(FormatKey(k[0]), ":")[1], "", "letters, digits"},
		{"duplicate id", FormatKey(k[0]) + "," + FormatKey(k[0]), "", "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, err := ParseKeys(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKeys error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ks.ActiveID() != tt.active {
				t.Errorf("active key = %q, want %q", ks.ActiveID(), tt.active)
			}
		})
	}
}

func TestLoadOrCreateKeysPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "approval-keys")
	first, err := LoadOrCreateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	tok := mint(t, first, claims())
	again, err := LoadOrCreateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Verify(tok, t0); err != nil {
		t.Errorf("a link from before the restart does not verify after it: %v", err)
	}
}

func TestLinks(t *testing.T) {
	ks := keySet(t, newKeys(t, 1)...)
	l, err := NewLinks(ks, "http://127.0.0.1:8080/")
	if err != nil {
		t.Fatal(err)
	}
	link, err := l.Link(context.Background(), activities.LinkInput{RequestID: "req-0123abcd", Stage: 2, ApproverID: "b", Expires: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutPrefix(link, "http://127.0.0.1:8080/approvals/")
	if !ok {
		t.Fatalf("link %q is not under /approvals/", link)
	}
	if c, err := ks.Verify(tok, t0); err != nil || c.Stage != 2 || c.ApproverID != "b" {
		t.Errorf("link token: %+v, %v", c, err)
	}
	ext, err := l.Link(context.Background(), activities.LinkInput{RequestID: "req-0123abcd", Stage: 1, Extension: 2, ApproverID: "b", Expires: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := ks.Verify(strings.TrimPrefix(ext, "http://127.0.0.1:8080/approvals/"), t0); err != nil || c.Extension != 2 || c.Stage != 1 {
		t.Errorf("extension link token: %+v, %v; want extension 2, stage 1", c, err)
	}
	l.now = func() time.Time { return t0 }
	noExpiry, err := l.Link(context.Background(), activities.LinkInput{RequestID: "req-0123abcd", Stage: 1, ApproverID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ks.Verify(strings.TrimPrefix(noExpiry, "http://127.0.0.1:8080/approvals/"), t0)
	if err != nil || !c.Expires.Equal(t0.Add(DefaultLinkLifetime)) {
		t.Errorf("a link asked for without expiry: expires %s, err %v; want %s", c.Expires, err, t0.Add(DefaultLinkLifetime))
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x", "/approvals"} {
		if _, err := NewLinks(ks, bad); err == nil {
			t.Errorf("NewLinks(%q) succeeded, want an error", bad)
		}
	}
}

// Derive gives each purpose its own keys, the same from the same list,
// under the list's key ids with the signing key first.
func TestDerive(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	ks, err := NewKeySet(b, a)
	if err != nil {
		t.Fatal(err)
	}
	one, again, other := ks.Derive("one", 32), ks.Derive("one", 32), ks.Derive("other", 32)
	if len(one) != 2 || one[0].ID != b.ID || one[1].ID != a.ID {
		t.Fatalf("derived keys %v, want %s first then %s", one, b.ID, a.ID)
	}
	for i := range one {
		if !bytes.Equal(one[i].Secret, again[i].Secret) || bytes.Equal(one[i].Secret, other[i].Secret) ||
			bytes.Equal(one[i].Secret, b.Secret) || bytes.Equal(one[i].Secret, a.Secret) || len(one[i].Secret) != 32 {
			t.Errorf("key %s: derived secrets are not per purpose and stable", one[i].ID)
		}
	}
}
