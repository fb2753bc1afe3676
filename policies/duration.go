package policies

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationHint says what ParseDuration accepts; every error ends with it.
const durationHint = `use Go ("90m") or ISO-8601 ("PT1H30M")`

// ParseDuration accepts Go durations ("15s", "1h30m") and ISO-8601 durations
// ("PT1H", "PT15M", "P1D", "P1DT2H", "PT0.5S"); errors say what is accepted.
// Zero is accepted (callers decide whether it means "default"); negative
// durations, years and months (whose length varies) are not.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("no duration given; %s", durationHint)
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative; a duration must be zero or more; %s", s, durationHint)
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISODuration(s)
	}
	if isPlainNumber(s) {
		return 0, fmt.Errorf("%q has no unit; write %q or %q", s, s+"s", "PT"+s+"S")
	}
	return 0, fmt.Errorf("%q is not a duration; %s", s, durationHint)
}

// isPlainNumber reports whether s is digits with at most one decimal point,
// the usual slip of forgetting the unit.
func isPlainNumber(s string) bool {
	whole, frac, _ := strings.Cut(s, ".")
	digits := func(x string) bool { return strings.Trim(x, "0123456789") == "" }
	return whole+frac != "" && digits(whole) && digits(frac)
}

// isoUnit is one designator of an ISO-8601 duration, in the order they must appear.
type isoUnit struct {
	letter byte
	size   time.Duration
}

var (
	isoDateUnits = []isoUnit{{'W', 7 * 24 * time.Hour}, {'D', 24 * time.Hour}}
	isoTimeUnits = []isoUnit{{'H', time.Hour}, {'M', time.Minute}, {'S', time.Second}}
)

// parseISODuration reads P[nW][nD][T[nH][nM][n[.f]S]].
func parseISODuration(orig string) (time.Duration, error) {
	s := strings.ToUpper(orig)[1:]
	datePart, timePart, hasT := strings.Cut(s, "T")
	if datePart == "" && timePart == "" {
		return 0, fmt.Errorf("%q has no value; write for example \"PT15M\" or \"P1D\"", orig)
	}
	if hasT && timePart == "" {
		return 0, fmt.Errorf("%q has nothing after T; write for example \"P1DT2H\" or just \"P1D\"", orig)
	}
	days, err := sumISO(orig, datePart, isoDateUnits, "W, D")
	if err != nil {
		return 0, err
	}
	clock, err := sumISO(orig, timePart, isoTimeUnits, "H, M, S")
	if err != nil {
		return 0, err
	}
	if days > math.MaxInt64-clock {
		return 0, fmt.Errorf("%q is too long; the longest duration is about 292 years", orig)
	}
	return days + clock, nil
}

// sumISO adds the components of one half (date or time) of an ISO duration.
func sumISO(orig, part string, units []isoUnit, accepted string) (time.Duration, error) {
	var total time.Duration
	next := 0 // index of the first unit still allowed, so order is enforced
	for part != "" {
		digits := strings.IndexFunc(part, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
		if digits <= 0 {
			return 0, isoSyntaxError(orig, part, accepted)
		}
		number, letter := part[:digits], part[digits]
		part = part[digits+1:]
		i := unitIndex(units, letter)
		if i < 0 {
			return 0, isoUnitError(orig, letter, accepted)
		}
		if i < next {
			return 0, fmt.Errorf("%q repeats %c or has it out of order; ISO-8601 designators come in the order %s", orig, letter, accepted)
		}
		next = i + 1
		d, err := isoComponent(orig, number, units[i])
		if err != nil {
			return 0, err
		}
		if total > math.MaxInt64-d {
			return 0, fmt.Errorf("%q is too long; the longest duration is about 292 years", orig)
		}
		total += d
	}
	return total, nil
}

// isoComponent turns "12" or, for seconds, "0.5" into a duration.
func isoComponent(orig, number string, u isoUnit) (time.Duration, error) {
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(number, ",", "."), ".")
	if hasFrac && u.letter != 'S' {
		return 0, fmt.Errorf("%q has a fraction on %c; only seconds may have one (write \"PT1H30M\", not \"PT1.5H\")", orig, u.letter)
	}
	if whole == "" || strings.ContainsAny(frac, ".") || (hasFrac && frac == "") {
		return 0, fmt.Errorf("%q has a malformed number %q; %s", orig, number, durationHint)
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > int64(math.MaxInt64/u.size) {
		return 0, fmt.Errorf("%q is too long; the longest duration is about 292 years", orig)
	}
	d := time.Duration(n) * u.size
	if hasFrac {
		nanos, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64) // nine digits, so always parses
		if d > math.MaxInt64-time.Duration(nanos) {
			return 0, fmt.Errorf("%q is too long; the longest duration is about 292 years", orig)
		}
		d += time.Duration(nanos)
	}
	return d, nil
}

func unitIndex(units []isoUnit, letter byte) int {
	for i, u := range units {
		if u.letter == letter {
			return i
		}
	}
	return -1
}

func isoUnitError(orig string, letter byte, accepted string) error {
	switch letter {
	case 'Y':
		return fmt.Errorf("%q uses years, whose length varies; use days (\"P365D\")", orig)
	case 'M':
		return fmt.Errorf("%q uses months (M before T), whose length varies; use days (\"P30D\"), or minutes after T (\"PT30M\")", orig)
	case 'H', 'S':
		return fmt.Errorf("%q has %c before T; hours, minutes and seconds go after T (\"PT1H\")", orig, letter)
	case 'W', 'D':
		return fmt.Errorf("%q has %c after T; weeks and days go before T (\"P1DT2H\")", orig, letter)
	}
	return fmt.Errorf("%q has unknown designator %q; here ISO-8601 accepts %s", orig, string(letter), accepted)
}

func isoSyntaxError(orig, rest, accepted string) error {
	return fmt.Errorf("%q is not a duration: expected a number then one of %s at %q; %s", orig, accepted, rest, durationHint)
}

// formatDuration writes d the short way Go's parser reads back: "8h", "1h30m", "10s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
