package policies

import (
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitflow/jitflow/durations"
)

// Default reminders: a quarter of a tier's timeout before it runs out, for
// tiers of at least a minute. A shorter tier ends before a reminder could
// tell approvers anything the first email did not.
const (
	defaultRemindPercent = 25
	minRemindedTier      = time.Minute
)

// Reminder says when the approvers of a tier who have not decided are
// reminded, before the tier runs out. The zero value is the default.
type Reminder struct {
	Off     bool          // never remind
	Before  time.Duration // this long before the tier runs out
	Percent int           // this share (1-99) of the tier's timeout before it runs out
}

// For is how long before a tier of this timeout runs out its reminder
// goes, or 0 for none. A fixed lead time as long as the tier is skipped.
func (r Reminder) For(timeout time.Duration) time.Duration {
	switch {
	case r.Off || timeout <= 0:
		return 0
	case r.Before > 0:
		if r.Before >= timeout {
			return 0
		}
		return r.Before
	case r.Percent > 0:
		return timeout * time.Duration(r.Percent) / 100
	case timeout >= minRemindedTier:
		return timeout * defaultRemindPercent / 100
	}
	return 0
}

const remindHint = `give a duration such as "10m" or "PT10M", a share of the tier's timeout such as "25%", or false for no reminders`

// reminder reads approval.remind_before.
func (d *decoder) reminder(n *yaml.Node, path string) Reminder {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if d.boolean(n, path) {
			d.errorf(n, path, "true is not a lead time; %s", remindHint)
		}
		return Reminder{Off: true}
	}
	s, ok := d.str(n, path)
	if !ok {
		return Reminder{}
	}
	s = strings.TrimSpace(s)
	if pct, isPct := strings.CutSuffix(s, "%"); isPct {
		p, err := strconv.Atoi(strings.TrimSpace(pct))
		if err != nil || p < 0 || p > 99 {
			d.errorf(n, path, "%q is not a share from 0%% to 99%%; %s", s, remindHint)
			return Reminder{}
		}
		return Reminder{Off: p == 0, Percent: p}
	}
	v, err := durations.Parse(s)
	if err != nil {
		d.errorf(n, path, "%q: %v; %s", s, err, remindHint)
		return Reminder{}
	}
	if v < 0 {
		d.errorf(n, path, "%s is negative; %s", durations.Format(v), remindHint)
		return Reminder{}
	}
	return Reminder{Off: v == 0, Before: v}
}
