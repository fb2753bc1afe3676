package graph

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/internal/graphemu"
)

// The Graph contract: what jitflow relies on Microsoft Graph's PIM API to
// do, checked through the real msgraph-sdk-go client. Every behaviour runs
// against the Graph emulator, and against a real tenant when
// JITFLOW_TEST_TENANT_ID is set (see realTenant for the other variables).
// Behaviours that need the emulator's controls (faults, seeding, a clock)
// skip against a tenant, saying why.

// contract is one provider under test and what the suite knows about it.
type contract struct {
	pim       *Client
	emu       *graphemu.Emulator // nil against a real tenant
	clock     *offsetClock       // the emulator's clock
	posts     *atomic.Int32      // POSTs that reached the emulator
	principal string
	role      string // a role definition id to assign
	group     string // a PIM-enabled group id; "" skips the group behaviours
	unit      string // an administrative unit id; "" skips that behaviour
}

// emulatorOnly skips a behaviour that needs the emulator's controls.
func (c contract) emulatorOnly(t *testing.T, why string) {
	t.Helper()
	if c.emu == nil {
		t.Skipf("needs the Graph emulator (%s); runs against it without JITFLOW_TEST_TENANT_ID", why)
	}
}

func (c contract) role0() Assignment {
	return Assignment{PrincipalID: c.principal, RoleDefinitionID: c.role, DirectoryScopeID: "/"}
}

func (c contract) groupTarget(t *testing.T, access string) Assignment {
	t.Helper()
	if c.group == "" {
		t.Skip("set JITFLOW_TEST_GROUP_ID to a PIM-enabled group to check PIM for Groups against the tenant")
	}
	return Assignment{PrincipalID: c.principal, GroupID: c.group, AccessID: access}
}

// offsetClock is real time moved forward by what a test adds.
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// setup makes the provider for one behaviour: against the emulator with
// opts and cfg, or against the tenant (opts unused).
type setup struct {
	opts graphemu.Options
	cfg  Config
	// wrap sits between the client and the emulator, e.g. to lose answers.
	wrap func(http.Handler) http.Handler
}

