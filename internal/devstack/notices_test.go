package devstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/policies"
)

// noticePolicy gives reader a notice 3s before a grant ends and makes
// every extension ask bob.
func noticePolicy(t *testing.T) *policies.Policy {
	t.Helper()
	pol := fastPolicy(t)
	r, _ := pol.Role("reader")
	r.EndNoticeBefore = 3 * time.Second
	r.ExtendWithoutApprovalUpTo = 0
	return pol
}

// waitEmail waits for an email to addr whose subject starts with prefix.
func waitEmail(t *testing.T, st *Stack, addr, prefix string) outbox.Email {
	t.Helper()
	var mail outbox.Email
	waitFor(t, 30*time.Second, prefix+" email to "+addr, func() bool {
		var ok bool
		mail, ok = emailTo(st, addr, prefix)
		return ok
	})
	return mail
}

// The requester hears that the grant ends soon (with how to extend) and
// how each extension ended, on the real stack.
func TestNoticesEndToEnd(t *testing.T) {
	s := newSession(t, noticePolicy(t))
	req := s.active("6s")
	notice := waitEmail(t, s.st, "alice@example.com", "Ending in ")
	for _, want := range []string{req.ID, "/extend", "jitflow extend"} {
		if !strings.Contains(notice.Text, want) {
			t.Errorf("ending_soon email lacks %q:\n%s", want, notice.Text)
		}
	}
	if got := s.get(req.ID); got.Status != apitypes.StatusActive {
		t.Fatalf("the notice came when the request was %s, want still active", got.Status)
	}
	s.act("alice", req.ID, "extend", `{"duration":"2s","justification":"a little longer"}`)
	waitEmail(t, s.st, "bob@example.com", "alice@example.com asks to extend reader")
	s.act("bob", req.ID, "deny", `{"comment":"enough"}`)
	denied := waitEmail(t, s.st, "alice@example.com", "Extension denied: reader")
	if !strings.Contains(denied.Text, "enough") || !strings.Contains(denied.Text, "bob@example.com") {
		t.Errorf("extension_denied email does not name bob and his comment:\n%s", denied.Text)
	}
	s.wait(req.ID, apitypes.StatusExpired, 30*time.Second)
}

// TestRecordNoticeHistories records the histories of the notices (see
// TestRecordHistories):
//
//	JITFLOW_RECORD_HISTORIES=i14- go test -run TestRecordNoticeHistories ./internal/devstack/
func TestRecordNoticeHistories(t *testing.T) {
	only := os.Getenv("JITFLOW_RECORD_HISTORIES")
	if only == "" || (only != "1" && !strings.HasPrefix("i14-", only)) {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 (or i14-) to record new histories")
	}
	s := newSession(t, noticePolicy(t))
	out := filepath.Join("..", "..", "workflows", "testdata", "histories")

	noticed := s.active("5s")
	waitEmail(t, s.st, "alice@example.com", "Ending in ")
	s.wait(noticed.ID, apitypes.StatusExpired, 30*time.Second)
	saveHistory(t, s.st, noticed.ID, filepath.Join(out, "i14-ending_soon_expired.json"))

	granted := s.active("5s")
	s.act("alice", granted.ID, "extend", `{"duration":"2s","justification":"recorded history"}`)
	waitEmail(t, s.st, "bob@example.com", "alice@example.com asks to extend reader")
	s.act("bob", granted.ID, "approve", `{"comment":"recorded"}`)
	waitEmail(t, s.st, "alice@example.com", "Extended: reader")
	s.wait(granted.ID, apitypes.StatusExpired, 30*time.Second)
	saveHistory(t, s.st, granted.ID, filepath.Join(out, "i14-extension_granted_expired.json"))

	denied := s.active("6s")
	s.act("alice", denied.ID, "extend", `{"duration":"2s","justification":"recorded history"}`)
	waitEmail(t, s.st, "bob@example.com", "alice@example.com asks to extend reader")
	s.act("bob", denied.ID, "deny", `{"comment":"recorded"}`)
	s.wait(denied.ID, apitypes.StatusExpired, 30*time.Second)
	saveHistory(t, s.st, denied.ID, filepath.Join(out, "i14-extension_denied_expired.json"))
}
