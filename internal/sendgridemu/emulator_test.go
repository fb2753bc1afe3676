package sendgridemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const valid = `{"personalizations":[{"to":[{"email":"bob@example.com"}]}],"from":{"email":"jitflow@example.com"},"subject":"s",
"content":[{"type":"text/plain","value":"t"},{"type":"text/html","value":"<p>h</p>"}]}`

func post(t *testing.T, e *Emulator, method, path, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

// errorFields reads the documented error body and returns its fields.
func errorFields(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	var doc struct {
		Errors []struct {
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || len(doc.Errors) == 0 {
		t.Fatalf("error body %q is not {\"errors\":[...]}: %v", w.Body, err)
	}
	var fields []string
	for _, e := range doc.Errors {
		if e.Message == "" {
			t.Errorf("error without message in %s", w.Body)
		}
		if e.Field != nil {
			fields = append(fields, *e.Field)
		}
	}
	return fields
}

func TestAnswers(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(valid, old, new, 1) }
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		field                          string
	}{
		{"accepted", "POST", "/v3/mail/send", "Bearer k", valid, http.StatusAccepted, ""},
		{"sandbox", "POST", "/v3/mail/send", "Bearer k", replace(`"subject"`, `"mail_settings":{"sandbox_mode":{"enable":true}},"subject"`), http.StatusOK, ""},
		{"sandbox enable not a boolean", "POST", "/v3/mail/send", "Bearer k", replace(`"subject"`, `"mail_settings":{"sandbox_mode":{}},"subject"`), http.StatusBadRequest, "mail_settings.sandbox_mode.enable"},
		{"no key", "POST", "/v3/mail/send", "", valid, http.StatusUnauthorized, ""},
		{"wrong key", "POST", "/v3/mail/send", "Bearer nope", valid, http.StatusUnauthorized, ""},
		{"key without scope", "POST", "/v3/mail/send", "Bearer ro", valid, http.StatusForbidden, ""},
		{"html before text", "POST", "/v3/mail/send", "Bearer k", replace(`{"type":"text/plain","value":"t"},{"type":"text/html","value":"<p>h</p>"}`, `{"type":"text/html","value":"<p>h</p>"},{"type":"text/plain","value":"t"}`), http.StatusBadRequest, "content.1.type"},
		{"no sender", "POST", "/v3/mail/send", "Bearer k", replace(`"from":{"email":"jitflow@example.com"},`, ``), http.StatusBadRequest, "from.email"},
		{"no subject", "POST", "/v3/mail/send", "Bearer k", replace(`"subject":"s"`, `"subject":""`), http.StatusBadRequest, "subject"},
		{"not json", "POST", "/v3/mail/send", "Bearer k", "{", http.StatusBadRequest, ""},
		{"other path", "POST", "/v3/templates", "Bearer k", valid, http.StatusNotFound, ""},
		{"GET", "GET", "/v3/mail/send", "Bearer k", "", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New("k")
			e.AddKey("ro", false)
			w := post(t, e, tt.method, tt.path, tt.auth, tt.body)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			switch {
			case w.Code == http.StatusAccepted:
				if w.Body.Len() != 0 || w.Header().Get("X-Message-Id") == "" {
					t.Errorf("202 with body %q and X-Message-Id %q, want an empty body and an id", w.Body, w.Header().Get("X-Message-Id"))
				}
			case w.Code >= 400:
				fields := errorFields(t, w)
				if tt.field != "" && !strings.Contains(strings.Join(fields, " "), tt.field) {
					t.Errorf("error fields %v, want %s", fields, tt.field)
				}
				if len(e.Accepted()) != 0 {
					t.Error("a refused message was kept")
				}
			}
		})
	}
}

func TestFaultsAndRateLimit(t *testing.T) {
	e := New("k")
	now := time.Unix(1_800_000_000, 0)
	e.now = func() time.Time { return now }
	e.FailNext(Fault{Status: http.StatusTooManyRequests, Reset: 30 * time.Second}, Fault{Status: http.StatusBadGateway})
	w := post(t, e, "POST", "/v3/mail/send", "Bearer k", valid)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("X-RateLimit-Reset") != "1800000030" || w.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("429: %d reset %q remaining %q", w.Code, w.Header().Get("X-RateLimit-Reset"), w.Header().Get("X-RateLimit-Remaining"))
	}
	errorFields(t, w)
	if w = post(t, e, "POST", "/v3/mail/send", "Bearer k", valid); w.Code != http.StatusBadGateway {
		t.Fatalf("second answer %d, want 502", w.Code)
	}
	if w = post(t, e, "POST", "/v3/mail/send", "Bearer k", valid); w.Code != http.StatusAccepted {
		t.Fatalf("third answer %d, want 202", w.Code)
	}
	if e.Requests() != 3 || len(e.Accepted()) != 1 {
		t.Fatalf("requests %d accepted %d, want 3 and 1", e.Requests(), len(e.Accepted()))
	}
}

func TestTooLarge(t *testing.T) {
	e := New("k")
	big := strings.Replace(valid, `"value":"t"`, `"value":"`+strings.Repeat("x", MaxBody)+`"`, 1)
	if w := post(t, e, "POST", "/v3/mail/send", "Bearer k", big); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
}
