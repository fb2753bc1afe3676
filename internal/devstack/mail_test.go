package devstack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitflow/jitflow/activities"
	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/internal/sendgridemu"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// startMailStack is startStack with the mailer options set by mutate.
func startMailStack(t testing.TB, pol *policies.Policy, mutate func(*Options)) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := Options{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", GraphAddr: "127.0.0.1:0", NoUI: true,
		Policy: pol, Namespace: "default", Retention: 365 * 24 * time.Hour,
	}
	mutate(&opts)
	st, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Stop)
	waitFor(t, 30*time.Second, "healthz 200", func() bool {
		resp, err := http.Get(st.APIURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return st
}

// emailTo finds the outbox email to addr whose subject starts with prefix.
func emailTo(st *Stack, addr, prefix string) (outbox.Email, bool) {
	for _, e := range st.Outbox.Emails() {
		if slices.Contains(e.To, addr) && strings.HasPrefix(e.Subject, prefix) {
			return e, true
		}
	}
	return outbox.Email{}, false
}

// approvalLink is the personal link in an email's text.
func approvalLink(t testing.TB, st *Stack, text string) string {
	t.Helper()
	i := strings.Index(text, st.APIURL+"/approvals/")
	if i < 0 {
		t.Fatalf("no approval link to %s/approvals/ in:\n%s", st.APIURL, text)
	}
	return strings.Fields(text[i:])[0]
}

// TestEscalationEmailReachesNextTier: nobody answers bob's email, so the
// request escalates and carol, the next tier, gets an email that says why,
// with a personal link of her own that opens the approval page.
func TestEscalationEmailReachesNextTier(t *testing.T) {
	pol := fastPolicy(t)
	st := startMailStack(t, pol, func(*Options) {})
	api := apiClient{t: t, base: st.APIURL}
	var req workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"1h","justification":"nobody answers"}`, &req); status != http.StatusCreated {
		t.Fatalf("create: status %d", status)
	}

	var esc outbox.Email
	waitFor(t, 20*time.Second, "escalation email to carol", func() bool {
		var ok bool
		esc, ok = emailTo(st, "carol@example.com", "Escalated: ")
		return ok
	})
	if want := "Escalated: alice@example.com asks for reader for 1h"; esc.Subject != want {
		t.Errorf("subject %q, want %q", esc.Subject, want)
	}
	for _, want := range []string{"because nobody before you decided in time", "no decision within 2s at tier 1", "Stage:         1 of 1 (team-lead)", "Times out at:", "Justification: nobody answers"} {
		if !strings.Contains(esc.Text, want) {
			t.Errorf("escalation email lacks %q:\n%s", want, esc.Text)
		}
	}
	if !slices.Equal(esc.To, []string{"carol@example.com"}) {
		t.Errorf("escalation email to %v, want carol alone", esc.To)
	}
	link := approvalLink(t, st, esc.Text)
	if !strings.Contains(esc.HTML, `href="`+link+`"`) {
		t.Errorf("the HTML part lacks carol's link %s", link)
	}
	bobs, _ := emailTo(st, "bob@example.com", "alice@example.com asks for reader")
	if bobLink := approvalLink(t, st, bobs.Text); bobLink == link {
		t.Error("bob and carol got the same link; each approver needs their own")
	}
	waitFor(t, 10*time.Second, "the requester hears of the escalation", func() bool {
		_, ok := emailTo(st, "alice@example.com", "Your request for reader for 1h was escalated")
		return ok
	})
	for _, e := range st.Outbox.Emails() {
		if slices.Contains(e.To, "alice@example.com") && strings.Contains(e.Text, "/approvals/") {
			t.Errorf("the requester was sent an approval link: %q", e.Subject)
		}
	}

	// The link opens the approval page; opening it decides nothing.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET carol's link: status %d", resp.StatusCode)
	}
	api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
	if req.Status != apitypes.StatusPending || len(req.Decisions) != 0 {
		t.Fatalf("after GET of the link: %s with %d decisions, want pending with none", req.Status, len(req.Decisions))
	}
}

// TestSendGridEndToEnd runs a request through the real sendgrid-go client
// against the local Mail Send endpoint: the first answers fail (503, then
// 429), the activity retries, and every email arrives exactly once, with
// tracking off and tagged with the request.
func TestSendGridEndToEnd(t *testing.T) {
	const key = "SG.e2e-key"
	emu := sendgridemu.New(key)
	emu.FailNext(sendgridemu.Fault{Status: http.StatusServiceUnavailable}, sendgridemu.Fault{Status: http.StatusTooManyRequests, Reset: time.Second})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	pol := fastPolicy(t)
	reader, _ := pol.Role("reader")
	reader.Stages[0].Tiers[0].Timeout = time.Minute // bob decides before any escalation
	st := startMailStack(t, pol, func(o *Options) {
		o.SendGrid = &activities.SendGridConfig{APIKey: key, Host: srv.URL, From: "jitflow@example.com", FromName: "jitflow"}
	})
	api := apiClient{t: t, base: st.APIURL}
	var req workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"2s","justification":"sendgrid e2e"}`, &req); status != http.StatusCreated {
		t.Fatalf("create: status %d", status)
	}

	var asked sendgridemu.Accepted
	waitFor(t, 20*time.Second, "bob's email through SendGrid", func() bool {
		for _, a := range emu.Accepted() {
			if a.Mail.CustomArgs["jitflow_kind"] == activities.MailApprovalNeeded {
				asked = a
				return true
			}
		}
		return false
	})
	m := asked.Mail
	if len(m.Personalizations) != 1 || m.Personalizations[0].To[0].Email != "bob@example.com" {
		t.Fatalf("approval email envelopes %+v, want bob alone", m.Personalizations)
	}
	if m.CustomArgs["jitflow_request_id"] != req.ID || !slices.Contains(m.Categories, activities.MailApprovalNeeded) {
		t.Errorf("custom_args %v, categories %v: want the request id and the kind", m.CustomArgs, m.Categories)
	}
	if !m.ClickTrackingOff() || !m.OpenTrackingOff() {
		t.Error("tracking is on; approval links would go through a third party")
	}
	if len(m.Content) != 2 || m.Content[0].Type != "text/plain" || m.Content[1].Type != "text/html" {
		t.Fatalf("content %+v, want text/plain then text/html", m.Content)
	}
	link := approvalLink(t, st, m.Content[0].Value)

	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("bob"), `{"comment":"ok"}`, nil); status != http.StatusOK {
		t.Fatalf("approve: status %d", status)
	}
	want := []string{activities.MailApprovalNeeded, activities.MailApproved, activities.MailActive, activities.MailExpired}
	waitFor(t, 30*time.Second, "the requester's emails through SendGrid", func() bool {
		return len(kindsSent(emu)) >= len(want) && slices.Contains(kindsSent(emu), activities.MailExpired)
	})
	got := kindsSent(emu)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("SendGrid took %v, want each of %v exactly once", got, want)
	}
	if n := emu.Requests(); n != len(want)+2 {
		t.Errorf("SendGrid saw %d calls, want %d (two failed answers, then one per email)", n, len(want)+2)
	}
	for _, a := range emu.Accepted() {
		if a.Mail.CustomArgs["jitflow_kind"] != activities.MailApprovalNeeded && a.Mail.Personalizations[0].To[0].Email != "alice@example.com" {
			t.Errorf("%s went to %v, want the requester", a.Mail.CustomArgs["jitflow_kind"], a.Mail.Personalizations[0].To)
		}
	}
	if e, ok := emailTo(st, "bob@example.com", "alice@example.com asks for reader"); !ok || !strings.Contains(e.Text, link) {
		t.Error("the outbox lacks its copy of bob's email")
	}
}