func emulatorContract(t *testing.T, s setup) contract {
	t.Helper()
	clock := &offsetClock{}
	s.opts.Now = clock.Now
	emu, err := graphemu.New(s.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	posts := &atomic.Int32{}
	h := emu.Handler()
	if s.wrap != nil {
		h = s.wrap(h)
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1.0/") {
			posts.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(counted)
	t.Cleanup(srv.Close)
	cfg := s.cfg
	cfg.BaseURL = srv.URL
	if cfg.VisiblePoll == 0 {
		cfg.VisiblePoll = 10 * time.Millisecond
	}
	pim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return contract{pim: pim, emu: emu, clock: clock, posts: posts, principal: testPrincipal, role: testGlobalReader,
		group: "33333333-3333-4333-8333-333333333333", unit: "44444444-4444-4444-8444-444444444444"}
}

// realTenant reads the tenant run's settings: JITFLOW_TEST_TENANT_ID,
// JITFLOW_TEST_CLIENT_ID and JITFLOW_TEST_CLIENT_SECRET (or
// JITFLOW_TEST_CLIENT_CERTIFICATE_PATH) of an app registration with the
// Graph application permissions RoleManagement.ReadWrite.Directory,
// PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup,
// PrivilegedEligibilitySchedule.Read.AzureADGroup, User.Read.All and
// GroupMember.Read.All; JITFLOW_TEST_PRINCIPAL_ID, a test user's object id; JITFLOW_TEST_ROLE_ID, a harmless role to assign
// to it (e.g. Message Center Reader); optionally JITFLOW_TEST_GROUP_ID,
// JITFLOW_TEST_UNIT_ID (an administrative unit) and JITFLOW_TEST_CLOUD.
func realTenant(t *testing.T) contract {
	t.Helper()
	get := os.Getenv
	for _, v := range []string{"JITFLOW_TEST_TENANT_ID", "JITFLOW_TEST_CLIENT_ID", "JITFLOW_TEST_PRINCIPAL_ID", "JITFLOW_TEST_ROLE_ID"} {
		if get(v) == "" {
			t.Skipf("set %s (and the other JITFLOW_TEST_* variables, see realTenant) to run the Graph contract against a real tenant", v)
		}
	}
	cloud, err := LookupCloud(orDefault(get("JITFLOW_TEST_CLOUD"), "public"))
	if err != nil {
		t.Fatal(err)
	}
	cc := CredentialConfig{Kind: CredentialAuto, TenantID: get("JITFLOW_TEST_TENANT_ID"), ClientID: get("JITFLOW_TEST_CLIENT_ID"),
		ClientSecret: get("JITFLOW_TEST_CLIENT_SECRET"), CertificatePath: get("JITFLOW_TEST_CLIENT_CERTIFICATE_PATH"), Cloud: cloud}
	cred, err := NewCredential(cc)
	if err != nil {
		t.Fatal(err)
	}
	pim, err := New(Config{BaseURL: cloud.GraphURL, Credential: cred})
	if err != nil {
		t.Fatal(err)
	}
	return contract{pim: pim, principal: get("JITFLOW_TEST_PRINCIPAL_ID"), role: get("JITFLOW_TEST_ROLE_ID"),
		group: get("JITFLOW_TEST_GROUP_ID"), unit: get("JITFLOW_TEST_UNIT_ID")}
}

// behaviour is one item of the contract.
type behaviour struct {
	name  string
	setup setup
	run   func(t *testing.T, c contract)
}

func TestGraphContract(t *testing.T) {
	for _, b := range contractBehaviours {
		t.Run("emulator/"+b.name, func(t *testing.T) { b.run(t, emulatorContract(t, b.setup)) })
	}
	for _, b := range contractBehaviours {
		t.Run("tenant/"+b.name, func(t *testing.T) { b.run(t, realTenant(t)) })
	}
}

var contractBehaviours = []behaviour{
	{name: "assign, list, remove a directory role", run: assignListRemove},
	{name: "assign at an administrative unit", run: assignAtUnit},
	{name: "a retried assign adopts its own assignment", run: retriedAssign},
	{name: "an assign whose answer was lost is not made twice", setup: setup{wrap: loseFirstAssignAnswer}, run: lostAnswer},
	{name: "a standing assignment is never adopted", run: standingRefused},
	{name: "a foreign time-bound assignment is never adopted", run: foreignRefused},
	{name: "throttled assign waits for Retry-After", run: throttledAssign},
	{name: "a long Retry-After goes back to Temporal", setup: setup{cfg: Config{MaxRetryWait: time.Second}}, run: longRetryAfter},
	{name: "failing removal is retryable then succeeds", run: failingRemoval},
	{name: "removal too soon after activation", setup: setup{opts: graphemu.Options{MinActiveTime: graphemu.EntraMinActiveTime}}, run: tooSoonRemoval},
	{name: "policy validation failures", setup: setup{opts: graphemu.Options{Rules: []graphemu.Rule{{
		RoleDefinitionID: testGlobalReader, RequireJustification: true, RequireTicket: true, MaxDuration: time.Hour}}}}, run: policyFailures},
	{name: "slow propagation is waited for", setup: setup{opts: graphemu.Options{ListDelay: 150 * time.Millisecond}}, run: slowPropagation},
	{name: "propagation beyond the wait is reported", setup: setup{opts: graphemu.Options{ListDelay: time.Hour}, cfg: Config{VisibleWait: 100 * time.Millisecond}}, run: notVisible},
	{name: "waits end before the activity's deadline", setup: setup{opts: graphemu.Options{ListDelay: time.Hour}}, run: waitsWithinDeadline},
	{name: "graph request ids are returned", run: requestIDsReturned},
	{name: "extend and shorten an assignment", run: extendAssignment},
	{name: "group member and owner", run: groupAccess},
	{name: "eligibility", run: eligibilityLookups},
	{name: "check reads a role definition", run: checkReadsRole},
	{name: "directory users, managers and groups", run: directoryReads},
	{name: "directory reads page through a group", run: directoryPages},
	{name: "throttled and failing directory reads say so", setup: setup{cfg: Config{MaxRetryWait: time.Second}}, run: directoryFaults},
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func assignInput(a Assignment, d time.Duration, requestID string) ActivateInput {
	return ActivateInput{RequestID: requestID, Assignment: a, Duration: d, Justification: "jitflow contract test", Ticket: "CT-1"}
}

// mustAssign assigns and removes the assignment when the test ends.
func mustAssign(t *testing.T, c contract, in ActivateInput) ActivateResult {
	t.Helper()
	res, err := c.pim.Assign(ctxT(t), in)
	if err != nil {
		t.Fatalf("Assign %s: %v", in.TargetString(), err)
	}
	t.Cleanup(func() { removeEventually(t, c, in.Assignment) })
	return res
}

// removeEventually removes, waiting out Entra's minimum active time.
func removeEventually(t *testing.T, c contract, a Assignment) {
	t.Helper()
	ctx := ctxT(t)
	for {
		_, err := c.pim.Remove(ctx, DeactivateInput{RequestID: "contract-cleanup", Assignment: a})
		var soon *RemovalTooSoonError
		if !errors.As(err, &soon) {
			if err != nil {
				t.Errorf("cleanup: Remove %s: %v", a.TargetString(), err)
			}
			return
		}
		if c.clock != nil {
			c.clock.Advance(time.Until(soon.AllowedAt) + time.Second)
			continue
		}
		select {
		case <-ctx.Done():
			t.Errorf("cleanup: %v", ctx.Err())
			return
		case <-time.After(time.Until(soon.AllowedAt) + 5*time.Second):
		}
	}
}

func mustInstances(t *testing.T, c contract, a Assignment) []Instance {
	t.Helper()
	insts, err := c.pim.Instances(ctxT(t), a)
	if err != nil {
		t.Fatalf("Instances %s: %v", a.TargetString(), err)
	}
	return insts
}

func wantAppError(t *testing.T, err error, typ string, retryable bool) *temporal.ApplicationError {
	t.Helper()
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		t.Fatalf("error %v (%T) is not an ApplicationError", err, err)
	}
	if app.Type() != typ || app.NonRetryable() == retryable {
		t.Fatalf("error %v: type %q retryable %v, want %q retryable %v", err, app.Type(), !app.NonRetryable(), typ, retryable)
	}
	return app
}

func assignListRemove(t *testing.T, c contract) {
	ctx := ctxT(t)
	in := assignInput(c.role0(), time.Hour+300*time.Millisecond, "ct-lifecycle")
	res, err := c.pim.Assign(ctx, in)
	if err != nil {
		t.Fatalf("Assign: %v", err)
	}
	if res.GraphRequestID == "" || res.ScheduleID == "" || res.AlreadyAssigned || res.NotVisible {
		t.Errorf("Assign result %+v", res)
	}
	if res.GraphStatus != "Provisioned" && res.GraphStatus != "Granted" {
		t.Errorf("status %q, want Provisioned or Granted", res.GraphStatus)
	}
	if d := res.EndDateTime.Sub(res.StartDateTime); d != time.Hour {
		t.Errorf("granted %v, want 1h (whole seconds)", d)
	}
	insts := mustInstances(t, c, in.Assignment)
	if len(insts) != 1 || insts[0].ScheduleID != res.ScheduleID || insts[0].Permanent() || insts[0].MemberType != "Direct" {
		t.Fatalf("instances %+v, want the one of schedule %s", insts, res.ScheduleID)
	}
	if c.emu != nil {
		sent := c.emu.Requests()[0]
		if sent.Justification != "jitflow contract test (jitflow request ct-lifecycle)" || *sent.TicketInfo.TicketNumber != "CT-1" ||
			sent.ScheduleInfo.Expiration.Type != "afterDuration" || *sent.ScheduleInfo.Expiration.Duration != "PT1H" {
			t.Errorf("Graph received %+v", sent)
		}
	}
	removeEventually(t, c, in.Assignment)
	if insts := mustInstances(t, c, in.Assignment); len(insts) != 0 {
		t.Errorf("after Remove: %+v", insts)
	}
	gone, err := c.pim.Remove(ctx, DeactivateInput{RequestID: "ct-lifecycle", Assignment: in.Assignment})
	if err != nil || !gone.AlreadyGone {
		t.Errorf("second Remove: %+v, %v; want AlreadyGone", gone, err)
	}
}

func assignAtUnit(t *testing.T, c contract) {
	if c.unit == "" {
		t.Skip("set JITFLOW_TEST_UNIT_ID to an administrative unit to check unit scopes against the tenant")
	}
	a := c.role0()
	a.DirectoryScopeID = "/administrativeUnits/" + c.unit
	res := mustAssign(t, c, assignInput(a, time.Hour, "ct-unit"))
	insts := mustInstances(t, c, a)
	if len(insts) != 1 || insts[0].DirectoryScopeID != a.DirectoryScopeID || insts[0].ScheduleID != res.ScheduleID {
		t.Errorf("unit instances %+v", insts)
	}
	if tenant := mustInstances(t, c, c.role0()); len(tenant) != 0 {
		t.Errorf("a unit assignment is listed at the tenant scope: %+v", tenant)
	}
}

func retriedAssign(t *testing.T, c contract) {
	in := assignInput(c.role0(), time.Hour, "ct-retry")
	first := mustAssign(t, c, in)
	again, err := c.pim.Assign(ctxT(t), in)
	if err != nil {
		t.Fatalf("second Assign: %v", err)
	}
	if !again.AlreadyAssigned || again.ScheduleID != first.ScheduleID || !again.EndDateTime.Equal(first.EndDateTime) {
		t.Errorf("second Assign %+v, want AlreadyAssigned with the first's schedule and end %v", again, first.EndDateTime)
	}
	other := in
	other.RequestID = "ct-someone-else"
	_, err = c.pim.Assign(ctxT(t), other)
	wantAppError(t, err, ErrAssignmentHeld, false)
}

// loseFirstAssignAnswer lets the first adminAssign through to the emulator
// and answers the client 502, as a dropped connection would.
func loseFirstAssignAnswer(h http.Handler) http.Handler {
	var lost atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || lost.Load() {
			h.ServeHTTP(w, r)
			return
		}
		lost.Store(true)
		h.ServeHTTP(httptest.NewRecorder(), r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(`{"error":{"code":"BadGateway","message":"the answer was lost"}}`))
	})
}

