package crashtest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jitflow/jitflow/client"
)

// checkOutcome asserts, once every request has ended, that each one ended
// as its decisions call for, that every decision the API accepted is in
// its request and audit trail, that Graph assigned each role at most once
// per request (exactly once if it was to be active), and that the Graph
// emulator holds no assignment any more.
func checkOutcome(ctx context.Context, t *testing.T, d *driver, graphURL string) {
	t.Helper()
	// Read the emulator first: every request has ended, so nothing may
	// remain, whatever a later expiry pass of the emulator would remove.
	held, err := graphList[graphInstance](ctx, graphURL, instancesPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range held {
		t.Errorf("the emulator still holds role %s for %s (instance %s, ends %s)", inst.RoleDefinitionID, inst.PrincipalID, inst.ID, inst.EndDateTime)
	}
	reqs, err := graphList[graphRequest](ctx, graphURL, requestsPath)
	if err != nil {
		t.Fatal(err)
	}
	assigned := assignmentsByRequest(reqs)
	for _, sc := range d.plan.scenarios {
		if sc.id == "" {
			t.Errorf("%s: never created", sc.name)
			continue
		}
		c := d.apis[0].as(sc.requester)
		r, err := c.Get(ctx, sc.id)
		if err != nil {
			t.Errorf("%s: %v", sc.name, err)
			continue
		}
		audit, err := c.Audit(ctx, sc.id)
		if err != nil {
			t.Errorf("%s: audit: %v", sc.name, err)
			continue
		}
		t.Logf("%-16s %-10s %-11s decisions %d, Graph assignments %d, audit %s", sc.name, sc.role, r.Status, len(r.Decisions), assigned[sc.id], eventTypes(audit))
		if r.Status != sc.want {
			t.Errorf("%s (%s): status %s, want %s (reason %q)", sc.name, sc.id, r.Status, sc.want, r.Reason)
		}
		want := 0
		if sc.activates {
			want = 1
		}
		if assigned[sc.id] != want {
			t.Errorf("%s (%s): Graph assigned the role %d times, want %d", sc.name, sc.id, assigned[sc.id], want)
		}
		for _, typ := range sc.events {
			if !hasEvent(audit, typ, "") {
				t.Errorf("%s (%s): the audit trail has no %q event: %s", sc.name, sc.id, typ, eventTypes(audit))
			}
		}
		checkAnswered(t, d, sc, r, audit)
	}
}

// checkAnswered: every call of sc that the API answered 2xx shows in the
// request and its audit trail.
func checkAnswered(t *testing.T, d *driver, sc *scenario, r client.Request, audit client.Audit) {
	t.Helper()
	events := map[action]string{actApprove: "approved", actDeny: "denied", actCancel: "canceled", actRevoke: "revoked"}
	for _, s := range d.plan.steps {
		if s.sc != sc || !s.answered || s.act == actCreate {
			continue
		}
		if (s.act == actApprove || s.act == actDeny) && !decided(r, upn(s.who), string(s.act)) {
			t.Errorf("%s (%s): %s by %s was answered 2xx but the request does not record it: %+v", sc.name, sc.id, s.act, s.who, r.Decisions)
		}
		if !hasEvent(audit, events[s.act], upn(s.who)) {
			t.Errorf("%s (%s): %s by %s was answered 2xx but the audit trail has no %q event by them: %s", sc.name, sc.id, s.act, s.who, events[s.act], eventTypes(audit))
		}
	}
}

// hasEvent reports whether the trail has an event of the type, by actor
// when actor is not empty.
func hasEvent(a client.Audit, typ, actor string) bool {
	return slices.ContainsFunc(a.Events, func(e client.AuditEvent) bool {
		return e.Type == typ && (actor == "" || strings.EqualFold(e.Actor, actor))
	})
}

func eventTypes(a client.Audit) string {
	types := make([]string, len(a.Events))
	for i, e := range a.Events {
		types[i] = e.Type
	}
	return strings.Join(types, ",")
}
