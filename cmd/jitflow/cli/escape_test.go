package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// oldText is a request from before the API refused control and bidi
// characters: its justification would make a terminal show "reader, 5m"
// for two hours of admin, clear the screen, and start a fake line.
const oldText = `{"id":"req-1","status":"denied","requester":"alice@example.com","requester_id":"alice","role":"admin","duration":"2h0m0s","duration_seconds":7200,` +
	`"justification":"reader, 5m\u202e\u001b[2J\nStatus         active","ticket":"INC-1\u2066","created_at":"2026-11-26T09:00:00Z","reason":"denied\u200f by bob",` +
	`"approvers":[],"decisions":[{"approver":"bob@example.com","approver_id":"bob","decision":"deny","comment":"no\u202e\u0085","time":"2026-11-26T09:01:00Z","stage":1}]}`

// TestOldTextShownEscaped: show, list, audit and wait print such text
// with each of those characters as a visible escape, one value per line.
func TestOldTextShownEscaped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/dev/token":
			fmt.Fprintf(w, `{"token":%q}`, devToken(r.URL.Query().Get("user")))
		case r.URL.Path == "/api/v1/requests":
			io.WriteString(w, `{"requests":[`+strings.Replace(oldText, `"role":"admin"`, `"role":"admin\u202e"`, 1)+`]}`)
		case strings.HasSuffix(r.URL.Path, "/audit"):
			io.WriteString(w, `{"events":[{"time":"2026-11-26T09:00:00Z","type":"requested","actor":"alice@example.com","detail":"admin for 2h: reader, 5m\u202e\u001b[2J"}]}`)
		default:
			io.WriteString(w, oldText)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("JITFLOW_API", srv.URL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")

	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"show", "req-1", "--as", "bob"}, []string{
			`Justification  reader, 5m\u202e\x1b[2J\nStatus         active`, `Ticket         INC-1\u2066`,
			`Reason         denied\u200f by bob`, `no\u202e\u0085`,
		}},
		{[]string{"list", "--as", "bob"}, []string{`admin\u202e`}},
		{[]string{"audit", "req-1", "--as", "bob"}, []string{`admin for 2h: reader, 5m\u202e\x1b[2J`}},
		{[]string{"approve", "req-1", "--wait", "--as", "bob"}, []string{`: denied\u200f by bob`}},
	} {
		t.Run(tt.args[0], func(t *testing.T) {
			res := run(t, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout %q lacks %q", res.stdout, w)
				}
			}
			if strings.ContainsAny(res.stdout, "\u202e\u2066\u200f\x1b\u0085") {
				t.Errorf("stdout %q holds a control or bidi character as is", res.stdout)
			}
			if strings.Contains(res.stdout, "\nStatus         active") {
				t.Errorf("a justification started a line of its own: %q", res.stdout)
			}
		})
	}
}
