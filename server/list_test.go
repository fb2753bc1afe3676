package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

func TestListValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		query, field string
		fragments    []string
	}{
		{"status=pending", "status", []string{`"pending"`, "pending_approval", "timed_out", "failed"}},
		{"role=root", "role", []string{`"root"`, "reader", "breakglass"}},
		{"requester=mallory@example.com", "requester", []string{"mallory@example.com", "principal name"}},
		{"limit=0", "limit", []string{"1 to 200"}},
		{"limit=201", "limit", []string{"1 to 200"}},
		{"limit=ten", "limit", []string{`"ten"`}},
		{"sort=asc", "sort", []string{`"sort"`, "status, requester, role, created_after, created_before, limit, page_token"}},
		{"created_after=yesterday", "created_after", []string{`"yesterday"`, "RFC 3339"}},
		{"created_after=2030-01-02T00:00:00Z&created_before=2030-01-01T00:00:00Z", "created_before", []string{"later than created_after"}},
		{"page_token=forged", "page_token", []string{"not one this server issued"}},
		{"role=reader&role=admin", "role", []string{"once"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.call(http.MethodGet, "/api/v1/requests?"+tt.query, "alice", "")
			wantStatus(t, r, http.StatusBadRequest)
			p := r.problem(t)
			if p.Field != tt.field {
				t.Errorf("field = %q, want %q", p.Field, tt.field)
			}
			wantContains(t, "detail", p.Detail, tt.fragments...)
		})
	}
}

