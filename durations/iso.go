package durations

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// isoUnit is one designator of an ISO-8601 duration, in the order they must appear.
type isoUnit struct {
	letter byte
	size   time.Duration
}

var (
	isoDateUnits = []isoUnit{{'W', 7 * 24 * time.Hour}, {'D', 24 * time.Hour}}
	isoTimeUnits = []isoUnit{{'H', time.Hour}, {'M', time.Minute}, {'S', time.Second}}
)

// isoText is an ISO-8601 duration being parsed.
type isoText struct {
	orig string // as written, for messages
	hint string // what the calling parser accepts, for messages
}

// parseISO reads P[nW][nD][T[nH][nM][n[.f]S]], in either case; orig starts with P or p.
func parseISO(orig, hint string) (time.Duration, error) {
	x := isoText{orig: orig, hint: hint}
	s := strings.ToUpper(orig)[1:]
	datePart, timePart, hasT := strings.Cut(s, "T")
	if datePart == "" && timePart == "" {
		return 0, fmt.Errorf("%q has no value; write for example \"PT15M\" or \"P1D\"", orig)
	}
	if hasT && timePart == "" {
		return 0, fmt.Errorf("%q has nothing after T; write for example \"P1DT2H\" or just \"P1D\"", orig)
	}
	days, err := x.sum(datePart, isoDateUnits, "W, D")
	if err != nil {
		return 0, err
	}
	clock, err := x.sum(timePart, isoTimeUnits, "H, M, S")
	if err != nil {
		return 0, err
	}
	if days > math.MaxInt64-clock {
		return 0, x.tooLong()
	}
	return days + clock, nil
}

// sum adds the components of one half (date or time) of an ISO duration.
func (x isoText) sum(part string, units []isoUnit, accepted string) (time.Duration, error) {
	var total time.Duration
	next := 0 // index of the first unit still allowed, so order is enforced
	for part != "" {
		digits := strings.IndexFunc(part, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
		if digits <= 0 {
			return 0, fmt.Errorf("%q is not a duration: expected a number then one of %s at %q; %s", x.orig, accepted, part, x.hint)
		}
		number, letter := part[:digits], part[digits]
		part = part[digits+1:]
		i := unitIndex(units, letter)
		if i < 0 {
			return 0, isoUnitError(x.orig, letter, accepted)
		}
		if i < next {
			return 0, fmt.Errorf("%q repeats %c or has it out of order; ISO-8601 designators come in the order %s", x.orig, letter, accepted)
		}
		next = i + 1
		d, err := x.component(number, units[i])
		if err != nil {
			return 0, err
		}
		if total > math.MaxInt64-d {
			return 0, x.tooLong()
		}
		total += d
	}
	return total, nil
}

// component turns "12" or, for seconds, "0.5" or "0,5" into a duration,
// exact to the nanosecond (further digits are dropped).
func (x isoText) component(number string, u isoUnit) (time.Duration, error) {
	whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(number, ",", "."), ".")
	if hasFrac && u.letter != 'S' {
		return 0, fmt.Errorf("%q has a fraction on %c; only seconds may have one (write \"PT1H30M\", not \"PT1.5H\")", x.orig, u.letter)
	}
	if whole == "" || strings.ContainsAny(frac, ".") || (hasFrac && frac == "") {
		return 0, fmt.Errorf("%q has a malformed number %q; %s", x.orig, number, x.hint)
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > int64(math.MaxInt64/u.size) {
		return 0, x.tooLong()
	}
	d := time.Duration(n) * u.size
	if hasFrac {
		nanos, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64) // nine digits, so always parses
		if d > math.MaxInt64-time.Duration(nanos) {
			return 0, x.tooLong()
		}
		d += time.Duration(nanos)
	}
	return d, nil
}

func (x isoText) tooLong() error {
	return fmt.Errorf("%q is too long; the longest duration is about 292 years", x.orig)
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
