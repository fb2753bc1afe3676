package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jitflow/jitflow/api"
	"github.com/jitflow/jitflow/workflows"
)

// Updates sent to Temporal directly, past the API, cannot put text that
// reads differently from what it is into history.
func TestUpdatesRefuseControlAndBidiText(t *testing.T) {
	t.Run("decision comment", func(t *testing.T) {
		h := newHarness(t, readerInput())
		o := h.updateAt(time.Second, workflows.UpdateDecide,
			workflows.DecideInput{ApproverID: bob.ID, Decision: approve, Comment: "fine\u202e"})
		r := h.run()
		rejected(t, o, workflows.ErrInvalid, `field "comment" holds U+202E`)
		require.Empty(t, r.Decisions)
	})
	t.Run("revoke reason", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(5*time.Second, bob, approve, "")
		o := h.updateAt(time.Minute, workflows.UpdateRevoke,
			workflows.RevokeInput{Actor: alice, Reason: "done\x1b[2J"})
		r := h.run()
		rejected(t, o, workflows.ErrInvalid, `field "reason" holds U+001B`)
		require.Equal(t, api.StatusExpired, r.Status)
	})
	t.Run("extension justification", func(t *testing.T) {
		h := newHarness(t, readerInput())
		h.decideAt(5*time.Second, bob, approve, "")
		o := h.updateAt(time.Minute, workflows.UpdateExtend,
			workflows.ExtendInput{Actor: alice, Duration: time.Minute, Justification: "more\u2066time"})
		r := h.run()
		rejected(t, o, workflows.ErrInvalid, `field "justification" holds U+2066`)
		require.Zero(t, r.Extensions)
	})
	t.Run("line breaks are accepted", func(t *testing.T) {
		h := newHarness(t, readerInput())
		o := h.decideAt(time.Second, bob, approve, "fine\nfor the incident")
		h.run()
		require.Equal(t, "fine\nfor the incident", accepted(t, o).Decisions[0].Comment)
	})
}