func kindsSent(emu *sendgridemu.Emulator) []string {
	var kinds []string
	for _, a := range emu.Accepted() {
		kinds = append(kinds, a.Mail.CustomArgs["jitflow_kind"])
	}
	return kinds
}

// TestRecordMailHistories records the workflow paths reminders add, for the
// replay tests (see TestRecordHistories):
//
//	JITFLOW_RECORD_HISTORIES=1 go test -run TestRecordMailHistories ./internal/devstack/
func TestRecordMailHistories(t *testing.T) {
	if os.Getenv("JITFLOW_RECORD_HISTORIES") == "" {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 to record new histories")
	}
	pol := fastPolicy(t)
	reader, _ := pol.Role("reader")
	reader.Stages[0].Tiers[1].Timeout = 8 * time.Second
	reader.Remind = policies.Reminder{Percent: 50}
	st := startMailStack(t, pol, func(*Options) {})
	api := apiClient{t: t, base: st.APIURL}
	out := filepath.Join("..", "..", "workflows", "testdata", "histories")
	create := func() string {
		var req workflows.Request
		if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"1s","justification":"recorded history"}`, &req); status != http.StatusCreated {
			t.Fatalf("create: %d", status)
		}
		return req.ID
	}
	waitStatus := func(id string, want workflows.Status) {
		waitFor(t, 30*time.Second, string(want), func() bool {
			var req workflows.Request
			api.do("GET", "/api/v1/requests/"+id, api.token("dave"), "", &req)
			return req.Status == want
		})
	}

	timedOut := create()
	waitStatus(timedOut, apitypes.StatusTimedOut)
	saveHistory(t, st, timedOut, filepath.Join(out, "i4-reminded_timed_out.json"))

	approved := create()
	waitFor(t, 10*time.Second, "the second tier's reminder", func() bool {
		return len(remindersTo(st, "carol@example.com")) == 2
	})
	if status := api.do("POST", "/api/v1/requests/"+approved+"/approve", api.token("carol"), `{"comment":"recorded"}`, nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	waitStatus(approved, apitypes.StatusExpired)
	saveHistory(t, st, approved, filepath.Join(out, "i4-reminded_escalated_expired.json"))
}

func remindersTo(st *Stack, addr string) []outbox.Email {
	var out []outbox.Email
	for _, e := range st.Outbox.Emails() {
		if slices.Contains(e.To, addr) && strings.HasPrefix(e.Subject, "Reminder: ") {
			out = append(out, e)
		}
	}
	return out
}
