package approvals

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: any string given as an approval link token is refused with
// one of the three kinds, or is exactly a token this key set signed, with
// complete claims. Verify never panics.
func FuzzVerify(f *testing.F) {
	keys := []Key{{ID: "k1", Secret: []byte(strings.Repeat("s", 32))}, {ID: "k2", Secret: []byte(strings.Repeat("t", 32))}}
	ks, err := NewKeySet(keys...)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range []Claims{claims(), {RequestID: "req-1", Stage: 2, Extension: 3, ApproverID: "x", Expires: t0.Add(time.Minute)}} {
		tok, _, err := ks.Mint(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(strings.Replace(tok, "k1.", "k2.", 1))
	}
	cookie := ks.Seal("session", []byte(`{"rid":"req-1","stg":1,"sub":"x","jti":"j","exp":"2036-01-01T00:00:00Z"}`))
	signedNonLink := ks.Seal(purposeLink, []byte(`{"rid":"req-1"}`))
	for _, s := range []string{"", ".", "..", "k1..", "k1.e30.", cookie, signedNonLink, "k9.e30." + strings.Repeat("A", 43), strings.Repeat("k1.", 400)} {
		f.Add(s)
	}
	kinds := []string{Malformed, Forged, Expired}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := ks.Verify(token, t0)
		if err == nil {
			// Only the one spelling the key signed is accepted, and what
			// it says is complete.
			kid, rest, _ := strings.Cut(token, ".")
			body, _, _ := strings.Cut(rest, ".")
			sum, _ := ks.mac(purposeLink, kid, []byte(body))
			if token != kid+"."+body+"."+base64.RawURLEncoding.EncodeToString(sum) {
				t.Fatalf("Verify accepted %q, which is not the spelling its key signs", token)
			}
			if c.ID == "" || c.RequestID == "" || c.Stage < 1 || c.Extension < 0 || c.ApproverID == "" || c.KeyID != kid || !t0.Before(c.Expires) {
				t.Fatalf("Verify(%q) accepted incomplete claims %+v", token, c)
			}
			return
		}
		var te *TokenError
		if !errors.As(err, &te) || !slices.Contains(kinds, te.Kind) {
			t.Fatalf("Verify(%q) = %v, want a *TokenError of kind %v", token, err, kinds)
		}
		if (te.Kind == Expired) != (te.Claims != nil) {
			t.Fatalf("Verify(%q): kind %s with claims %v; only an expired token carries its claims", token, te.Kind, te.Claims)
		}
		if te.Error() == "" {
			t.Fatalf("Verify(%q): empty message", token)
		}
	})
}
