package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/freetext"
	"github.com/jitflow/jitflow/policies"
)

// FuzzDecodeStrict: whatever the body, the decoder answers a value or a
// 400/413 problem that says what is wrong; it never panics.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		readerBody, `{}`, ``, `null`, `[]`, `"x"`, `{"role":1}`, `{"Role":"reader"}`, `{"role":"reader"}{}`,
		`{"role":"reader","extra":true}`, `{"role":"reader","duration":"PT1H","ticket":"CHG-1","justification":"x"}`,
		`{"role":`, `{"role":"\ud800"}`, "\xff\xfe", `{"role":"a","role":"b"}`, strings.Repeat(`[`, 10000),
		`{"role":"reader","justification":"a\u202eb"}`, `{"role":"reader","justification":"a\r\nb","ticket":"\n"}`,
		`{"role":"reader","r\u006fle":"admin"}`, "{\"role\":\"reader\",\"justification\":\"\u2066\"}",
	} {
		f.Add([]byte(s))
	}
	e := echo.New()
	s := &Server{policies: staticPolicy{policies.Dev()}}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/requests", strings.NewReader(string(body)))
		c := e.NewContext(req, httptest.NewRecorder())
		var dst createBody
		err := decodeStrict(c, &dst, false)
		if err == nil {
			// What decodes holds no text the freetext rule refuses...
			for field, v := range map[string]string{"role": dst.Role, "duration": dst.Duration, "ticket": dst.Ticket} {
				if err := freetext.Check(field, v, freetext.SingleLine); err != nil {
					t.Fatalf("accepted %q: %v", body, err)
				}
			}
			if err := freetext.Check("justification", dst.Justification, freetext.MultiLine); err != nil {
				t.Fatalf("accepted %q: %v", body, err)
			}
			// ...and passes on to the policy's input or is refused with a
			// field named.
			if _, err := requestInput(s.policies.Current(), dst); err != nil {
				checkProblem(t, err, http.StatusBadRequest)
			}
			return
		}
		checkProblem(t, err, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	})
}

func checkProblem(t *testing.T, err error, statuses ...int) {
	t.Helper()
	var ae *apiError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not a problem", err)
	}
	ok := false
	for _, s := range statuses {
		ok = ok || ae.status == s
	}
	if !ok || ae.detail == "" {
		t.Fatalf("problem %d %q, want one of %v with a detail", ae.status, ae.detail, statuses)
	}
}

// FuzzVerify: any string as a token is refused with a reason, or is a
// token the issuer really signed; parsing never panics.
func FuzzVerify(f *testing.F) {
	e := newEnvWith(f, policies.Dev(), nil)
	f.Add(e.token("alice"))
	f.Add(tamper(e.token("alice")))
	for _, tok := range e.forgedTokens() {
		f.Add(tok)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", strings.Repeat("a.", 100)} {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := e.server.verifier.Verify(ctx, raw)
		if err == nil {
			if c.ObjectID == "" {
				t.Fatalf("token accepted without an oid: %q", raw)
			}
			return
		}
		var te *TokenError
		if !errors.As(err, &te) || te.Reason == "" {
			t.Fatalf("Verify(%q) = %v, want a *TokenError with a reason", raw, err)
		}
	})
}

// FuzzBearerToken: any Authorization header is taken apart without panics,
// and what comes out holds no spaces at its ends.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer abc", "Basic x", "Bearer", "Bearer  ", "Bearer a b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", h)
		tok, err := bearerToken(r)
		if err == nil && (tok == "" || strings.TrimSpace(tok) != tok) {
			t.Fatalf("bearerToken(%q) = %q", h, tok)
		}
	})
}

// FuzzPageToken: only tokens this server wrapped, for this caller and
// query, are accepted.
func FuzzPageToken(f *testing.F) {
	p, err := newPageSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	good := p.wrap(aliceID, "q", []byte("next"))
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add("." + good)
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		next, err := p.unwrap(tok, aliceID, "q")
		if err != nil {
			checkProblem(t, err, http.StatusBadRequest)
			return
		}
		if tok != good || string(next) != "next" {
			t.Fatalf("accepted %q (next %q), which this server did not issue", tok, next)
		}
	})
}
