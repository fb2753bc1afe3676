package devstack

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/workflows"
)

// stepUpRole needs MFA, and approves on-call engineers' short requests at
// once.
const stepUpRole = `
  - name: secreader
    role_definition_id: 5d6b6bb7-de71-4623-b4af-96380a352509
    requesters: {groups: [engineers]}
    duration: {min: 1s, max: 4h}
    require_justification: true
    require_mfa: true
    auto_approve:
      - name: oncall-short
        expr: "'oncall' in caller.groups && request.duration < duration('30m')"
    approval:
      stages:
        - tiers: [{approvers: {users: [bob]}, timeout: 20s}]
`

func stepUpPolicy(t testing.TB) *policies.Policy {
	t.Helper()
	pol, err := policies.Parse("dev.yaml", append(append([]byte{}, policies.DevYAML...), stepUpRole...))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// tokenWith fetches a dev token with extra query parameters (mfa=true, ...).
func (c apiClient) tokenWith(user, params string) string {
	c.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if status := c.do("GET", "/dev/token?user="+user+"&"+params, "", "", &out); status != http.StatusOK {
		c.t.Fatalf("dev token for %s with %s: status %d", user, params, status)
	}
	return out.Token
}

// raw sends one request and returns the status, headers and body.
func (c apiClient) raw(method, path, token, body string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data)
}

// TestIdentityAndPolicyEndToEnd: step-up, auto-approval, group overage
// through the Graph emulator, bad input and paging, on the real stack.
func TestIdentityAndPolicyEndToEnd(t *testing.T) {
	pol := stepUpPolicy(t)
	st := startStack(t, t.TempDir(), pol)
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	erin, _ := pol.UserByName("erin")

	// An MFA-only role with a token lacking MFA: the claims challenge.
	body := `{"role":"secreader","duration":"2s","justification":"e2e step-up"}`
	status, h, detail := api.raw("POST", "/api/v1/requests", api.token("erin"), body)
	if status != http.StatusUnauthorized || !strings.Contains(detail, "multi-factor") {
		t.Fatalf("without MFA: %d %s", status, detail)
	}
	challenge := h.Get("WWW-Authenticate")
	if !strings.Contains(challenge, `error="insufficient_claims"`) || !strings.Contains(challenge, `claims="`) {
		t.Fatalf("WWW-Authenticate = %q", challenge)
	}
	claims, _ := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.SplitN(challenge, `claims="`, 2)[1], `"`))
	if !strings.Contains(string(claims), `"mfa"`) {
		t.Errorf("claims request %s does not ask for mfa", claims)
	}

	// With MFA, an on-call engineer's short request is approved by the rule.
	var req workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.tokenWith("erin", "mfa=true"), body, &req); status != http.StatusCreated {
		t.Fatalf("with MFA: status %d", status)
	}
	if req.AutoApprovedBy != "oncall-short" {
		t.Errorf("created request %+v, want auto-approved by oncall-short", req)
	}
	waitFor(t, 30*time.Second, "expired", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("erin"), "", &req)
		return req.Status == apitypes.StatusExpired
	})
	if req.ActivatedAt == nil || len(req.Decisions) != 0 {
		t.Errorf("auto-approved request = %+v", req)
	}
	var audit struct {
		Events []workflows.AuditEvent `json:"events"`
	}
	api.do("GET", "/api/v1/requests/"+req.ID+"/audit", api.token("erin"), "", &audit)
	var approved *workflows.AuditEvent
	for i, ev := range audit.Events {
		if ev.Type == apitypes.EventApproved {
			approved = &audit.Events[i]
		}
	}
	if approved == nil || approved.Actor != apitypes.ActorSystem || !strings.Contains(approved.Detail, `"oncall-short"`) {
		t.Errorf("approved event = %+v in %+v", approved, audit.Events)
	}
	if holds(st, erin.ID, "5d6b6bb7-de71-4623-b4af-96380a352509") {
		t.Error("the role is still assigned after expiry")
	}

	// A token with a group overage: the groups come from the Graph emulator.
	var glass workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.tokenWith("erin", "overage=true"),
		`{"role":"breakglass","duration":"10s","justification":"e2e overage"}`, &glass); status != http.StatusCreated {
		t.Fatalf("break-glass with a group overage: status %d", status)
	}

	// Bad input gets the contract's statuses, and the server keeps serving.
	bad := []struct {
		body   string
		status int
	}{
		{`{"role":"reader","justification":"x","colour":"red"}`, http.StatusBadRequest},
		{`{"role":`, http.StatusBadRequest},
		{`{"role":"reader","duration":"forever","justification":"x"}`, http.StatusBadRequest},
		{`{"role":"reader","duration":"9h","justification":"x"}`, http.StatusUnprocessableEntity},
		{`{"role":"nope"}`, http.StatusUnprocessableEntity},
		{`{"role":"reader","justification":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, b := range bad {
		status, h, detail := api.raw("POST", "/api/v1/requests", api.token("alice"), b.body)
		if status != b.status || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(detail, `"detail"`) {
			t.Errorf("%.60s: %d %s, want %d with a problem", b.body, status, detail, b.status)
		}
	}
	if status, _, _ := api.raw("GET", "/healthz", "", ""); status != http.StatusOK {
		t.Errorf("healthz after bad input: %d", status)
	}

	// Pages and the time range, on Temporal's own visibility.
	var first, second struct {
		Requests      []workflows.Request `json:"requests"`
		NextPageToken string              `json:"next_page_token"`
	}
	waitFor(t, 10*time.Second, "two requests listed", func() bool {
		api.do("GET", "/api/v1/requests?limit=1", api.token("dave"), "", &first)
		return first.NextPageToken != ""
	})
	api.do("GET", "/api/v1/requests?limit=1&page_token="+url.QueryEscape(first.NextPageToken), api.token("dave"), "", &second)
	if len(first.Requests) != 1 || len(second.Requests) != 1 || first.Requests[0].ID == second.Requests[0].ID {
		t.Errorf("pages %+v then %+v", first.Requests, second.Requests)
	}
	after := url.QueryEscape(glass.CreatedAt.Add(-time.Millisecond).Format(time.RFC3339Nano))
	var recent struct {
		Requests []workflows.Request `json:"requests"`
	}
	if status := api.do("GET", "/api/v1/requests?created_after="+after, api.token("dave"), "", &recent); status != http.StatusOK {
		t.Fatalf("created_after: status %d", status)
	}
	if len(recent.Requests) != 1 || recent.Requests[0].ID != glass.ID {
		t.Errorf("created_after %s listed %+v, want only %s", after, recent.Requests, glass.ID)
	}
}

// TestRecordAutoApprovalHistory writes the history of an auto-approved
// request for the replay tests (see TestRecordHistories).
func TestRecordAutoApprovalHistory(t *testing.T) {
	if os.Getenv("JITFLOW_RECORD_HISTORIES") == "" {
		t.Skip("set JITFLOW_RECORD_HISTORIES=1 to record new histories")
	}
	st := startStack(t, t.TempDir(), stepUpPolicy(t))
	defer st.Stop()
	api := apiClient{t: t, base: st.APIURL}
	var req workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.tokenWith("erin", "mfa=true"),
		`{"role":"secreader","duration":"1s","justification":"recorded history"}`, &req); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	waitFor(t, 30*time.Second, "expired", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("erin"), "", &req)
		return req.Status == apitypes.StatusExpired
	})
	saveHistory(t, st, req.ID, filepath.Join("..", "..", "workflows", "testdata", "histories", "i5-auto_approved_expired.json"))
}
