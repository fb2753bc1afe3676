package workflows

import (
	"slices"
	"testing"
)

// knownAtLean is closed: a lean request may have started before any change
// made after StartProofLean, so adding a change id to it would run that
// change's new code in requests recorded without it.
func TestKnownAtLeanIsClosed(t *testing.T) {
	want := []string{
		"assignment-workflow", "auto-approval", "approval-answers-activation", "grant-end-notice",
		"tier-reminders", "directory-approvers", "ending-soon-notice", "extension-round", "extension-outcome-emails",
	}
	if !slices.Equal(knownAtLean, want) {
		t.Errorf("knownAtLean = %q, want exactly %q: a change after StartProofLean takes its own GetVersion", knownAtLean, want)
	}
}
