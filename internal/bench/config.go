package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/jitflow/jitflow/internal/graphemu"
)

// Config is what a run does. Its field names follow the flags of
// `jitflow bench`, and so do Validate's errors.
type Config struct {
	// Requests full lifecycles run Concurrency at a time, each granted
	// Grant.
	Requests    int
	Concurrency int
	Grant       time.Duration
	// ExpireTogether runs each lifecycle's submit, approve and active in
	// turn and has every grant end Grant after the first submit, so that
	// they all end at once.
	ExpireTogether bool
	// Latency requests are approved one at a time.
	Latency int
	// Pending requests are created and left pending by RunPending, which
	// then lists them ListCalls times as the approver and the operator.
	Pending   int
	ListCalls int
	// Role is requested by Requesters in turn (user names for /dev/token);
	// Approver approves; Operator ("" for none) lists everything.
	Role       string
	Requesters []string
	Approver   string
	Operator   string
	// Progress receives a line as each phase starts; nil discards.
	Progress io.Writer
	// AtPeak, when set, runs while the load is at its height (all grants
	// active, or all pending requests held): the moment for a heap profile.
	AtPeak func() error
}

// Validate names the flag that is wrong and what it accepts.
func (c Config) Validate() error {
	var errs []error
	atLeast := func(flag string, v, least int) {
		if v < least {
			errs = append(errs, fmt.Errorf("--%s %d: must be at least %d", flag, v, least))
		}
	}
	atLeast("requests", c.Requests, 1)
	atLeast("concurrency", c.Concurrency, 1)
	atLeast("latency", c.Latency, 1)
	atLeast("pending", c.Pending, 0)
	atLeast("list-calls", c.ListCalls, 1)
	if c.Grant < time.Second {
		errs = append(errs, fmt.Errorf("--grant %s: must be at least 1s", c.Grant))
	}
	if c.Role == "" {
		errs = append(errs, errors.New("--role: a role name is required"))
	}
	if len(c.Requesters) == 0 {
		errs = append(errs, errors.New("--requester: at least one user name is required"))
	}
	for _, u := range c.Requesters {
		if u == "" || u == c.Approver {
			errs = append(errs, fmt.Errorf("--requester %q: must be a user name other than the approver (no one approves their own request)", u))
		}
	}
	if c.Approver == "" {
		errs = append(errs, errors.New("--approver: a user name is required"))
	}
	return errors.Join(errs...)
}

func (c Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "jitflow bench: "+format+"\n", args...)
	}
}

// Target is the system measured.
type Target struct {
	// APIURL is jitflow's API with its /dev/token endpoint.
	APIURL string
	// Removals lists the removal requests the Graph emulator received.
	Removals func(context.Context) ([]graphemu.Removal, error)
	// Instances lists the emulator's assignments.
	Instances func(context.Context) ([]graphemu.Instance, error)
	// Temporal is a client of the system's Temporal server, for the
	// baseline and for reading histories to count the work; nil skips
	// both.
	Temporal client.Client
	// Store reads the Temporal server's store requests, to count the
	// writes of each phase; nil leaves them unmeasured.
	Store StoreMeter
	// InProcess says the whole system runs in this process, so its peak
	// RSS is the system's.
	InProcess bool
	// DataDir holds Temporal's database (temporal.db); "" when unknown.
	DataDir string
}
