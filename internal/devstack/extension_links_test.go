package devstack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/workflows"
)

// TestExtensionLinkEndToEnd: alice extends an active grant by more than
// the reader role lets through without approval; bob gets an email whose
// personal link opens the extension (deciding nothing), and approving
// through it moves the grant's end. The link then refuses to decide again,
// and bob's link for the request itself cannot decide the extension.
func TestExtensionLinkEndToEnd(t *testing.T) {
	pol := fastPolicy(t)
	reader, _ := pol.Role("reader")
	reader.Stages[0].Tiers[0].Timeout = 5 * time.Minute // bob's tier stays open
	s := newSession(t, pol)
	req := s.active("1h")
	requestLink := linkFor(t, s.st, "bob@example.com", req.ID)

	asked := s.act("alice", req.ID, "extend", `{"duration":"30m","justification":"the incident goes on"}`)
	if asked.Extension == nil || asked.Extension.Status != api.StatusPending {
		t.Fatalf("extension not pending approval: %+v", asked.Extension)
	}
	var mail outbox.Email
	waitFor(t, 20*time.Second, "bob's email about the extension", func() bool {
		var ok bool
		mail, ok = emailTo(s.st, "bob@example.com", "alice@example.com asks to extend reader (extension 1)")
		return ok
	})
	link := approvalLink(t, s.st, mail.Text)
	if link == requestLink {
		t.Fatal("the extension's email carries the request's link")
	}

	status, page := plain(t, http.MethodGet, link, nil)
	if status != http.StatusOK || !strings.Contains(page, "asks to extend reader") || !strings.Contains(page, "the incident goes on") {
		t.Fatalf("GET the extension link: %d\n%s", status, page)
	}
	if status, page := plain(t, http.MethodPost, requestLink, url.Values{"decision": {"approve"}}); status != http.StatusConflict {
		t.Fatalf("the request's own link decided on the extension: %d\n%s", status, page)
	}
	if got := s.get(req.ID); got.Extension == nil || len(got.Decisions) != 1 {
		t.Fatalf("opening links decided something: %+v", got)
	}

	status, page = plain(t, http.MethodPost, link, url.Values{"decision": {"approve"}, "comment": {"fine"}})
	if status != http.StatusOK || !strings.Contains(page, "You approved extension 1 of request "+req.ID) {
		t.Fatalf("POST approve on the extension link: %d\n%s", status, page)
	}
	var got workflows.Request
	waitFor(t, 20*time.Second, "extension applied", func() bool {
		got = s.get(req.ID)
		return got.Extensions == 1
	})
	if want := req.ExpiresAt.Add(30 * time.Minute); !got.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at %s, want %s", got.ExpiresAt, want)
	}
	last := got.Decisions[len(got.Decisions)-1]
	if last.Extension != 1 || last.ApproverID != userID(t, pol, "bob") || last.Comment != "fine" {
		t.Errorf("the extension's decision: %+v", last)
	}
	if status, page := plain(t, http.MethodPost, link, url.Values{"decision": {"approve"}}); status != http.StatusConflict {
		t.Fatalf("the used link decided again: %d\n%s", status, page)
	}
}