func list(t *testing.T, e *env, user, query string) []workflows.Request {
	t.Helper()
	r := e.call(http.MethodGet, "/api/v1/requests?"+query, user, "")
	wantStatus(t, r, http.StatusOK)
	var body struct {
		Requests []workflows.Request `json:"requests"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Requests == nil {
		t.Fatalf("requests is null, want a list: %s", r.body)
	}
	return body.Requests
}

func ids(sums []workflows.Request) []string {
	out := make([]string, len(sums))
	for i, s := range sums {
		out[i] = s.ID
	}
	return out
}

func TestListScopesAndFilters(t *testing.T) {
	e := newEnv(t)
	if got := list(t, e, "alice", ""); len(got) != 0 {
		t.Fatalf("empty system listed %v", got)
	}
	aliceReader := e.create("alice", readerBody)
	aliceAdmin := e.create("alice", `{"role":"admin","justification":"x","ticket":"CHG-7"}`)
	erinGlass := e.create("erin", `{"role":"breakglass","justification":"prod down"}`)
	e.temporal.close(aliceReader, api.StatusExpired)

	tests := []struct {
		user, query string
		want        []string
	}{
		{"alice", "", []string{aliceAdmin, aliceReader}}, // her own, newest first
		{"erin", "", []string{erinGlass}},
		{"bob", "", []string{aliceAdmin, aliceReader}},             // approver of both
		{"dave", "", []string{erinGlass, aliceAdmin, aliceReader}}, // operator sees all
		{"dave", "requester=alice@example.com", []string{aliceAdmin, aliceReader}},
		{"dave", "requester=" + erinID, []string{erinGlass}},
		{"dave", "role=admin", []string{aliceAdmin}},
		{"dave", "status=expired", []string{aliceReader}},
		{"dave", "status=pending_approval&role=reader", []string{}},
		{"dave", "limit=2", []string{erinGlass, aliceAdmin}},
		{"carol", "role=breakglass", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.user+"?"+tt.query, func(t *testing.T) {
			got := list(t, e, tt.user, tt.query)
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("listed %v, want %v", ids(got), tt.want)
			}
		})
	}

	q := e.temporal.queries[len(e.temporal.queries)-1]
	wantContains(t, "carol's query", q, "WorkflowType='AccessRequest'", "JitflowRole='breakglass'",
		"(JitflowRequesterId='"+carolID+"' OR JitflowApproverIds='"+carolID+"')")
	list(t, e, "dave", "")
	if q := e.temporal.queries[len(e.temporal.queries)-1]; strings.Contains(q, "JitflowRequesterId") {
		t.Errorf("operator's query %q is scoped", q)
	}
}

func TestListFullRequests(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	got := list(t, e, "alice", "")[0]
	if got.ID != id || got.Status != api.StatusPending || got.Role != "reader" || got.Requester != "alice@example.com" ||
		got.RequesterID != aliceID || got.CreatedAt.IsZero() || got.EndedAt != nil || got.Justification == "" || got.Duration == "" {
		t.Errorf("listed request = %+v", got)
	}
	e.temporal.close(id, api.StatusDenied)
	got = list(t, e, "alice", "")[0]
	if got.Status != api.StatusDenied || got.EndedAt == nil || !got.EndedAt.After(got.CreatedAt) {
		t.Errorf("closed request = %+v", got)
	}
}

// A request whose workflow keeps its view in its memo is listed from
// visibility alone: no describe, no query, even when its worker does not
// answer. A memo behind the status visibility holds (a workflow ended from
// outside) is not trusted: that row asks its workflow.
func TestListReadsMemoViews(t *testing.T) {
	e := newEnv(t)
	kept := e.create("alice", readerBody)
	behind := e.create("alice", readerBody)
	escalates := time.Date(2030, 1, 1, 1, 0, 0, 0, time.UTC)
	e.temporal.mu.Lock()
	w := e.temporal.wfs[kept]
	memo := w.view
	memo.EscalatesAt, memo.Tier = &escalates, 1
	w.memo, w.queryErr = &memo, serviceerror.NewDeadlineExceeded("no worker")
	stale := e.temporal.wfs[behind].view
	e.temporal.wfs[behind].memo = &stale
	e.temporal.mu.Unlock()
	e.temporal.close(behind, api.StatusDenied)
	e.temporal.mu.Lock()
	e.temporal.calls = nil
	e.temporal.mu.Unlock()

	got := list(t, e, "alice", "")
	byID := map[string]workflows.Request{}
	for _, r := range got {
		byID[r.ID] = r
	}
	if r := byID[kept]; r.View != "" || r.EscalatesAt == nil || !r.EscalatesAt.Equal(escalates) || r.Status != api.StatusPending || r.Justification == "" {
		t.Errorf("request with a memo view listed as %+v", r)
	}
	if r := byID[behind]; r.Status != api.StatusDenied || r.View != "" {
		t.Errorf("request whose memo is behind listed as %+v, want its workflow's view (denied)", r)
	}
	e.temporal.mu.Lock()
	defer e.temporal.mu.Unlock()
	if n := e.temporal.calls["QueryWorkflow"]; n != 1 {
		t.Errorf("%d queries, want 1: only the row whose memo is behind asks its workflow", n)
	}
	if n := e.temporal.calls["DescribeWorkflow"]; n != 1 {
		t.Errorf("%d describes, want 1", n)
	}
}

// Whoever starts a workflow through Temporal may give it any memo: a view
// there that the row's own run did not write (it names no run, or
// another) is never listed; the row asks its workflow instead.
func TestListRefusesMemoViewsItsRunDidNotWrite(t *testing.T) {
	for _, run := range []string{"other-run", noMemoRun} {
		t.Run(run, func(t *testing.T) {
			e := newEnv(t)
			id := e.create("alice", readerBody)
			e.temporal.mu.Lock()
			w := e.temporal.wfs[id]
			forged := w.view
			forged.Status, forged.Justification = api.StatusActive, "forged through Temporal"
			w.memo, w.memoRun = &forged, run
			w.attrs[workflows.SearchStatus.GetName()] = string(api.StatusActive)
			e.temporal.mu.Unlock()

			got := list(t, e, "alice", "")
			if len(got) != 1 || got[0].Justification == "forged through Temporal" {
				t.Fatalf("listed %+v, want the workflow's own view, not the forged memo", got)
			}
			e.temporal.mu.Lock()
			defer e.temporal.mu.Unlock()
			if n := e.temporal.calls["QueryWorkflow"]; n != 1 {
				t.Errorf("%d queries, want 1: the row asks its workflow", n)
			}
		})
	}
}

// Without a worker to answer, a listing still lists each request as
// submitted, with the status and end visibility knows.
func TestListWithoutWorker(t *testing.T) {
	e := newEnv(t)
	id := e.create("alice", readerBody)
	e.temporal.close(id, api.StatusDenied)
	e.temporal.queryErr = serviceerror.NewDeadlineExceeded("no worker")
	got := list(t, e, "alice", "")
	if len(got) != 1 || got[0].ID != id || got[0].Status != api.StatusDenied || got[0].Requester != "alice@example.com" ||
		got[0].EndedAt == nil || got[0].Decisions == nil || got[0].View != api.ViewSubmitted || got[0].Justification != "investigate incident 42" {
		t.Errorf("listed = %+v", got)
	}
}

// The approver's list answers within listWait although one row's workflow
// does not answer at all: that row is listed as submitted, from its start
// (the recent starts, or its history once they forgot it), the others as
// their workflows show them.
func TestListWithSlowRow(t *testing.T) {
	for _, forget := range []bool{false, true} {
		t.Run(fmt.Sprintf("history=%v", forget), func(t *testing.T) {
			e := newEnv(t)
			slow := e.create("alice", readerBody)
			var fast []string
			for range 3 {
				id := e.create("alice", readerBody)
				e.temporal.wfs[id].view.Tier = 2
				fast = append(fast, id)
			}
			gate := make(chan struct{})
			defer close(gate)
			e.temporal.wfs[slow].queryGate = gate
			if forget {
				e.server.recent.starts = nil
			}
			start := time.Now()
			got := list(t, e, "bob", "status=pending_approval")
			if waited := time.Since(start); waited >= queryTimeout {
				t.Errorf("listed after %s, not within the listing's wait (%s)", waited, listWait)
			}
			if len(got) != 4 {
				t.Fatalf("listed %d requests, want 4", len(got))
			}
			for _, req := range got {
				switch {
				case req.ID == slow:
					if req.View != api.ViewSubmitted || req.Status != api.StatusPending || req.Justification != "investigate incident 42" || len(req.Approvers) == 0 {
						t.Errorf("slow row = %+v, want it as submitted", req)
					}
				case slices.Contains(fast, req.ID):
					if req.View != "" || req.Tier != 2 {
						t.Errorf("answered row = %+v, want the workflow's view", req)
					}
				default:
					t.Errorf("unexpected row %s", req.ID)
				}
			}
			_, calls := e.temporal.callCount()
			if wantHistory := map[bool]int{false: 0, true: 1}[forget]; calls["GetWorkflowHistory"] != wantHistory {
				t.Errorf("history read %d times, want %d", calls["GetWorkflowHistory"], wantHistory)
			}
		})
	}
}

// Temporal out of reach fails the listing with a 503.
func TestListTemporalUnreachable(t *testing.T) {
	e := newEnv(t)
	e.create("alice", readerBody)
	e.temporal.listErr = serviceerror.NewUnavailable("connection refused")
	r := e.call(http.MethodGet, "/api/v1/requests?status=pending_approval", "bob", "")
	wantStatus(t, r, http.StatusServiceUnavailable)
	r.problem(t)
}

func TestQuoteValue(t *testing.T) {
	tests := map[string]string{
		"reader":       "'reader'",
		"o'brien":      `'o\'brien'`,
		`back\slash`:   `'back\\slash'`,
		`x' OR 'a'='a`: `'x\' OR \'a\'=\'a'`,
	}
	for in, want := range tests {
		if got := quoteValue(in); got != want {
			t.Errorf("quoteValue(%q) = %s, want %s", in, got, want)
		}
	}
}

// page lists one page and returns its ids and next token.
func listPage(t *testing.T, e *env, user, query string) ([]string, string) {
	t.Helper()
	r := e.call(http.MethodGet, "/api/v1/requests?"+query, user, "")
	wantStatus(t, r, http.StatusOK)
	var body listBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	return ids(body.Requests), body.NextPageToken
}

func TestListPages(t *testing.T) {
	e := newEnv(t)
	var all []string
	for _, c := range []struct{ user, body string }{
		{"alice", readerBody},
		{"alice", `{"role":"admin","justification":"x","ticket":"CHG-7"}`},
		{"erin", readerBody},
		{"erin", `{"role":"admin","justification":"x","ticket":"CHG-8"}`},
		{"erin", `{"role":"breakglass","justification":"prod down"}`},
	} {
		all = append([]string{e.create(c.user, c.body)}, all...) // newest first
	}
	var got []string
	token := ""
	for i := 0; ; i++ {
		q := "limit=2"
		if token != "" {
			q += "&page_token=" + url.QueryEscape(token)
		}
		ids, next := listPage(t, e, "dave", q)
		if len(ids) > 2 {
			t.Fatalf("page %d has %d requests, limit 2", i, len(ids))
		}
		got = append(got, ids...)
		if next == "" {
			break
		}
		if i > 5 {
			t.Fatal("pages do not end")
		}
		token = next
	}
	if !slices.Equal(got, all) {
		t.Errorf("pages listed %v, want %v", got, all)
	}

	_, token = listPage(t, e, "dave", "limit=2")
	misuse := []struct {
		name, user, query, detail string
	}{
		{"other filters", "dave", "limit=2&role=reader&page_token=", "another listing"},
		{"other caller", "bob", "limit=2&page_token=", "another listing"},
		{"altered", "dave", "limit=2&page_token=x", "not one this server issued"},
	}
	for _, m := range misuse {
		t.Run(m.name, func(t *testing.T) {
			tok := token
			if m.name == "altered" {
				tok = token[:len(token)-2] + "AA"
				if tok == token {
					tok = token[:len(token)-2] + "BB"
				}
			}
			r := e.call(http.MethodGet, "/api/v1/requests?"+strings.TrimSuffix(m.query, "x")+url.QueryEscape(tok), m.user, "")
			wantStatus(t, r, http.StatusBadRequest)
			p := r.problem(t)
			if p.Field != "page_token" {
				t.Errorf("field = %q", p.Field)
			}
			wantContains(t, "detail", p.Detail, m.detail)
		})
	}
}

func TestListTimeRange(t *testing.T) {
	e := newEnv(t)
	// The fake starts workflows one second apart from 2030-01-01T00:00:00Z;
	// the server's clock follows it, as a real one follows Temporal's.
	e.server.now = func() time.Time { return e.temporal.clock.Add(time.Second) }
	first := e.create("alice", readerBody)
	second := e.create("erin", readerBody)
	third := e.create("alice", `{"role":"admin","justification":"x","ticket":"CHG-7"}`)
	tests := []struct {
		query string
		want  []string
	}{
		{"created_after=2030-01-01T00:00:02Z", []string{third, second}},
		{"created_before=2030-01-01T00:00:02Z", []string{first}},
		{"created_after=2030-01-01T00:00:02Z&created_before=2030-01-01T00:00:03Z", []string{second}},
		{"created_after=2030-01-01T01:00:00%2B01:00", []string{third, second, first}},
	}
	for _, tt := range tests {
		if got, _ := listPage(t, e, "dave", tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("%s: listed %v, want %v", tt.query, got, tt.want)
		}
	}
	wantContains(t, "query", e.temporal.queries[len(e.temporal.queries)-1], "StartTime>='2030-01-01T00:00:00Z'")
}

// TestListShowsOwnRecentStarts: visibility learns of a new request a moment
// after its start; the first page still shows it to those who may see it,
// as the filter selects it.
func TestListShowsOwnRecentStarts(t *testing.T) {
	e := newEnv(t)
	e.temporal.visibilityLag = true
	id := e.create("alice", readerBody)
	tests := []struct {
		user, query string
		want        []string
	}{
		{"alice", "", []string{id}},
		{"bob", "role=reader", []string{id}},
		{"dave", "status=pending_approval", []string{id}},
		{"dave", "status=active", nil},
		{"dave", "role=admin", nil},
		{"erin", "", nil},
		{"dave", "created_after=2099-01-01T00:00:00Z", nil},
	}
	for _, tt := range tests {
		if got, _ := listPage(t, e, tt.user, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %q: %v, want %v", tt.user, tt.query, got, tt.want)
		}
	}
}
