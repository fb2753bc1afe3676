package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// extensionLink mints a link path for an extension of a request.
func (e *pageEnv) extensionLink(reqID, approverID string, extension, stage int, ttl time.Duration) string {
	e.t.Helper()
	tok, _, err := e.keys.Mint(approvals.Claims{RequestID: reqID, Stage: stage, Extension: extension, ApproverID: approverID, Expires: time.Now().Add(ttl)})
	if err != nil {
		e.t.Fatal(err)
	}
	return approvals.PathPrefix + tok
}

// extended creates a request of role for alice, approved by bob and active,
// whose extension (as change leaves it) waits for a decision.
func (e *pageEnv) extended(body string, change func(*workflows.Request)) string {
	e.t.Helper()
	id := e.create("alice", body)
	now := time.Now().UTC().Truncate(time.Second)
	ends, escalates := now.Add(time.Hour), now.Add(20*time.Second)
	e.temporal.mu.Lock()
	defer e.temporal.mu.Unlock()
	v := &e.temporal.wfs[id].view
	v.Status, v.Stage, v.Approvers, v.EscalatesAt, v.ActivatedAt, v.ExpiresAt = api.StatusActive, 0, []workflows.Approver{}, nil, &now, &ends
	v.Decisions = []workflows.Decision{{Approver: "bob@example.com", ApproverID: bobID, Decision: "approve", Stage: 1, Time: now}}
	v.Extension = &workflows.ExtensionView{
		Number: 1, Status: api.StatusPending, Duration: "30m0s", DurationSecs: 1800,
		Justification: "the fix needs longer", RequestedAt: now, Stage: 1,
		Approvers: []workflows.Approver{{Approver: "bob@example.com", ApproverID: bobID}}, EscalatesAt: &escalates,
	}
	if change != nil {
		change(v)
	}
	return id
}

// decideExtensionScript records decisions on the extension the way the
// workflow does for a one-stage role: an approval passes it.
func (e *pageEnv) decideExtensionScript() {
	e.temporal.update = func(opts client.UpdateWorkflowOptions) (workflows.Request, error) {
		in := opts.Args[0].(workflows.DecideInput)
		e.temporal.mu.Lock()
		defer e.temporal.mu.Unlock()
		w := e.temporal.wfs[opts.WorkflowID]
		for _, d := range w.view.Decisions {
			if d.ApproverID == in.ApproverID && d.Extension == in.Extension {
				return workflows.Request{}, temporal.NewApplicationError("already decided", workflows.ErrConflict)
			}
		}
		w.view.Decisions = append(w.view.Decisions, workflows.Decision{Approver: "bob@example.com", ApproverID: in.ApproverID,
			Decision: in.Decision, Comment: in.Comment, Stage: in.Stage, Extension: in.Extension, Time: time.Now()})
		w.view.Extension.Status = api.StatusActivating
		return w.view, nil
	}
}

