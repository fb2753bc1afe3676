package graphemu

import (
	"fmt"
	"time"

	"github.com/jitflow/jitflow/durations"
)

// schedule works out when an assignment starts and ends. The emulated role
// policy (Entra's ExpirationRule) demands an explicit expiration: a request
// without one fails policy validation, because a jitflow provider that forgot
// it would hand out standing access. An explicit noExpiration is accepted
// and makes a permanent assignment, as in a tenant that allows them.
func (e *Emulator) schedule(info *scheduleInfoInput, now time.Time) (time.Time, *time.Time, *apiError) {
	if info == nil || info.Expiration == nil {
		return time.Time{}, nil, policyFailed("ExpirationRule",
			"scheduleInfo.expiration is required: type afterDuration with a duration (e.g. PT1H), afterDateTime with an endDateTime, or noExpiration.")
	}
	start := now
	if info.StartDateTime != nil {
		start = info.StartDateTime.UTC()
	}
	end, err := e.expirationEnd(*info.Expiration, start)
	if err != nil {
		return time.Time{}, nil, err
	}
	if end != nil && !end.After(now) {
		return time.Time{}, nil, invalidExpiration("The schedule ends at %s, which is not in the future.", end.Format(time.RFC3339Nano))
	}
	return start, end, nil
}

// expirationEnd applies an expirationPattern to a start time; nil means
// the assignment never expires.
func (e *Emulator) expirationEnd(x expirationInput, start time.Time) (*time.Time, *apiError) {
	var d time.Duration
	switch canonicalExpiration(x.Type) {
	case ExpirationNone:
		return nil, nil
	case ExpirationAfterDuration:
		if x.Duration == nil || *x.Duration == "" {
			return nil, invalidExpiration("scheduleInfo.expiration.duration is required when type is afterDuration, e.g. PT1H.")
		}
		parsed, err := durations.ParseISO(*x.Duration)
		if err != nil {
			return nil, invalidExpiration("scheduleInfo.expiration.duration: %v.", err)
		}
		if parsed <= 0 {
			return nil, invalidExpiration("scheduleInfo.expiration.duration %s must be longer than zero.", *x.Duration)
		}
		d = parsed
	case ExpirationAfterDateTime:
		if x.EndDateTime == nil {
			return nil, invalidExpiration("scheduleInfo.expiration.endDateTime is required when type is afterDateTime, e.g. 2026-11-26T06:00:00Z.")
		}
		if !x.EndDateTime.After(start) {
			return nil, invalidExpiration("scheduleInfo.expiration.endDateTime %s must be after the start %s.",
				x.EndDateTime.UTC().Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
		}
		d = x.EndDateTime.Sub(start)
	case "":
		return nil, invalidExpiration("scheduleInfo.expiration.type is required: afterDuration, afterDateTime or noExpiration.")
	default:
		return nil, invalidExpiration("scheduleInfo.expiration.type '%s' is not valid: afterDuration, afterDateTime or noExpiration.", x.Type)
	}
	if d > e.maxDuration {
		return nil, policyFailed("ExpirationRule", fmt.Sprintf(
			"The maximum duration of an active assignment is %s; the request asks for %s.",
			durations.FormatISO(e.maxDuration), durations.FormatISO(d)))
	}
	end := start.Add(d)
	return &end, nil
}
