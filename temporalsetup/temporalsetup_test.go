package temporalsetup_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/temporaltest"

	"github.com/jitflow/jitflow/temporalsetup"
)

// TestSetupIsIdempotent runs both steps against a fresh namespace, again
// unchanged, and with another retention, as `jitflow setup` does on each
// deployment.
func TestSetupIsIdempotent(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	c := ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const ns = "jitflow-setup"

	steps := []struct {
		retention time.Duration
		want      temporalsetup.Change
	}{
		{48 * time.Hour, temporalsetup.Created},
		{48 * time.Hour, temporalsetup.Unchanged},
		{72 * time.Hour, temporalsetup.Updated},
	}
	for _, s := range steps {
		got, err := temporalsetup.EnsureNamespace(ctx, c, ns, s.retention)
		if err != nil {
			t.Fatalf("EnsureNamespace(%s): %v", s.retention, err)
		}
		if got != s.want {
			t.Errorf("EnsureNamespace(%s) = %s, want %s", s.retention, got, s.want)
		}
	}
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if got := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != 72*time.Hour {
		t.Errorf("retention is %s, want 72h", got)
	}

	added, err := temporalsetup.EnsureSearchAttributes(ctx, c, ns)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != len(temporalsetup.SearchAttributes) {
		t.Errorf("first run added %v, want all of %v", added, temporalsetup.SearchAttributes)
	}
	list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range temporalsetup.SearchAttributes {
		if got := list.GetCustomAttributes()[name]; got != typ {
			t.Errorf("search attribute %s is %s, want %s", name, got, typ)
		}
	}
	if added, err := temporalsetup.EnsureSearchAttributes(ctx, c, ns); err != nil || len(added) != 0 {
		t.Errorf("second run added %v (error %v), want nothing", added, err)
	}
}

// TestSetupRefuses: a short retention and a search attribute of another
// type are the operator's to fix, with a message saying what.
func TestSetupRefuses(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	c := ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := temporalsetup.EnsureNamespace(ctx, c, "short", 12*time.Hour)
	if err == nil || !strings.Contains(err.Error(), "retention 12h0m0s: must be at least 24h") {
		t.Errorf("12h retention: error %v, want one naming the retention and the minimum", err)
	}

	ns := ts.GetDefaultNamespace()
	names := make([]string, 0, len(temporalsetup.SearchAttributes))
	for n := range temporalsetup.SearchAttributes {
		names = append(names, n)
	}
	slices.Sort(names)
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: map[string]enumspb.IndexedValueType{names[0]: enumspb.INDEXED_VALUE_TYPE_TEXT},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = temporalsetup.EnsureSearchAttributes(ctx, c, ns)
	if err == nil || !strings.Contains(err.Error(), "search attribute "+names[0]) || !strings.Contains(err.Error(), "jitflow needs") {
		t.Errorf("wrong type: error %v, want one naming the attribute and its type", err)
	}
}
