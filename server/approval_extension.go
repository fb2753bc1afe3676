package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/durations"
	"github.com/jitflow/jitflow/freetext"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// extensionRefusal says why a link for an extension of an active grant
// cannot decide it now. The extension must be the one waiting, at the
// link's stage, and the approver among those who may decide it.
func (a *approval) extensionRefusal(ctx context.Context, pol *policies.Policy, dir policies.Directory) *page {
	c, req := a.claims, a.req
	for _, d := range req.Decisions {
		if d.ApproverID == c.ApproverID && d.Extension == c.Extension {
			return conflictPage("Already decided",
				"%s already %s extension %d of this request (stage %d) at %s. Each approver decides once; this link cannot decide again.",
				a.approver, pastTense(d.Decision), c.Extension, d.Stage, stamp(d.Time))
		}
	}
	x := req.Extension
	switch {
	case req.Status != api.StatusActive:
		return conflictPage("No longer waiting for a decision",
			"Request %s is now %s, so extension %d can no longer be decided. This link cannot change that.", req.ID, statusText(req.Status), c.Extension)
	case x == nil || x.Number < c.Extension:
		return conflictPage("Extension no longer pending",
			"Extension %d of request %s is no longer waiting for a decision: it was settled (its audit trail says how). This link cannot change that.", c.Extension, req.ID)
	case x.Number > c.Extension:
		return conflictPage("A newer extension waits",
			"This link was for extension %d, which is settled; request %s now waits on extension %d, whose approvers get emails and links of their own.", c.Extension, req.ID, x.Number)
	case x.Status != api.StatusPending:
		return conflictPage("Extension already approved",
			"Extension %d of request %s passed every stage and is %s. This link cannot change that.", c.Extension, req.ID, statusText(x.Status))
	case x.Stage > c.Stage:
		return conflictPage("Stage already decided",
			"This link was for stage %d of extension %d, which is already decided; the extension now waits for stage %d.", c.Stage, c.Extension, x.Stage)
	case x.Stage < c.Stage:
		return conflictPage("Stage not begun",
			"This link is for stage %d of extension %d, but the extension is still at stage %d.", c.Stage, c.Extension, x.Stage)
	}
	if p := a.approverRefusal(ctx, pol, dir); p != nil {
		return p
	}
	if !isApprover(x.Approvers, c.ApproverID) {
		p := failPage(http.StatusForbidden, "You are not an approver of this stage",
			fmt.Sprintf("%s is not among the people who may decide stage %d of extension %d of request %s now.", a.approver, x.Stage, x.Number, req.ID))
		return &p
	}
	return nil
}

func conflictPage(title, format string, args ...any) *page {
	p := failPage(http.StatusConflict, title, fmt.Sprintf(format, args...))
	return &p
}

// extensionFormPage asks to decide an extension: how much more time, on a
// grant that is active now.
func (s *Server) extensionFormPage(a *approval) page {
	x := a.req.Extension
	return page{
		status:      http.StatusOK,
		Title:       fmt.Sprintf("%s asks to extend %s", a.req.Requester, a.req.Role),
		Message:     fmt.Sprintf("Approve or deny extension %d of this active grant of role %s: %s more.", x.Number, a.req.Role, extensionMore(x)),
		Request:     s.pageSummary(a),
		Approver:    a.approver,
		LinkExpires: stamp(a.claims.Expires),
		Form:        true,
	}
}

// describeExtension puts the extension a link is for on the page, with the
// stage and approvers of the extension in place of the request's (which
// passed its stages long ago).
func (s *Server) describeExtension(sum *requestSummary, a *approval) {
	x := a.req.Extension
	if x == nil || x.Number != a.claims.Extension {
		return
	}
	ext := &extensionSummary{Number: x.Number, More: extensionMore(x), Justification: freetext.Escape(x.Justification), RequestedAt: stamp(x.RequestedAt)}
	if r := a.req; r.ExpiresAt != nil {
		ext.EndsNow = stamp(*r.ExpiresAt)
		ext.EndsAfter = stamp(r.ExpiresAt.Add(time.Duration(x.DurationSecs) * time.Second))
	}
	sum.Extension = ext
	sum.Stage, sum.Approvers, sum.EscalatesAt = "", "", ""
	if x.Status != api.StatusPending {
		return
	}
	if x.Stage > 0 && a.req.Stages > 0 {
		sum.Stage = fmt.Sprintf("%d of %d", x.Stage, a.req.Stages)
		if a.role != nil && x.Stage <= len(a.role.Stages) {
			sum.Stage += " (" + a.role.Stages[x.Stage-1].Name + ")"
		}
	}
	sum.Approvers = approverNames(x.Approvers)
	if x.EscalatesAt != nil {
		sum.EscalatesAt = stamp(*x.EscalatesAt)
	}
}

// extensionDoneMessage thanks the approver for a decision on an extension.
func extensionDoneMessage(a *approval, decision string) string {
	if decision == api.DecisionDeny {
		return fmt.Sprintf("You denied extension %d of request %s. The grant keeps its current end.", a.claims.Extension, a.req.ID)
	}
	return fmt.Sprintf("You approved extension %d of request %s. The grant is extended once every stage of the extension approves.", a.claims.Extension, a.req.ID)
}

// extensionMore is the time an extension adds, as people write it.
func extensionMore(x *workflows.ExtensionView) string {
	return durations.Format(time.Duration(x.DurationSecs) * time.Second)
}
