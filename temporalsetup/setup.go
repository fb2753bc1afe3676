// Package temporalsetup prepares a Temporal namespace for jitflow: the
// namespace with the retention that keeps the audit trail, and the custom
// search attributes that jitflow's workflows set and its lists query.
// `jitflow setup` runs it against a self-hosted or cloud Temporal service
// (and so do docker-compose, the Helm chart and the production check, so
// they cannot drift apart); `jitflow dev --temporal-address` creates the
// search attributes with it. Each step is idempotent: it changes only what
// is missing or different. It talks to Temporal only through the public
// API, so it belongs to the production binary.
package temporalsetup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/jitflow/jitflow/workflows"
)

// SearchAttributes are the custom search attributes jitflow needs, by name.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	workflows.SearchStatus.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SearchRole.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SearchRequesterID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	workflows.SearchApproverIDs.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

// MinRetention is the shortest retention jitflow accepts: closed requests'
// history is the audit trail, and Temporal itself refuses less than a day.
const MinRetention = 24 * time.Hour

// Change says what a step did, for the operator's log.
type Change string

// What a step can report.
const (
	Unchanged Change = "unchanged"
	Created   Change = "created"
	Updated   Change = "updated"
)

// NamespaceNotFoundError is EnsureSearchAttributes's error when the
// namespace does not exist; it says how to create it.
type NamespaceNotFoundError struct{ Namespace string }

func (e *NamespaceNotFoundError) Error() string {
	return fmt.Sprintf("namespace %q does not exist on this Temporal server; create it with "+
		"`jitflow setup --temporal-address HOST:PORT --namespace %s --retention 8760h` "+
		"or `temporal operator namespace create --namespace %s --retention 8760h`", e.Namespace, e.Namespace, e.Namespace)
}

// usableWait bounds how long a new namespace or new search attributes may
// take to be usable: servers cache namespaces and their attributes and
// refresh the cache every few seconds.
const usableWait = time.Minute

// EnsureNamespace registers namespace with the given retention when it
// does not exist, and sets its retention when it has another one.
func EnsureNamespace(ctx context.Context, c client.Client, namespace string, retention time.Duration) (Change, error) {
	if namespace == "" {
		return Unchanged, errors.New("namespace: must not be empty")
	}
	if retention < MinRetention {
		return Unchanged, fmt.Errorf("retention %s: must be at least %s (the audit trail lives in workflow history)", retention, MinRetention)
	}
	ws := c.WorkflowService()
	change := Unchanged
	desc, err := ws.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var notFound *serviceerror.NamespaceNotFound
	if errors.As(err, &notFound) {
		_, err = ws.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(retention),
			Description:                      "jitflow access requests",
		})
		var exists *serviceerror.NamespaceAlreadyExists
		switch {
		case err == nil:
			change = Created
		case !errors.As(err, &exists):
			return Unchanged, fmt.Errorf("create namespace %s: %w%s", namespace, err, hint(err, "namespace", namespace))
		}
		// Created here or by a setup running at the same time: the
		// retention is checked below like for any namespace, once the
		// server's services know the namespace.
		if _, err = listAttributes(ctx, c, namespace); err == nil {
			desc, err = ws.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		}
	}
	if err != nil {
		return Unchanged, fmt.Errorf("describe namespace %s: %w%s", namespace, err, hint(err, "namespace", namespace))
	}
	if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
		return change, nil
	}
	_, err = ws.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)},
	})
	if err != nil {
		return Unchanged, fmt.Errorf("set retention of namespace %s to %s: %w%s", namespace, retention, err, hint(err, "namespace", namespace))
	}
	if change == Unchanged {
		change = Updated
	}
	return change, nil
}

