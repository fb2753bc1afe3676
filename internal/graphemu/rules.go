package graphemu

import (
	"fmt"
	"strings"
	"time"

	"github.com/jitflow/jitflow/durations"
)

// EntraMinActiveTime is how long Entra keeps an assignment before it may be
// removed: a removal sooner fails with ActiveDurationTooShort.
const EntraMinActiveTime = 5 * time.Minute

// Rule is the emulated PIM policy for assigning one role (at any scope) or
// one group: Entra's role management policy rules for active assignments.
// A refusal names the failed rules the way Entra does.
type Rule struct {
	// RoleDefinitionID or GroupID names what the rule is for.
	RoleDefinitionID string `json:"roleDefinitionId,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
	// RequireJustification fails a request without one (JustificationRule).
	RequireJustification bool `json:"requireJustification,omitempty"`
	// RequireTicket fails a request without ticketInfo.ticketNumber
	// (TicketingRule).
	RequireTicket bool `json:"requireTicket,omitempty"`
	// MaxDuration, when set, is the longest assignment allowed, counted from
	// its start (ExpirationRule); a permanent one fails it too.
	MaxDuration time.Duration `json:"maxDuration,omitempty"`
}

func (r Rule) validate() error {
	switch {
	case (r.RoleDefinitionID == "") == (r.GroupID == ""):
		return fmt.Errorf("a rule names exactly one of roleDefinitionId and groupId")
	case r.MaxDuration < 0:
		return fmt.Errorf("rule maxDuration must be positive, got %s", r.MaxDuration)
	}
	return nil
}

func (r Rule) appliesTo(k assignmentKey) bool {
	if k.isGroup() {
		return strings.EqualFold(r.GroupID, k.group)
	}
	return r.RoleDefinitionID != "" && strings.EqualFold(r.RoleDefinitionID, k.role)
}

// checkRules applies the target's rules to an assign or update request.
func (e *Emulator) checkRules(k assignmentKey, in scheduleRequestInput, start time.Time, end *time.Time) *apiError {
	var failed, why []string
	for _, r := range e.rules {
		if !r.appliesTo(k) {
			continue
		}
		if r.RequireJustification && strings.TrimSpace(in.Justification) == "" {
			failed = append(failed, "JustificationRule")
			why = append(why, "A justification is required.")
		}
		if r.RequireTicket && (in.TicketInfo == nil || in.TicketInfo.TicketNumber == nil || *in.TicketInfo.TicketNumber == "") {
			failed = append(failed, "TicketingRule")
			why = append(why, "Ticket information (ticketInfo.ticketNumber) is required.")
		}
		if r.MaxDuration > 0 && (end == nil || end.Sub(start) > r.MaxDuration) {
			asked := "no expiration"
			if end != nil {
				asked = durations.FormatISO(end.Sub(start))
			}
			failed = append(failed, "ExpirationRule")
			why = append(why, fmt.Sprintf("The maximum duration of an active assignment is %s; the request asks for %s.",
				durations.FormatISO(r.MaxDuration), asked))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return policyRulesFailed(failed, strings.Join(why, " "))
}
