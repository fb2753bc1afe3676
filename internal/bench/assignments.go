package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jitflow/jitflow/internal/graphemu"
)

// assignmentPoll is how often the throughput phase looks at the emulator's
// assignments. One poller serves every waiting lifecycle, so waiting costs
// the system nothing: polling each request's GET would put a Temporal
// query per poll on the server being measured.
const assignmentPoll = 10 * time.Millisecond

// assignments follows the emulator's assignments so that lifecycles can
// wait for their role to be assigned.
type assignments struct {
	list func(context.Context) ([]graphemu.Instance, error)

	mu      sync.Mutex
	seen    map[string]bool // keys assigned at any poll so far
	err     error
	changed chan struct{} // closed after each poll
}

func newAssignments(list func(context.Context) ([]graphemu.Instance, error)) *assignments {
	return &assignments{list: list, seen: map[string]bool{}, changed: make(chan struct{})}
}

// run polls until ctx ends.
func (a *assignments) run(ctx context.Context) {
	for {
		insts, err := a.list(ctx)
		a.mu.Lock()
		a.err = err
		for _, in := range insts {
			a.seen[removalKey(in.PrincipalID, in.RoleDefinitionID, in.DirectoryScopeID, in.GroupID, in.AccessID)] = true
		}
		close(a.changed)
		a.changed = make(chan struct{})
		a.mu.Unlock()
		if sleep(ctx, assignmentPoll) != nil {
			return
		}
	}
}

// wait returns once the key has been seen assigned.
func (a *assignments) wait(ctx context.Context, key string) error {
	for {
		a.mu.Lock()
		seen, err, ch := a.seen[key], a.err, a.changed
		a.mu.Unlock()
		if seen {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("list the emulator's assignments: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// InstancesFromURL lists a Graph emulator's directory role assignments.
func InstancesFromURL(graphURL string) func(context.Context) ([]graphemu.Instance, error) {
	return emulatorList[graphemu.Instance](graphURL, "/v1.0/roleManagement/directory/roleAssignmentScheduleInstances", "")
}
