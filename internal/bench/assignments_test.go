package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitflow/jitflow/internal/graphemu"
)

func TestAssignmentsWaitUntilTheRoleShows(t *testing.T) {
	var polls atomic.Int32
	inst := graphemu.Instance{PrincipalID: "p", RoleDefinitionID: reader, DirectoryScopeID: "/"}
	a := newAssignments(func(context.Context) ([]graphemu.Instance, error) {
		if polls.Add(1) < 3 {
			return nil, nil
		}
		return []graphemu.Instance{inst}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go a.run(ctx)
	if err := a.wait(ctx, removalKey("p", reader, "/", "", "")); err != nil {
		t.Fatal(err)
	}
	if polls.Load() < 3 {
		t.Errorf("wait returned after %d polls, before the role showed", polls.Load())
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if err := a.wait(short, removalKey("q", reader, "/", "", "")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait for a role never assigned: %v, want the deadline", err)
	}
}

func TestAssignmentsWaitReportsListErrors(t *testing.T) {
	boom := errors.New("emulator down")
	a := newAssignments(func(context.Context) ([]graphemu.Instance, error) { return nil, boom })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go a.run(ctx)
	if err := a.wait(ctx, "k"); !errors.Is(err, boom) {
		t.Fatalf("wait: %v, want the list error", err)
	}
}
