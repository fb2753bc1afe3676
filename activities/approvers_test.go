package activities

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/jitflow/jitflow/graph"
	"github.com/jitflow/jitflow/policies"
)

// fakeDirectory is an Entra tenant in memory: groups (already flattened),
// managers by user id, and an error every call returns when set.
type fakeDirectory struct {
	groups   map[string][]policies.User
	managers map[string]policies.User
	err      error
}

func (d fakeDirectory) User(context.Context, string) (policies.User, error) {
	return policies.User{}, policies.ErrNotInDirectory
}

func (d fakeDirectory) GroupMembers(_ context.Context, id string) ([]policies.User, error) {
	if d.err != nil {
		return nil, d.err
	}
	members, ok := d.groups[id]
	if !ok {
		return nil, policies.ErrNotInDirectory
	}
	return members, nil
}

func (d fakeDirectory) MemberGroups(context.Context, string) ([]string, error) { return nil, nil }

func (d fakeDirectory) Manager(_ context.Context, id string) (policies.User, error) {
	if d.err != nil {
		return policies.User{}, d.err
	}
	m, ok := d.managers[id]
	if !ok {
		return policies.User{}, policies.ErrNoManager
	}
	return m, nil
}

func (d fakeDirectory) Eligible(context.Context, string, *policies.Role) (bool, error) {
	return false, nil
}

const (
	leads = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a41"
	gone  = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a49"
)

var (
	alice = policies.User{ID: "oid-alice", UPN: "alice@example.com", Email: "alice@example.com"}
	bob   = policies.User{ID: "oid-bob", UPN: "bob@example.com", Email: "bob@mail.example.com"}
	carol = policies.User{ID: "oid-carol", UPN: "carol@example.com"} // no mailbox
	dave  = policies.User{ID: "oid-dave", UPN: "dave@example.com", Email: "dave@example.com"}
)

var tenant = fakeDirectory{
	groups:   map[string][]policies.User{leads: {alice, bob, carol}},
	managers: map[string]policies.User{alice.ID: carol, carol.ID: dave},
}

func TestResolveApprovers(t *testing.T) {
	a := &Activities{Directory: tenant}
	res, err := a.ResolveApprovers(context.Background(), ResolveApproversInput{
		RequestID: "req-1", RequesterID: alice.ID, Stage: "team lead",
		Tiers: []policies.ApproverRefs{{GroupIDs: []string{leads, gone}}, {}, {Manager: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := ResolveApproversResult{
		Tiers: [][]Recipient{
			{{ID: bob.ID, UPN: bob.UPN, Email: bob.Email}, {ID: carol.ID, UPN: carol.UPN, Email: carol.UPN}},
			{},
			{{ID: dave.ID, UPN: dave.UPN, Email: dave.Email}},
		},
		Problems: []string{"group " + gone + " does not exist in the directory"},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("result = %+v\nwant     %+v", res, want)
	}
}

func TestResolveApproversWithoutManager(t *testing.T) {
	a := &Activities{Directory: tenant}
	res, err := a.ResolveApprovers(context.Background(), ResolveApproversInput{
		RequestID: "req-1", RequesterID: bob.ID, Stage: "team lead", Tiers: []policies.ApproverRefs{{Manager: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tiers) != 1 || len(res.Tiers[0]) != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "requester oid-bob has no manager") {
		t.Errorf("result = %+v; want nobody and the missing manager as a problem", res)
	}
}

// A directory that cannot answer is an error Temporal retries, never an
// empty tier; Graph's Retry-After sets the next attempt.
func TestResolveApproversDirectoryDown(t *testing.T) {
	in := ResolveApproversInput{RequestID: "req-1", RequesterID: alice.ID, Stage: "team lead", Tiers: []policies.ApproverRefs{{GroupIDs: []string{leads}}}}
	a := &Activities{Directory: fakeDirectory{err: errors.New("graph: 503 Service Unavailable")}}
	_, err := a.ResolveApprovers(context.Background(), in)
	if err == nil || !strings.Contains(err.Error(), "resolve the approvers of tier 1 of stage team lead of request req-1") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.NonRetryable() {
		t.Errorf("err = %v; want it retried", err)
	}

	a.Directory = fakeDirectory{err: &graph.Error{Status: 429, Code: "TooManyRequests", RetryAfter: 7 * time.Second}}
	_, err = a.ResolveApprovers(context.Background(), in)
	if !errors.As(err, &app) || app.NonRetryable() || app.NextRetryDelay() != 7*time.Second {
		t.Errorf("err = %v; want a retryable error that waits Graph's Retry-After", err)
	}
}

// A worker without a directory says so once; retrying cannot help.
func TestResolveApproversWithoutDirectory(t *testing.T) {
	a := &Activities{}
	_, err := a.ResolveApprovers(context.Background(), ResolveApproversInput{
		RequestID: "req-1", RequesterID: alice.ID, Stage: "team lead", Tiers: []policies.ApproverRefs{{}, {Manager: 1}},
	})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || app.Type() != ErrNoDirectory ||
		!strings.Contains(app.Message(), "tier 2 names Entra groups or the requester's manager, and this worker has no Graph directory configured") {
		t.Fatalf("err = %v; want a non-retryable %s error", err, ErrNoDirectory)
	}

	res, err := a.ResolveApprovers(context.Background(), ResolveApproversInput{RequestID: "req-1", Tiers: []policies.ApproverRefs{{}}})
	if err != nil || len(res.Tiers) != 1 || len(res.Tiers[0]) != 0 {
		t.Errorf("nothing to resolve: %+v, %v; want one empty tier", res, err)
	}
}
