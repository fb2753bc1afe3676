package devstack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	apitypes "github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/audit"
	"github.com/jitflow/jitflow/workflows"
)

// TestOperatorsView runs one request through the dev stack and looks at it
// the way operators do: the namespace keeps history a year, /metrics
// serves jitflow's and the Temporal SDK's series, the audit trail names
// the approver with the update and Graph's request ids, the continuous
// export delivers every event once, and (when JITFLOW_TEMPORAL_CLI names a
// Temporal CLI binary, as scripts/temporal-cli-check.sh builds) the
// official CLI lists the request and shows the approver in its history.
func TestOperatorsView(t *testing.T) {
	dir := t.TempDir()
	sinkPath := filepath.Join(dir, "audit-export.jsonl")
	st := startStackWith(t, dir, fastPolicy(t), func(o *Options) { o.AuditSink, o.AuditEvery = sinkPath, time.Hour })
	defer st.Stop()
	ctx := context.Background()
	api := apiClient{t: t, base: st.APIURL}

	ns, err := st.Client.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: st.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	if got := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got < 365*24*time.Hour {
		t.Errorf("namespace retention = %s, want at least 365 days", got)
	}

	var req workflows.Request
	if status := api.do("POST", "/api/v1/requests", api.token("alice"), `{"role":"reader","duration":"1h","justification":"operators view"}`, &req); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("alice"), `{"comment":"self"}`, nil); status != http.StatusForbidden {
		t.Fatalf("self-approval: %d, want 403", status)
	}
	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/approve", api.token("bob"), `{"comment":"fine by me"}`, nil); status != http.StatusOK {
		t.Fatalf("approve: %d", status)
	}
	waitFor(t, 20*time.Second, "active", func() bool {
		api.do("GET", "/api/v1/requests/"+req.ID, api.token("alice"), "", &req)
		return req.Status == apitypes.StatusActive
	})

	checkMetrics(t, st)
	checkAuditTrail(t, api, req.ID)
	if cli := os.Getenv("JITFLOW_TEMPORAL_CLI"); cli != "" {
		checkTemporalCLI(t, st, cli, req)
	} else {
		t.Log("JITFLOW_TEMPORAL_CLI is not set: the Temporal CLI part is left to scripts/temporal-cli-check.sh")
	}

	// The export runs on its schedule; trigger it now, then again after
	// the request ended: every event arrives once.
	trigger := func() {
		t.Helper()
		if err := st.Client.ScheduleClient().GetHandle(ctx, audit.ExportScheduleID).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	trigger()
	waitFor(t, 30*time.Second, "exported approval", func() bool { return exportedTypes(t, sinkPath)["approved"] == 1 })
	if status := api.do("POST", "/api/v1/requests/"+req.ID+"/revoke", api.token("alice"), `{"reason":"done"}`, nil); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	waitFor(t, 30*time.Second, "export run finished", func() bool {
		desc, err := st.Client.ScheduleClient().GetHandle(ctx, audit.ExportScheduleID).Describe(ctx)
		return err == nil && len(desc.Info.RunningWorkflows) == 0
	})
	trigger()
	waitFor(t, 30*time.Second, "exported revoke", func() bool { return exportedTypes(t, sinkPath)["revoked"] == 1 })

	// A restart (or another worker) with another interval updates the
	// schedule in place.
	if err := audit.EnsureSchedule(ctx, st.Client, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	desc, err := st.Client.ScheduleClient().GetHandle(ctx, audit.ExportScheduleID).Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if iv := desc.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != 2*time.Hour {
		t.Errorf("schedule intervals = %+v, want every 2h", iv)
	}
	for typ, n := range exportedTypes(t, sinkPath) {
		if n != 1 && typ != apitypes.EventNotified {
			t.Errorf("%d %q events exported, want 1", n, typ)
		}
	}
}

func checkMetrics(t *testing.T, st *Stack) {
	t.Helper()
	wants := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^jitflow_decisions_total\{decision="approve",role="reader"\} 1$`),
		regexp.MustCompile(`(?m)^jitflow_request_transitions_total\{role="reader",status="active"\} 1$`),
		regexp.MustCompile(`(?m)^jitflow_approve_to_active_seconds_count\{role="reader"\} 1$`),
		regexp.MustCompile(`(?m)^jitflow_active_grants\{role="reader"\} 1$`),
		regexp.MustCompile(`(?m)^jitflow_requests\{role="reader",status="active"\} 1$`),
		regexp.MustCompile(`(?m)^jitflow_refusals_total\{method="POST",route="/api/v1/requests/:id/approve",status="403"\} 1$`),
		regexp.MustCompile(`(?m)^temporal_request_total\{`),
		regexp.MustCompile(`(?m)^temporal_workflow_task_execution_latency_seconds_bucket\{`),
	}
	var text string
	// Visibility counts lag the workflow a moment and are cached.
	waitFor(t, 20*time.Second, "metrics", func() bool {
		resp, err := http.Get(st.APIURL + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(body)
		for _, re := range wants {
			if !re.MatchString(text) {
				return false
			}
		}
		return true
	})
}

func checkAuditTrail(t *testing.T, api apiClient, id string) {
	t.Helper()
	var trail struct {
		Events []audit.Event `json:"events"`
	}
	api.do("GET", "/api/v1/requests/"+id+"/audit", api.token("dave"), "", &trail)
	var approved, activated *audit.Event
	for i, ev := range trail.Events {
		switch ev.Type {
		case apitypes.EventApproved:
			approved = &trail.Events[i]
		case apitypes.EventActivated:
			activated = &trail.Events[i]
		}
	}
	if approved == nil || approved.Actor != "bob@example.com" || approved.Comment != "fine by me" || approved.UpdateID == "" {
		t.Errorf("approved event = %+v", approved)
	}
	if activated == nil || activated.GraphRequestID == "" {
		t.Errorf("activated event = %+v", activated)
	}
}

func checkTemporalCLI(t *testing.T, st *Stack, cli string, req workflows.Request) {
	t.Helper()
	run := func(args ...string) string {
		t.Helper()
		args = append([]string{"--address", st.TemporalAddr, "--namespace", st.Namespace}, args...)
		out, err := exec.Command(cli, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("temporal %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	list := run("workflow", "list", "--query", "WorkflowType='AccessRequest' AND JitflowRole='reader' AND JitflowRequesterId='"+req.RequesterID+"'")
	if !strings.Contains(list, req.ID) {
		t.Errorf("temporal workflow list does not show %s:\n%s", req.ID, list)
	}
	show := run("workflow", "show", "--workflow-id", req.ID, "--detailed")
	for _, want := range []string{"details.data[0].actor: bob@example.com", "acceptedRequest.input.args[0].comment: fine by me"} {
		if !strings.Contains(show, want) {
			t.Errorf("temporal workflow show lacks %q", want)
		}
	}
}

// exportedTypes counts the exported events by type, failing on a repeated
// event id.
func exportedTypes(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	counts := map[string]int{}
	ids := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if ids[r.Event.ID] {
			t.Fatalf("event %s exported twice", r.Event.ID)
		}
		ids[r.Event.ID] = true
		counts[r.Type]++
	}
	return counts
}
