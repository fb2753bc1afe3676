package devstack

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/approvals"
	"github.com/jitflow/jitflow/cmd/jitflow/cli"
	"github.com/jitflow/jitflow/internal/outbox"
	"github.com/jitflow/jitflow/policies"
	"github.com/jitflow/jitflow/proof"
	"github.com/jitflow/jitflow/workflows"
)

// TestCLIFreeTextEndToEnd: through the CLI, the API refuses text that
// could read differently from what it is and fractional durations; a
// request from before that rule, with a bidi override in its
// justification, is shown by the CLI and the approval email with the
// override as a visible escape.
func TestCLIFreeTextEndToEnd(t *testing.T) {
	dir := t.TempDir()
	st := startStack(t, dir, policies.Dev())
	defer st.Stop()
	t.Setenv("JITFLOW_API", st.APIURL)
	t.Setenv("JITFLOW_TOKEN", "")
	t.Setenv("JITFLOW_SCOPE", "")

	for _, tt := range []struct {
		args []string
		say  []string
	}{
		{[]string{"request", "reader", "-d", "5m", "-j", "reader, 5m\u202e", "--as", "alice"}, []string{`field "justification" holds U+202E`, "character 11"}},
		{[]string{"request", "reader", "-d", "5m", "-j", "x", "--ticket", "INC-1\x1b[2J", "--as", "alice"}, []string{`field "ticket" holds U+001B`}},
		{[]string{"request", "reader", "-d", "10.5s", "-j", "x", "--as", "alice"}, []string{`field "duration"`, "whole seconds"}},
	} {
		res := runCLI(t, tt.args...)
		if res.code != cli.ExitUsage || res.err == nil {
			t.Fatalf("jitflow %q: exit %d (%v), want %d", tt.args, res.code, res.err, cli.ExitUsage)
		}
		for _, s := range tt.say {
			if !strings.Contains(res.err.Error(), s) {
				t.Errorf("jitflow %q: error %q does not say %q", tt.args, res.err, s)
			}
		}
	}

	// An older jitflow let this justification through: start a copy of a
	// real request with it, as that version would have.
	res := runCLI(t, "request", "reader", "-d", "5m", "-j", "template", "--as", "alice", "-q")
	if res.code != 0 {
		t.Fatalf("request: exit %d (%v)", res.code, res.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	it := st.Client.GetWorkflowHistory(ctx, strings.TrimSpace(res.stdout), "", false, 0)
	first, err := it.Next()
	if err != nil {
		t.Fatal(err)
	}
	var in workflows.AccessRequestInput
	if err := converter.GetDefaultDataConverter().FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
	in.RequestID = "req-00000000-0000-4000-8000-0000000000b1"
	in.Justification = "reader, 5m\u202e h2 rof nimdA ytiruceS"
	// A jitflow server of that version signed its start like today's.
	keys, err := approvals.LoadKeys(filepath.Join(dir, "approval-keys"))
	if err != nil {
		t.Fatal(err)
	}
	in, err = in.Sign(proof.FromKeySet(keys), proof.Statement{RequestID: in.RequestID, Channel: proof.ChannelAPI}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: in.RequestID, TaskQueue: workflows.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SearchAttributes(in, workflows.NewRequest(in).Status)...),
	}, workflows.WorkflowName, in); err != nil {
		t.Fatal(err)
	}

	res = runCLI(t, "show", in.RequestID, "--as", "bob")
	if res.code != 0 || !strings.Contains(res.stdout, `reader, 5m\u202e h2 rof`) || strings.Contains(res.stdout, "\u202e") {
		t.Errorf("show: exit %d (%v), stdout %q; want the override escaped", res.code, res.err, res.stdout)
	}
	var mail outbox.Email
	waitFor(t, 20*time.Second, "the approval email of the older request", func() bool {
		for _, e := range st.Outbox.Emails() {
			if strings.Contains(e.Text, in.RequestID) {
				mail = e
				return true
			}
		}
		return false
	})
	for part, body := range map[string]string{"text": mail.Text, "html": mail.HTML} {
		if !strings.Contains(body, `reader, 5m\u202e h2 rof`) || strings.Contains(body, "\u202e") {
			t.Errorf("email %s part shows the override as is:\n%s", part, body)
		}
	}
}