func TestExtensionLinkShowsAndDecides(t *testing.T) {
	e := newPageEnv(t, nil)
	e.decideExtensionScript()
	id := e.extended(readerBody, nil)
	link := e.extensionLink(id, bobID, 1, 1, time.Hour)

	get := e.page(nil, http.MethodGet, link, nil)
	wantPage(t, get, http.StatusOK, "alice@example.com asks to extend reader", "extension 1 of this active grant", "30m more",
		"the fix needs longer", "<td id=\"status\">active</td>", "1 of 1 (team-lead)", "<td id=\"approvers\">bob@example.com</td>",
		"Ends if approved", "bob@example.com approved (stage 1)", `name="decision" value="approve"`)
	wantStatus(t, e.page(nil, http.MethodHead, link, nil), http.StatusOK)
	if n := len(e.temporal.updates); n != 0 {
		t.Fatalf("GET and HEAD sent %d updates; they must decide nothing", n)
	}

	done := e.page(nil, http.MethodPost, link, approveForm("one more half hour"))
	wantPage(t, done, http.StatusOK, "You approved extension 1 of request "+id)
	got := e.temporal.lastUpdate()
	in := unproven(t, id, got.Args[0]).(workflows.DecideInput)
	claims, err := e.keys.Verify(strings.TrimPrefix(link, approvals.PathPrefix), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := workflows.DecideInput{ApproverID: bobID, Decision: "approve", Comment: "one more half hour", Stage: 1, Extension: 1, LinkID: claims.ID}
	if got.UpdateName != workflows.UpdateDecide || got.WorkflowID != id || in != want {
		t.Errorf("update = %s %s %+v, want decide %s %+v", got.UpdateName, got.WorkflowID, in, id, want)
	}

	replay := e.page(nil, http.MethodPost, link, approveForm(""))
	wantPage(t, replay, http.StatusConflict, "Already decided", "bob@example.com already approved extension 1 of this request")
	if n := len(e.temporal.updates); n != 1 {
		t.Errorf("the replayed link sent another update (%d in all)", n)
	}
}

func TestExtensionLinkRefusals(t *testing.T) {
	e := newPageEnv(t, nil)
	waiting := e.extended(readerBody, nil)
	settled := e.extended(readerBody, func(v *workflows.Request) { v.Extension = nil })
	newer := e.extended(readerBody, func(v *workflows.Request) { v.Extension.Number = 2 })
	applying := e.extended(readerBody, func(v *workflows.Request) { v.Extension.Status, v.Extension.Stage = api.StatusActivating, 0 })
	decided := e.extended(readerBody, func(v *workflows.Request) {
		v.Decisions = append(v.Decisions, workflows.Decision{Approver: "bob@example.com", ApproverID: bobID, Decision: "deny", Stage: 1, Extension: 1})
	})
	admin := `{"role":"admin","duration":"1h","justification":"two stages","ticket":"CHG-1"}`
	secondStage := e.extended(admin, func(v *workflows.Request) {
		v.Extension.Stage, v.Extension.Approvers = 2, []workflows.Approver{{Approver: "dave@example.com", ApproverID: daveID}}
	})
	ended := e.extended(readerBody, nil)
	e.temporal.close(ended, api.StatusExpired)
	tests := []struct {
		name, path string
		status     int
		says       string
	}{
		{"expired link", e.extensionLink(waiting, bobID, 1, 1, -time.Minute), http.StatusGone, "expired"},
		{"extension settled", e.extensionLink(settled, bobID, 1, 1, time.Hour), http.StatusConflict, "Extension 1 of request " + settled + " is no longer waiting"},
		{"a newer extension", e.extensionLink(newer, bobID, 1, 1, time.Hour), http.StatusConflict, "now waits on extension 2"},
		{"extension being applied", e.extensionLink(applying, bobID, 1, 1, time.Hour), http.StatusConflict, "passed every stage"},
		{"already decided", e.extensionLink(decided, bobID, 1, 1, time.Hour), http.StatusConflict, "already denied extension 1"},
		{"stage passed", e.extensionLink(secondStage, bobID, 1, 1, time.Hour), http.StatusConflict, "the extension now waits for stage 2"},
		{"stage not begun", e.extensionLink(waiting, bobID, 1, 2, time.Hour), http.StatusConflict, "still at stage 1"},
		{"grant ended", e.extensionLink(ended, bobID, 1, 1, time.Hour), http.StatusConflict, "is now expired, so extension 1 can no longer be decided"},
		{"not an approver of the role", e.extensionLink(waiting, daveID, 1, 1, time.Hour), http.StatusForbidden, "no longer an approver"},
		{"tier not reached", e.extensionLink(waiting, carolID, 1, 1, time.Hour), http.StatusForbidden, "stage 1 of extension 1"},
		{"request link on an extension", e.link(waiting, carolID, 1, time.Hour), http.StatusConflict, "it is now active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				r := e.page(nil, method, tt.path, approveForm(""))
				wantPage(t, r, tt.status, tt.says)
			}
		})
	}
	if n := len(e.temporal.updates); n != 0 {
		t.Errorf("refused links sent %d updates", n)
	}
}

// A role whose approvers must sign in asks it for extensions too: the link
// alone shows the extension but cannot decide it.
func TestExtensionLinkKeepsTheSignInGate(t *testing.T) {
	e := newPageEnv(t, func(p *policies.Policy) {
		reader, _ := p.Role("reader")
		reader.ApproverSignIn = true
	})
	id := e.extended(readerBody, nil)
	link := e.extensionLink(id, bobID, 1, 1, time.Hour)
	wantPage(t, e.page(nil, http.MethodGet, link, nil), http.StatusOK, "asks to extend reader", "Sign in to decide", "the fix needs longer")
	wantPage(t, e.page(nil, http.MethodPost, link, approveForm("")), http.StatusForbidden, "sign in")
	if n := len(e.temporal.updates); n != 0 {
		t.Errorf("a decision without sign-in sent %d updates", n)
	}
}