func lostAnswer(t *testing.T, c contract) {
	c.emulatorOnly(t, "it loses an answer on purpose")
	in := assignInput(c.role0(), time.Hour, "ct-lost")
	_, err := c.pim.Assign(ctxT(t), in)
	var ge *Error
	if !errors.As(err, &ge) || !ge.Retryable() {
		t.Fatalf("Assign with a lost answer: %v; want a retryable Error", err)
	}
	res := mustAssign(t, c, in)
	if !res.AlreadyAssigned || c.posts.Load() != 1 {
		t.Errorf("retry %+v after %d POSTs; want AlreadyAssigned and no second adminAssign", res, c.posts.Load())
	}
}

func standingRefused(t *testing.T, c contract) {
	c.emulatorOnly(t, "it seeds a standing assignment")
	standing, err := c.emu.SeedAssignment(graphemu.Target{PrincipalID: c.principal, RoleDefinitionID: c.role})
	if err != nil {
		t.Fatal(err)
	}
	insts := mustInstances(t, c, c.role0())
	if len(insts) != 1 || !insts[0].Permanent() || insts[0].ID != standing.ID {
		t.Fatalf("instances %+v, want the standing one", insts)
	}
	_, err = c.pim.Assign(ctxT(t), assignInput(c.role0(), time.Hour, "ct-standing"))
	app := wantAppError(t, err, ErrAssignmentHeld, false)
	var held Instance
	if !app.HasDetails() || app.Details(&held) != nil || held.ID != standing.ID {
		t.Errorf("details %+v, want the standing instance", held)
	}
	_, err = c.pim.Remove(ctxT(t), DeactivateInput{RequestID: "ct-standing", Assignment: c.role0()})
	wantAppError(t, err, ErrAssignmentHeld, false)
	if c.posts.Load() != 0 || len(c.emu.Instances()) != 1 {
		t.Errorf("%d POSTs, instances %+v; want none sent and the standing one kept", c.posts.Load(), c.emu.Instances())
	}
}

