// Package sendgridemu is a local stand-in for SendGrid's v3 Mail Send API
// (POST /v3/mail/send), for tests and for trying the SendGrid mailer without
// an account. It checks requests the way SendGrid documents (bearer key,
// payload shape, size) and answers like it: 202 with an empty body and an
// X-Message-Id, 200 in sandbox mode, and errors as
// {"errors":[{"message","field","help"}]} with 400, 401, 403, 413, and 429
// with X-RateLimit-* headers.
package sendgridemu

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// MaxBody is SendGrid's limit on the total size of a message.
const MaxBody = 30 << 20

// helpURL is where error answers point, like SendGrid's help field.
const helpURL = "https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors"

// Emulator is the Mail Send endpoint. It is safe for concurrent use.
type Emulator struct {
	mu       sync.Mutex
	keys     map[string]bool // key -> may send mail
	accepted []Accepted
	faults   []Fault
	requests int
	now      func() time.Time
}

// Accepted is one message the endpoint took.
type Accepted struct {
	MessageID string
	Sandbox   bool
	Header    http.Header
	Mail      Mail
}

// Fault makes one answer fail with Status (a 429 carries the rate-limit
// headers, resetting Reset after the answer).
type Fault struct {
	Status int
	Reset  time.Duration
}

// New returns an endpoint that accepts apiKey for sending.
func New(apiKey string) *Emulator {
	return &Emulator{keys: map[string]bool{apiKey: true}, now: time.Now}
}

// AddKey registers another key; maysend false makes it a key without the
// mail.send scope, which SendGrid answers with 403.
func (e *Emulator) AddKey(key string, maySend bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.keys[key] = maySend
}

// FailNext makes the next answers fail, one fault each, in order.
func (e *Emulator) FailNext(faults ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, faults...)
}

// Accepted returns the messages taken so far, oldest first.
func (e *Emulator) Accepted() []Accepted {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Accepted(nil), e.accepted...)
}

// Requests is how many calls reached the endpoint.
func (e *Emulator) Requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests
}

// ServeHTTP answers POST /v3/mail/send.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.requests++
	e.mu.Unlock()
	if r.URL.Path != "/v3/mail/send" {
		writeErrors(w, http.StatusNotFound, apiError{Message: "resource not found"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeErrors(w, http.StatusMethodNotAllowed, apiError{Message: "method not allowed; use POST"})
		return
	}
	if status, ok := e.authorize(r); !ok {
		msg := "The provided authorization grant is invalid, expired, or revoked"
		if status == http.StatusForbidden {
			msg = "access forbidden: the API key lacks the mail.send scope"
		}
		writeErrors(w, status, apiError{Message: msg})
		return
	}
	if f, ok := e.nextFault(); ok {
		e.fail(w, f)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, apiError{Message: "the request body could not be read"})
		return
	}
	if len(body) > MaxBody {
		writeErrors(w, http.StatusRequestEntityTooLarge, apiError{Message: "the total size of the message must be under 30MB", Help: helpURL})
		return
	}
	m, errs := parse(body)
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	e.accept(w, r, m)
}

// authorize checks the bearer key in constant time.
func (e *Emulator) authorize(r *http.Request) (int, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return http.StatusUnauthorized, false
	}
	given := []byte(h[len(prefix):])
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, maySend := range e.keys {
		if subtle.ConstantTimeCompare(given, []byte(key)) == 1 {
			if !maySend {
				return http.StatusForbidden, false
			}
			return http.StatusOK, true
		}
	}
	return http.StatusUnauthorized, false
}

func (e *Emulator) nextFault() (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) == 0 {
		return Fault{}, false
	}
	f := e.faults[0]
	e.faults = e.faults[1:]
	return f, true
}

func (e *Emulator) fail(w http.ResponseWriter, f Fault) {
	if f.Status == http.StatusTooManyRequests {
		reset := e.now().Add(f.Reset)
		w.Header().Set("X-RateLimit-Limit", "600")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		writeErrors(w, f.Status, apiError{Message: "too many requests"})
		return
	}
	writeErrors(w, f.Status, apiError{Message: http.StatusText(f.Status)})
}

func (e *Emulator) accept(w http.ResponseWriter, r *http.Request, m Mail) {
	a := Accepted{MessageID: uuid.NewString(), Sandbox: m.sandbox(), Header: r.Header.Clone(), Mail: m}
	e.mu.Lock()
	e.accepted = append(e.accepted, a)
	e.mu.Unlock()
	if a.Sandbox {
		// Sandbox mode validates without sending and says so with 200.
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("X-Message-Id", a.MessageID)
	w.WriteHeader(http.StatusAccepted)
}

// apiError is one entry of SendGrid's error answer. Field is null when the
// error is not about one field.
type apiError struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	Help    any     `json:"help"`
}

func fieldError(field, format string, args ...any) apiError {
	return apiError{Message: fmt.Sprintf(format, args...), Field: &field, Help: helpURL + "#" + field}
}

func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string][]apiError{"errors": errs})
}
