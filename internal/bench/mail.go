package bench

import (
	"context"
	"sync/atomic"

	"github.com/jitflow/jitflow/activities"
)

// MailCounter is the mailer of the bench's own stack: it counts emails and
// drops them, as production hands them to SendGrid and forgets them.
type MailCounter struct{ n atomic.Int64 }

// Send counts m.
func (c *MailCounter) Send(context.Context, activities.Message) error {
	c.n.Add(1)
	return nil
}

// Count is how many emails were sent.
func (c *MailCounter) Count() int64 { return c.n.Load() }