func foreignRefused(t *testing.T, c contract) {
	c.emulatorOnly(t, "it seeds an assignment made in the portal")
	end := time.Now().Add(2 * time.Hour)
	if _, err := c.emu.SeedAssignment(graphemu.Target{PrincipalID: c.principal, RoleDefinitionID: c.role, EndDateTime: &end}); err != nil {
		t.Fatal(err)
	}
	_, err := c.pim.Assign(ctxT(t), assignInput(c.role0(), time.Hour, "ct-foreign"))
	wantAppError(t, err, ErrAssignmentHeld, false)
	if !strings.Contains(err.Error(), "until") {
		t.Errorf("error %q does not say until when it is held", err)
	}
}

func throttledAssign(t *testing.T, c contract) {
	c.emulatorOnly(t, "it injects 429s")
	one := 1
	if err := c.emu.InjectFault(graphemu.Fault{Status: http.StatusTooManyRequests, Count: 2, RetryAfterSeconds: &one, Method: http.MethodPost}); err != nil {
		t.Fatal(err)
	}
	res := mustAssign(t, c, assignInput(c.role0(), time.Hour, "ct-throttled"))
	if res.AlreadyAssigned || len(c.emu.Instances()) != 1 || c.posts.Load() != 3 {
		t.Errorf("result %+v, %d instances after %d POSTs; want one assignment after two 429s", res, len(c.emu.Instances()), c.posts.Load())
	}
}

func longRetryAfter(t *testing.T, c contract) {
	c.emulatorOnly(t, "it injects a 429")
	wait := 120
	if err := c.emu.InjectFault(graphemu.Fault{Status: http.StatusTooManyRequests, Count: 1, RetryAfterSeconds: &wait, Method: http.MethodPost}); err != nil {
		t.Fatal(err)
	}
	_, err := c.pim.Assign(ctxT(t), assignInput(c.role0(), time.Hour, "ct-long-wait"))
	var ge *Error
	if !errors.As(err, &ge) || !ge.Retryable() || ge.RetryAfter != 120*time.Second {
		t.Fatalf("Assign through a long Retry-After: %v; want a retryable Error carrying Graph's 120s", err)
	}
	if c.posts.Load() != 1 || len(c.emu.Instances()) != 0 {
		t.Errorf("%d POSTs, %d instances; want one refused call", c.posts.Load(), len(c.emu.Instances()))
	}
}