// EnsureSearchAttributes creates those of SearchAttributes that namespace
// lacks and waits until the namespace accepts them. It fails, saying what
// to do, when the namespace does not exist (a *NamespaceNotFoundError),
// when an attribute exists with another type, when the server refuses
// (permission denied, or no free slot of the type in SQL visibility). It
// returns the names it added.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) (added []string, err error) {
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace}); err != nil {
		var notFound *serviceerror.NamespaceNotFound
		if errors.As(err, &notFound) {
			return nil, &NamespaceNotFoundError{Namespace: namespace}
		}
		return nil, fmt.Errorf("describe namespace %s: %w%s", namespace, err, hint(err, "namespace", namespace))
	}
	ops := c.OperatorService()
	list, err := listAttributes(ctx, c, namespace)
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w%s", namespace, err, hint(err, "search attributes", namespace))
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range names() {
		want := SearchAttributes[name]
		got, ok := list.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want
		case got != want:
			return nil, fmt.Errorf("namespace %s has search attribute %s of type %s, jitflow needs %s: "+
				"remove it (temporal operator search-attribute remove --namespace %s --name %s) or use another namespace",
				namespace, name, typeName(got), typeName(want), namespace, name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}); err != nil {
		var exists *serviceerror.AlreadyExists
		if !errors.As(err, &exists) { // not added by a setup running at the same time
			return nil, fmt.Errorf("create search attributes %s in namespace %s: %w%s", strings.Join(sortedKeys(missing), ", "), namespace, err, addHint(err, namespace, missing))
		}
	}
	return sortedKeys(missing), waitUsable(ctx, c, namespace)
}

// listAttributes lists namespace's search attributes. A namespace just
// created is in the database (DescribeNamespace finds it) before the
// services' namespace cache, refreshed every few seconds, has it: until
// then calls naming it answer "not found", and this waits.
func listAttributes(ctx context.Context, c client.Client, namespace string) (*operatorservice.ListSearchAttributesResponse, error) {
	deadline := time.Now().Add(usableWait)
	for {
		list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		var notFound *serviceerror.NamespaceNotFound
		if !errors.As(err, &notFound) || time.Now().After(deadline) {
			return list, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitUsable waits until a query naming every attribute is accepted: the
// same check a workflow start with them passes.
func waitUsable(ctx context.Context, c client.Client, namespace string) error {
	var terms []string
	for _, name := range names() {
		terms = append(terms, name+" = 'jitflow-setup'")
	}
	query := strings.Join(terms, " AND ")
	deadline := time.Now().Add(usableWait)
	for {
		_, err := c.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		var invalid *serviceerror.InvalidArgument
		if !errors.As(err, &invalid) {
			if err != nil {
				return fmt.Errorf("check search attributes of namespace %s: %w", namespace, err)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("search attributes created in namespace %s, but after %s it still refuses them: %w", namespace, usableWait, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the search attributes of namespace %s: %w", namespace, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// hint says what to do about a refusal that is not jitflow's to fix.
func hint(err error, what, namespace string) string {
	var denied *serviceerror.PermissionDenied
	if errors.As(err, &denied) {
		return fmt.Sprintf(" (this identity may not change the %s of namespace %s: run jitflow setup as a Temporal admin, or ask one to)", what, namespace)
	}
	return ""
}

// addHint explains why AddSearchAttributes failed and gives the commands
// an admin can run instead.
func addHint(err error, namespace string, missing map[string]enumspb.IndexedValueType) string {
	var cmd strings.Builder
	for _, name := range sortedKeys(missing) {
		fmt.Fprintf(&cmd, " --name %s --type %s", name, typeName(missing[name]))
	}
	create := fmt.Sprintf("temporal operator search-attribute create --namespace %s%s", namespace, cmd.String())
	var (
		denied  *serviceerror.PermissionDenied
		unimpl  *serviceerror.Unimplemented
		invalid *serviceerror.InvalidArgument
	)
	switch {
	case errors.As(err, &denied), errors.As(err, &unimpl):
		return fmt.Sprintf(" (this identity may not create search attributes; a Temporal admin can: %s; on Temporal Cloud add them to the namespace in the Cloud UI or with tcld)", create)
	case errors.As(err, &invalid) && strings.Contains(invalid.Error(), "cannot have more than"):
		return fmt.Sprintf(" (the namespace's SQL visibility has no free slot of that type: remove custom search attributes it no longer uses with `temporal operator search-attribute remove --namespace %s --name NAME`, "+
			"or give jitflow a namespace of its own, then: %s)", namespace, create)
	}
	return fmt.Sprintf(" (to create them by hand: %s)", create)
}

// typeName is the type as the Temporal CLI spells it (Keyword,
// KeywordList): the API's enums print that way.
func typeName(t enumspb.IndexedValueType) string { return t.String() }

func names() []string { return sortedKeys(SearchAttributes) }

func sortedKeys(m map[string]enumspb.IndexedValueType) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
