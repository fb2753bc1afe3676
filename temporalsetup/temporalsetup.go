// Package temporalsetup prepares a Temporal namespace for jitflow: the
// namespace with the retention that keeps the audit trail, and the search
// attributes jitflow's requests carry. `jitflow setup` runs it against a
// self-hosted or cloud Temporal service, and so do docker-compose, the Helm
// chart and the production check, so that they cannot drift apart. Each
// step is idempotent: it changes only what is missing or different.
package temporalsetup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/jitflow/jitflow/workflows"
)

// MinRetention is the shortest retention jitflow accepts: closed requests'
// history is the audit trail, and Temporal itself refuses less than a day.
const MinRetention = 24 * time.Hour

// SearchAttributes are the custom search attributes jitflow's workflows
// set, by name and type.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	workflows.SearchStatus.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SearchRole.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SearchRequesterID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SearchApproverIDs.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

// Change says what a step did, for the operator's log.
type Change string

// What a step can report.
const (
	Unchanged Change = "unchanged"
	Created   Change = "created"
	Updated   Change = "updated"
)

// EnsureNamespace creates namespace ns with the retention if it is
// missing, and sets the retention of one that has another.
func EnsureNamespace(ctx context.Context, c client.Client, ns string, retention time.Duration) (Change, error) {
	if ns == "" {
		return Unchanged, errors.New("namespace: must not be empty")
	}
	if retention < MinRetention {
		return Unchanged, fmt.Errorf("retention %s: must be at least %s (the audit trail lives in workflow history)", retention, MinRetention)
	}
	svc := c.WorkflowService()
	desc, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	var notFound *serviceerror.NamespaceNotFound
	if errors.As(err, &notFound) {
		_, err = svc.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        ns,
			Description:                      "jitflow access requests",
			WorkflowExecutionRetentionPeriod: durationpb.New(retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			// Someone else created it since: check its retention below.
			return EnsureNamespace(ctx, c, ns, retention)
		}
		if err != nil {
			return Unchanged, fmt.Errorf("create namespace %s: %w", ns, err)
		}
		return Created, nil
	}
	if err != nil {
		return Unchanged, fmt.Errorf("describe namespace %s: %w", ns, err)
	}
	if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
		return Unchanged, nil
	}
	cfg := desc.GetConfig()
	cfg.WorkflowExecutionRetentionTtl = durationpb.New(retention)
	for {
		// A namespace created a moment ago is described from the database
		// but updated through the server's namespace cache, which learns
		// of it within seconds.
		_, err = svc.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{Namespace: ns, Config: cfg})
		if err == nil {
			return Updated, nil
		}
		if !errors.As(err, &notFound) {
			return Unchanged, fmt.Errorf("set retention of namespace %s to %s: %w", ns, retention, err)
		}
		if !pause(ctx) {
			return Unchanged, fmt.Errorf("set retention of namespace %s to %s: %w (%w)", ns, retention, err, ctx.Err())
		}
	}
}

// pause waits a moment before trying again, or reports that ctx ended.
func pause(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(250 * time.Millisecond):
		return true
	}
}

// EnsureSearchAttributes adds those of jitflow's search attributes that
// namespace ns lacks, and fails if one exists with another type. It
// returns once the namespace lists them all: a namespace created a moment
// ago reaches the operator API only when the server's namespace cache
// refreshes (seconds), and until the attributes are listed a request that
// sets them would fail.
func EnsureSearchAttributes(ctx context.Context, c client.Client, ns string) (added []string, err error) {
	op := c.OperatorService()
	for {
		missing, err := missingAttributes(ctx, op, ns)
		var notFound *serviceerror.NamespaceNotFound
		switch {
		case err == nil && len(missing) == 0:
			return added, nil
		case err == nil:
			_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: missing})
			var exists *serviceerror.AlreadyExists
			if err == nil || errors.As(err, &exists) {
				added = appendNew(added, names(missing))
			} else if !errors.As(err, &notFound) {
				return added, fmt.Errorf("add search attributes %s to namespace %s: %w", strings.Join(names(missing), ", "), ns, err)
			}
		case !errors.As(err, &notFound):
			return added, err
		}
		if !pause(ctx) {
			return added, fmt.Errorf("search attributes of namespace %s: not listed yet when %w", ns, ctx.Err())
		}
	}
}

// missingAttributes lists the attributes ns lacks; one it has with another
// type is an error the operator must resolve.
func missingAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, ns string) (map[string]enumspb.IndexedValueType, error) {
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", ns, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range names(SearchAttributes) {
		want := SearchAttributes[name]
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want
		case got != want:
			return nil, fmt.Errorf("search attribute %s of namespace %s has type %s, jitflow needs %s: remove it (temporal operator search-attribute remove) and run setup again", name, ns, got, want)
		}
	}
	return missing, nil
}

func appendNew(have, more []string) []string {
	for _, n := range more {
		if !slices.Contains(have, n) {
			have = append(have, n)
		}
	}
	return have
}

func names(m map[string]enumspb.IndexedValueType) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
