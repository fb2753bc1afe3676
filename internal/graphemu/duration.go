package graphemu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// Units of an ISO 8601 duration. Graph's schedule durations are fixed
// lengths, so a year counts 365 days and a month 30 (as Entra does for
// expirations given in those units).
var (
	dateUnits = map[byte]time.Duration{'Y': 365 * day, 'M': 30 * day, 'W': 7 * day, 'D': day}
	timeUnits = map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
)

// parseISODuration reads an ISO 8601 duration such as "PT1H", "P1D",
// "P1DT2H30M", "PT30S" or "PT0.5S". Negative durations are not accepted.
func parseISODuration(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		return 0, fmt.Errorf("duration %q is not ISO 8601: it must start with P, e.g. PT1H or P1D", s)
	}
	datePart, timePart, hasT := strings.Cut(rest, "T")
	if datePart == "" && timePart == "" {
		return 0, fmt.Errorf("duration %q has no components, e.g. PT1H or P1D", s)
	}
	if hasT && timePart == "" {
		return 0, fmt.Errorf("duration %q has a T with no time components after it, e.g. PT30M", s)
	}
	d1, err := sumComponents(s, datePart, dateUnits, "YMWD")
	if err != nil {
		return 0, err
	}
	d2, err := sumComponents(s, timePart, timeUnits, "HMS")
	if err != nil {
		return 0, err
	}
	if d1 > maxDuration-d2 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return d1 + d2, nil
}

const maxDuration = time.Duration(1<<63 - 1)

// sumComponents adds up components like "1D" or "0.5S" in the given unit
// order; each unit may appear once.
func sumComponents(whole, part string, units map[byte]time.Duration, order string) (time.Duration, error) {
	var total time.Duration
	next := 0 // index into order: units must appear in it, left to right
	for part != "" {
		i := strings.IndexFunc(part, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
		if i <= 0 {
			return 0, fmt.Errorf("duration %q: expected a number followed by one of %s at %q", whole, order, part)
		}
		num, unit := part[:i], part[i]
		pos := strings.IndexByte(order[next:], unit)
		if pos < 0 {
			return 0, fmt.Errorf("duration %q: unit %c is unknown or out of order here (allowed in order: %s)", whole, unit, order)
		}
		next += pos + 1
		d, err := component(num, units[unit])
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", whole, err)
		}
		if total > maxDuration-d {
			return 0, fmt.Errorf("duration %q is too long", whole)
		}
		total += d
		part = part[i+1:]
	}
	return total, nil
}

// component converts "12" or "0.5" (ISO also allows "0,5") of one unit.
func component(num string, unit time.Duration) (time.Duration, error) {
	if strings.Trim(num, ".,") == "" {
		return 0, fmt.Errorf("number %q is not a valid amount", num)
	}
	intPart, frac, _ := strings.Cut(strings.Replace(num, ",", ".", 1), ".")
	if intPart == "" {
		intPart = "0"
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n > int64(maxDuration/unit) {
		return 0, fmt.Errorf("number %q is not a valid amount", num)
	}
	d := time.Duration(n) * unit
	if frac != "" {
		f, err := strconv.ParseFloat("0."+frac, 64)
		if err != nil {
			return 0, fmt.Errorf("number %q is not a valid amount", num)
		}
		d += time.Duration(f * float64(unit))
	}
	return d, nil
}

// formatISODuration writes d the way Graph does (days, hours, minutes,
// seconds), for messages and echoed schedules.
func formatISODuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	if days := d / day; days > 0 {
		fmt.Fprintf(&b, "%dD", days)
		d -= days * day
	}
	if d == 0 {
		return b.String()
	}
	b.WriteString("T")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S")
	}
	return b.String()
}
