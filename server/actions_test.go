package server

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

func TestActionsSendUpdates(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	tests := []struct {
		path, user, body string
		name             string
		arg              any
	}{
		{"approve", "bob", `{"comment":"ok"}`, workflows.UpdateDecide,
			workflows.DecideInput{ApproverID: bobID, Decision: api.DecisionApprove, Comment: "ok"}},
		{"deny", "carol", "", workflows.UpdateDecide,
			workflows.DecideInput{ApproverID: carolID, Decision: api.DecisionDeny}},
		{"cancel", "alice", "{}", workflows.UpdateCancel, workflows.CancelInput{ActorID: aliceID}},
		{"revoke", "alice", `{"reason":"done early"}`, workflows.UpdateRevoke,
			workflows.RevokeInput{Actor: workflows.Person{ID: aliceID, UPN: "alice@example.com", Email: "alice@example.com"}, Reason: "done early"}},
		{"revoke", "dave", "", workflows.UpdateRevoke,
			workflows.RevokeInput{Actor: workflows.Person{ID: daveID, UPN: "dave@example.com", Email: "dave@example.com"}, Operator: true}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" by "+tt.user, func(t *testing.T) {
			r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/"+tt.path, tt.user, tt.body)
			wantStatus(t, r, http.StatusOK)
			if got := r.request(t).ID; got != id {
				t.Errorf("answered request %q", got)
			}
			u := e.temporal.lastUpdate()
			if u.WorkflowID != id || u.UpdateName != tt.name || u.WaitForStage != client.WorkflowUpdateStageCompleted ||
				len(u.Args) != 1 || unproven(t, id, u.Args[0]) != tt.arg {
				t.Errorf("update = %+v, want %s with %+v", u, tt.name, tt.arg)
			}
		})
	}
}

func TestActionsMapRejections(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"forbidden", temporal.NewApplicationError("alice requested this access and cannot decide on it", workflows.ErrForbidden), 403},
		{"conflict", temporal.NewApplicationError("bob already decided", workflows.ErrConflict), 409},
		{"invalid", temporal.NewApplicationError("comment is too long", workflows.ErrInvalid), 400},
		{"workflow bug", temporal.NewApplicationError("boom", "PanicError"), 500},
		{"no worker", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(errors.New("deadline")), 503},
		{"temporal down", serviceerror.NewUnavailable("connection refused"), 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.create("alice", readerBody)
			e.temporal.update = func(client.UpdateWorkflowOptions) (workflows.Request, error) { return workflows.Request{}, tt.err }
			r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
			wantStatus(t, r, tt.status)
			p := r.problem(t)
			var appErr *temporal.ApplicationError
			if errors.As(tt.err, &appErr) && tt.status < 500 && p.Detail != appErr.Message() {
				t.Errorf("detail = %q, want the workflow's message %q", p.Detail, appErr.Message())
			}
		})
	}
}

// An update that reaches a request still in its first workflow task is
// refused as starting; the API sends it again and answers with the
// outcome, the caller seeing nothing of it.
func TestActionRetriedWhileRequestStarts(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	refusals := 2
	e.temporal.update = func(client.UpdateWorkflowOptions) (workflows.Request, error) {
		if refusals > 0 {
			refusals--
			return workflows.Request{}, temporal.NewApplicationError("approve refused for now: request "+id+" is still starting; try again in a moment", workflows.ErrStarting)
		}
		return workflows.Request{ID: id, Status: api.StatusActive}, nil
	}
	r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
	wantStatus(t, r, http.StatusOK)
	if n := len(e.temporal.updates); n != 3 {
		t.Errorf("%d updates sent, want 3 (two refused as starting, then accepted)", n)
	}
}

func TestActionsOnClosedOrUnknownRequest(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.close(id, api.StatusDenied)
	r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", "")
	wantStatus(t, r, http.StatusConflict)
	wantContains(t, "detail", r.problem(t).Detail, "is denied")

	for _, action := range []string{"approve", "deny", "cancel", "revoke"} {
		r := e.call(http.MethodPost, "/api/v1/requests/req-00000000-0000-4000-8000-000000000000/"+action, "bob", "")
		wantStatus(t, r, http.StatusNotFound)
		r.problem(t)
		wantStatus(t, e.call(http.MethodPost, "/api/v1/requests/not-a-request/"+action, "bob", ""), http.StatusNotFound)
	}
}

func TestActionsStrictBodies(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	tests := []struct {
		action, body, field string
	}{
		{"approve", `{"comment":"ok","decision":"approve"}`, "decision"},
		{"deny", `{"comment":42}`, "comment"},
		{"cancel", `{"reason":"x"}`, "reason"},
		{"revoke", `{"why":"x"}`, "why"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/"+tt.action, "bob", tt.body)
			wantStatus(t, r, http.StatusBadRequest)
			if p := r.problem(t); p.Field != tt.field {
				t.Errorf("field = %q, want %q (detail %q)", p.Field, tt.field, p.Detail)
			}
		})
	}
}

// A stranger learns nothing about a request's state from an action: the
// answer is the same 403 whether it is pending or long closed.
func TestActionsByStrangerRevealNothing(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	for _, closed := range []bool{false, true} {
		if closed {
			e.temporal.close(id, api.StatusExpired)
		}
		for _, action := range []string{"approve", "deny", "cancel", "revoke"} {
			r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/"+action, "erin", "")
			wantStatus(t, r, http.StatusForbidden)
			if p := r.problem(t); strings.Contains(p.Detail, "expired") || strings.Contains(p.Detail, "pending") {
				t.Errorf("%s (closed=%v) tells a stranger the state: %q", action, closed, p.Detail)
			}
		}
	}
}

func TestExtend(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/extend", "alice", `{"duration":"PT30M","justification":"still digging"}`)
	wantStatus(t, r, http.StatusOK)
	u := e.temporal.updates[len(e.temporal.updates)-1]
	in, ok := u.Args[0].(workflows.ExtendInput)
	if u.UpdateName != workflows.UpdateExtend || !ok || in.Duration != 30*time.Minute || in.Justification != "still digging" || in.Actor.ID != aliceID {
		t.Errorf("update %s %+v", u.UpdateName, u.Args)
	}

	tests := []struct {
		name, body string
		status     int
		field      string
		detail     string
	}{
		{"no duration", `{"justification":"x"}`, http.StatusBadRequest, "duration", `"duration" is required`},
		{"bad duration", `{"duration":"soon","justification":"x"}`, http.StatusBadRequest, "duration", `field "duration"`},
		{"over the role's maximum", `{"duration":"9h","justification":"x"}`, http.StatusUnprocessableEntity, "duration", "over the longest extension of role \"reader\"; accepted: up to 8h"},
		{"no justification", `{"duration":"10m"}`, http.StatusUnprocessableEntity, "justification", "needs a justification"},
		{"unknown field", `{"duration":"10m","justification":"x","until":"tomorrow"}`, http.StatusBadRequest, "until", "until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(http.MethodPost, "/api/v1/requests/"+id+"/extend", "alice", tt.body)
			wantStatus(t, r, tt.status)
			p := r.problem(t)
			wantContains(t, "detail", p.Detail, tt.detail)
			if p.Field != tt.field {
				t.Errorf("field = %q, want %q", p.Field, tt.field)
			}
		})
	}
	wantStatus(t, e.call(http.MethodPost, "/api/v1/requests/"+id+"/extend", "erin", `{"duration":"10m","justification":"x"}`), http.StatusForbidden)
}
