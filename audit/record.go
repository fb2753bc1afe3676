package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Schema names the version of the export's line format
// (docs/audit-events.md). Fields may be added within a version; a change
// that removes or redefines one makes a new version.
const Schema = "jitflow.audit/v1"

// Record is one line of the export: an event with the request it belongs
// to, so each line stands alone in a SIEM.
type Record struct {
	Schema string `json:"schema"`
	Request
	Event
}

// Records turns a trail into export lines, keeping the events for which
// keep is true (nil keeps all).
func Records(trail Trail, keep func(Event) bool) []Record {
	var out []Record
	for _, ev := range trail.Events {
		if keep == nil || keep(ev) {
			out = append(out, Record{Schema: Schema, Request: trail.Request, Event: ev})
		}
	}
	return out
}

// InWindow keeps events at or after since and, when until is set, before it.
func InWindow(since, until time.Time) func(Event) bool {
	return func(ev Event) bool {
		return !ev.Time.Before(since) && (until.IsZero() || ev.Time.Before(until))
	}
}

// JSONLines encodes records one per line.
func JSONLines(records []Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			return nil, fmt.Errorf("encode audit event %s: %w", r.Event.ID, err)
		}
	}
	return b.Bytes(), nil
}