func failingRemoval(t *testing.T, c contract) {
	c.emulatorOnly(t, "it injects 503s")
	in := assignInput(c.role0(), time.Hour, "ct-503")
	mustAssign(t, c, in)
	zero := 0
	if err := c.emu.InjectFault(graphemu.Fault{Status: http.StatusServiceUnavailable, Count: maxRetriesPerAttempt + 1, RetryAfterSeconds: &zero, Action: "adminRemove"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.pim.Remove(ctxT(t), DeactivateInput{RequestID: "ct-503", Assignment: in.Assignment})
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable || !ge.Retryable() {
		t.Fatalf("Remove through 503s: %v; want a retryable 503", err)
	}
	if len(c.emu.Instances()) != 1 {
		t.Fatal("the assignment went despite the 503s")
	}
	if _, err := c.pim.Remove(ctxT(t), DeactivateInput{RequestID: "ct-503", Assignment: in.Assignment}); err != nil {
		t.Fatalf("retried Remove: %v", err)
	}
	if len(c.emu.Instances()) != 0 {
		t.Errorf("left assigned: %+v", c.emu.Instances())
	}
}

func tooSoonRemoval(t *testing.T, c contract) {
	c.emulatorOnly(t, "it moves the emulator's clock")
	in := assignInput(c.role0(), time.Hour, "ct-soon")
	res := mustAssign(t, c, in)
	_, err := c.pim.Remove(ctxT(t), DeactivateInput{RequestID: "ct-soon", Assignment: in.Assignment})
	var tooSoon *RemovalTooSoonError
	if !errors.As(err, &tooSoon) {
		t.Fatalf("Remove right after Assign: %v; want a RemovalTooSoonError", err)
	}
	if want := res.StartDateTime.Add(DefaultMinActiveTime); !tooSoon.AllowedAt.Equal(want) {
		t.Errorf("allowed at %v, want start + 5m = %v", tooSoon.AllowedAt, want)
	}
	c.clock.Advance(DefaultMinActiveTime)
	if _, err := c.pim.Remove(ctxT(t), DeactivateInput{RequestID: "ct-soon", Assignment: in.Assignment}); err != nil {
		t.Fatalf("Remove after 5 minutes: %v", err)
	}
}

func policyFailures(t *testing.T, c contract) {
	c.emulatorOnly(t, "it sets the role's policy rules")
	tests := []struct {
		name string
		edit func(*ActivateInput)
		rule string
	}{
		{"no justification", func(in *ActivateInput) { in.Justification, in.RequestID = "", "" }, "JustificationRule"},
		{"no ticket", func(in *ActivateInput) { in.Ticket = "" }, "TicketingRule"},
		{"over the maximum", func(in *ActivateInput) { in.Duration = 2 * time.Hour }, "ExpirationRule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := assignInput(c.role0(), time.Hour, "ct-policy")
			tt.edit(&in)
			_, err := c.pim.Assign(ctxT(t), in)
			wantAppError(t, err, ErrRejected, false)
			for _, want := range []string{"RoleAssignmentRequestPolicyValidationFailed", tt.rule} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
	if len(c.emu.Instances()) != 0 {
		t.Errorf("assigned despite the policy: %+v", c.emu.Instances())
	}
}

func slowPropagation(t *testing.T, c contract) {
	c.emulatorOnly(t, "it delays listing")
	res := mustAssign(t, c, assignInput(c.role0(), time.Hour, "ct-slow"))
	if res.NotVisible || res.VisibleAfter <= 0 {
		t.Errorf("result %+v, want the instance seen after a wait", res)
	}
}

func notVisible(t *testing.T, c contract) {
	c.emulatorOnly(t, "it delays listing")
	res := mustAssign(t, c, assignInput(c.role0(), time.Hour, "ct-invisible"))
	if !res.NotVisible || res.GraphStatus != "Provisioned" {
		t.Errorf("result %+v, want NotVisible with the assignment made", res)
	}
}

// waitsWithinDeadline: with StartToClose-like deadlines, neither the wait
// for Retry-After nor the wait for the listing runs into the timeout.
func waitsWithinDeadline(t *testing.T, c contract) {
	c.emulatorOnly(t, "it throttles and delays listing")
	ctx, cancel := context.WithTimeout(ctxT(t), deadlineMargin+time.Second)
	defer cancel()
	ten := 10
	if err := c.emu.InjectFault(graphemu.Fault{Status: http.StatusTooManyRequests, Count: 1, RetryAfterSeconds: &ten, Method: http.MethodPost}); err != nil {
		t.Fatal(err)
	}
	in := assignInput(c.role0(), time.Hour, "ct-deadline")
	_, err := c.pim.Assign(ctx, in)
	var ge *Error
	if !errors.As(err, &ge) || ge.RetryAfter != 10*time.Second || ctx.Err() != nil {
		t.Fatalf("Assign under a Retry-After past the deadline: %v (context %v); want Graph's 429 back in time", err, ctx.Err())
	}
	ctx, cancel = context.WithTimeout(ctxT(t), deadlineMargin+time.Second)
	defer cancel()
	res, err := c.pim.Assign(ctx, in)
	if err != nil || !res.NotVisible || ctx.Err() != nil {
		t.Fatalf("Assign with a slow listing: %+v, %v (context %v); want NotVisible in time", res, err, ctx.Err())
	}
	t.Cleanup(func() { removeEventually(t, c, in.Assignment) })
}

func requestIDsReturned(t *testing.T, c contract) {
	in := assignInput(c.role0(), time.Hour, "ct-ids")
	res := mustAssign(t, c, in)
	if len(res.HTTPRequestIDs) < 3 { // look, assign, confirm
		t.Fatalf("request ids %v, want one per Graph call", res.HTTPRequestIDs)
	}
	seen := map[string]bool{}
	for _, id := range res.HTTPRequestIDs {
		if len(id) != 36 || seen[id] {
			t.Errorf("request ids %v: %q is not a fresh GUID", res.HTTPRequestIDs, id)
		}
		seen[id] = true
	}
	removeEventually(t, c, in.Assignment)
}

func extendAssignment(t *testing.T, c contract) {
	in := assignInput(c.role0(), time.Hour, "ct-extend")
	res := mustAssign(t, c, in)
	for _, asked := range []time.Time{res.EndDateTime.Add(2 * time.Hour), res.EndDateTime.Add(30 * time.Minute)} {
		end := asked.Truncate(time.Second) // Graph's date-times are whole seconds
		ext, err := c.pim.Extend(ctxT(t), ExtendInput{RequestID: "ct-extend", Assignment: in.Assignment, EndDateTime: asked, Justification: "more time"})
		if err != nil {
			t.Fatalf("Extend to %v: %v", end, err)
		}
		if !ext.EndDateTime.Equal(end) || ext.GraphRequestID == "" || len(ext.HTTPRequestIDs) == 0 {
			t.Errorf("Extend result %+v, want end %v", ext, end)
		}
		insts := mustInstances(t, c, in.Assignment)
		if len(insts) != 1 || !insts[0].EndDateTime.Equal(end) || !insts[0].StartDateTime.Equal(res.StartDateTime) {
			t.Errorf("instances %+v, want start %v and end %v", insts, res.StartDateTime, end)
		}
	}
	_, err := c.pim.Extend(ctxT(t), ExtendInput{Assignment: in.Assignment, EndDateTime: time.Now().Add(-time.Minute)})
	wantAppError(t, err, ErrRejected, false)
}

func groupAccess(t *testing.T, c contract) {
	member, owner := c.groupTarget(t, AccessMember), c.groupTarget(t, AccessOwner)
	res := mustAssign(t, c, assignInput(member, time.Hour, "ct-group"))
	if res.ScheduleID == "" || res.NotVisible {
		t.Errorf("group Assign %+v", res)
	}
	insts := mustInstances(t, c, member)
	if len(insts) != 1 || insts[0].GroupID != c.group || insts[0].AccessID != AccessMember ||
		insts[0].AssignmentType != "Assigned" || insts[0].ScheduleID != res.ScheduleID {
		t.Fatalf("member instances %+v", insts)
	}
	if got := mustInstances(t, c, owner); len(got) != 0 {
		t.Errorf("owner instances %+v, want none", got)
	}
	if role := mustInstances(t, c, c.role0()); len(role) != 0 {
		t.Errorf("a group assignment is listed as a directory role: %+v", role)
	}
	mustAssign(t, c, assignInput(owner, 30*time.Minute, "ct-group-owner"))
	removeEventually(t, c, member)
	if got := mustInstances(t, c, owner); len(got) != 1 {
		t.Errorf("removing the membership touched the ownership: %+v", got)
	}
}

func eligibilityLookups(t *testing.T, c contract) {
	ctx := ctxT(t)
	if c.emu == nil {
		// The tenant's data is not known: the lookups must answer.
		for _, a := range []Assignment{c.role0(), {PrincipalID: c.principal, GroupID: c.group, AccessID: AccessMember}} {
			if a.IsGroup() && c.group == "" {
				continue
			}
			if _, err := c.pim.Eligible(ctx, a); err != nil {
				t.Errorf("Eligible %s: %v", a.TargetString(), err)
			}
		}
		return
	}
	for _, seed := range []graphemu.Target{
		{PrincipalID: c.principal, RoleDefinitionID: c.role},
		{PrincipalID: c.principal, GroupID: c.group, AccessID: AccessOwner},
	} {
		if _, err := c.emu.SeedEligibility(seed); err != nil {
			t.Fatal(err)
		}
	}
	unit := c.role0()
	unit.DirectoryScopeID = "/administrativeUnits/" + c.unit
	tests := []struct {
		a    Assignment
		want bool
	}{
		{c.role0(), true},
		{Assignment{PrincipalID: c.principal, RoleDefinitionID: "194ae4cb-b126-40b2-bd5b-6091b380977d", DirectoryScopeID: "/"}, false},
		{unit, false},
		{Assignment{PrincipalID: "22222222-2222-4222-8222-222222222222", RoleDefinitionID: c.role}, false},
		{Assignment{PrincipalID: c.principal, GroupID: c.group, AccessID: AccessOwner}, true},
		{Assignment{PrincipalID: c.principal, GroupID: c.group, AccessID: AccessMember}, false},
	}
	for _, tt := range tests {
		got, err := c.pim.Eligible(ctx, tt.a)
		if err != nil {
			t.Fatalf("Eligible %s: %v", tt.a.TargetString(), err)
		}
		if got.Eligible != tt.want || (got.Eligible && (got.InstanceID == "" || !got.EndDateTime.IsZero())) {
			t.Errorf("Eligible %s for %s = %+v, want %v (permanent)", tt.a.TargetString(), tt.a.PrincipalID, got, tt.want)
		}
	}
}

func checkReadsRole(t *testing.T, c contract) {
	res, err := c.pim.Check(ctxT(t), "test credential", c.role)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.RoleName == "" || !strings.EqualFold(res.RoleDefinitionID, c.role) {
		t.Errorf("Check %+v, want the role's name", res)
	}
	if c.emu == nil {
		return
	}
	_, err = c.pim.Check(ctxT(t), "test credential", "00000000-0000-0000-0000-0000000000aa")
	if err == nil || !strings.Contains(err.Error(), "Request_ResourceNotFound") || !strings.Contains(err.Error(), "test credential") {
		t.Errorf("Check of an unknown role: %v; want Graph's 404 and the credential named", err)
	}
}

// The directory of the emulator's runs: the principal is in the test
// group and managed by testManager, who is in a group nested in it and has
// no manager.
const (
	testManager     = "11111111-1111-1111-1111-2222222222aa"
	testNestedGroup = "33333333-3333-4333-8333-3333333333bb"
	// testNobody is an object id no tenant holds.
	testNobody = "00000000-0000-4000-8000-00000000dead"
)

func seedDirectory(t *testing.T, c contract) {
	t.Helper()
	if c.emu == nil {
		return
	}
	err := c.emu.SetUsers([]graphemu.User{
		{ID: c.principal, DisplayName: "Test Principal", UPN: "principal@contract.example", ManagerID: testManager},
		{ID: testManager, DisplayName: "Test Manager", UPN: "manager@contract.example", Mail: "manager@mail.contract.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.emu.SetGroups([]graphemu.Group{
		{ID: c.group, DisplayName: "contract group", Members: []string{c.principal, testNestedGroup}},
		{ID: testNestedGroup, DisplayName: "contract nested group", Members: []string{testManager}},
	})
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	var ge *Error
	if !IsNotFound(err) || !errors.As(err, &ge) || ge.Code != "Request_ResourceNotFound" {
		t.Errorf("%s: %v; want Graph's 404 Request_ResourceNotFound", what, err)
	}
}

func directoryReads(t *testing.T, c contract) {
	seedDirectory(t, c)
	ctx := ctxT(t)
	u, err := c.pim.User(ctx, c.principal)
	if err != nil {
		t.Fatalf("User by id: %v", err)
	}
	if !strings.EqualFold(u.ID, c.principal) || u.UPN == "" || u.DisplayName == "" {
		t.Errorf("User %s = %+v", c.principal, u)
	}
	byUPN, err := c.pim.User(ctx, u.UPN)
	if err != nil || byUPN != u {
		t.Errorf("User by principal name %q = %+v, %v; want %+v", u.UPN, byUPN, err, u)
	}
	_, err = c.pim.User(ctx, testNobody)
	wantNotFound(t, "User of an unknown id", err)

	m, err := c.pim.Manager(ctx, c.principal)
	switch {
	case c.emu != nil:
		want := DirectoryUser{ID: testManager, DisplayName: "Test Manager", UPN: "manager@contract.example", Mail: "manager@mail.contract.example"}
		if err != nil || m != want {
			t.Errorf("Manager = %+v, %v; want %+v", m, err, want)
		}
		_, err = c.pim.Manager(ctx, testManager)
		wantNotFound(t, "Manager of a user without one", err)
	case err != nil && !IsNotFound(err):
		t.Errorf("Manager: %v; want a user or Graph's 404 for none", err)
	}
	_, err = c.pim.Manager(ctx, testNobody)
	wantNotFound(t, "Manager of an unknown user", err)

	groups, err := c.pim.MemberGroups(ctx, c.principal)
	if err != nil {
		t.Fatalf("MemberGroups: %v", err)
	}
	_, err = c.pim.MemberGroups(ctx, testNobody)
	wantNotFound(t, "MemberGroups of an unknown user", err)
	_, err = c.pim.GroupMembers(ctx, testNobody)
	wantNotFound(t, "GroupMembers of an unknown group", err)
	if c.group == "" {
		t.Skip("set JITFLOW_TEST_GROUP_ID to read a group's members from the tenant")
	}
	members, err := c.pim.GroupMembers(ctx, c.group)
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	if c.emu == nil {
		return
	}
	if want := []string{c.group, "contract group"}; !slices.Equal(groups, want) {
		t.Errorf("MemberGroups = %v, want %v", groups, want)
	}
	if mgr, _ := c.pim.MemberGroups(ctx, testManager); !slices.Equal(mgr, []string{c.group, "contract group", testNestedGroup, "contract nested group"}) {
		t.Errorf("MemberGroups of the manager = %v, want the nested group and the group holding it", mgr)
	}
	if want := []DirectoryUser{u, m}; !slices.Equal(members, want) {
		t.Errorf("GroupMembers = %+v, want the principal and, through the nested group, the manager: %+v", members, want)
	}
}

func directoryPages(t *testing.T, c contract) {
	if c.group == "" {
		t.Skip("set JITFLOW_TEST_GROUP_ID to page through a group's members in the tenant")
	}
	seedDirectory(t, c)
	ctx := ctxT(t)
	whole, err := c.pim.GroupMembers(ctx, c.group)
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	pim := *c.pim
	pim.groupPageSize = 1
	paged, err := pim.GroupMembers(ctx, c.group)
	if err != nil {
		t.Fatalf("GroupMembers one per page: %v", err)
	}
	if !slices.Equal(paged, whole) || (c.emu != nil && len(paged) != 2) {
		t.Errorf("one per page: %+v; in one page: %+v", paged, whole)
	}
}

func directoryFaults(t *testing.T, c contract) {
	c.emulatorOnly(t, "it injects 429s and 503s")
	seedDirectory(t, c)
	ctx := ctxT(t)
	zero, long := 0, 120
	faults := []graphemu.Fault{
		{Status: http.StatusTooManyRequests, Count: 2, RetryAfterSeconds: &zero, Path: "/users/"},
		{Status: http.StatusTooManyRequests, Count: 1, RetryAfterSeconds: &long, Path: "/transitiveMembers/"},
		{Status: http.StatusServiceUnavailable, Count: maxRetriesPerAttempt + 1, RetryAfterSeconds: &zero, Path: "/manager"},
	}
	for _, f := range faults {
		if err := c.emu.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
	// Short throttling is waited out within the call.
	if _, err := c.pim.User(ctx, c.principal); err != nil {
		t.Errorf("User through two 429s of Retry-After 0: %v", err)
	}
	_, err := c.pim.GroupMembers(ctx, c.group)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusTooManyRequests || ge.RetryAfter != 120*time.Second || IsNotFound(err) ||
		!strings.Contains(err.Error(), "read the members of group "+c.group) {
		t.Errorf("GroupMembers through a long Retry-After: %v; want Graph's 429 with its 120s, naming the group", err)
	}
	_, err = c.pim.Manager(ctx, c.principal)
	if !errors.As(err, &ge) || ge.Status != http.StatusServiceUnavailable || !ge.Retryable() || IsNotFound(err) {
		t.Errorf("Manager through 503s: %v; want a retryable 503", err)
	}
	if _, err := c.pim.GroupMembers(ctx, c.group); err != nil {
		t.Errorf("GroupMembers after the faults: %v", err)
	}
}
