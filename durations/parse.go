// Package durations parses and formats the durations jitflow reads and writes: Go ("1h30m") and ISO-8601 ("PT1H30M").
package durations

import (
	"fmt"
	"strings"
	"time"
)

// Each error ends with the hint of the parser that made it, saying what it accepts.
const (
	anyHint = `use Go ("90m") or ISO-8601 ("PT1H30M")`
	isoHint = `use ISO-8601 ("PT1H30M", "P1D")`
)

// Parse accepts Go durations ("15s", "1h30m") and ISO-8601 durations
// ("PT1H", "PT15M", "P1D", "P1DT2H", "PT0.5S"), ignoring surrounding space;
// errors say what is accepted. Zero is accepted (callers decide whether it
// means "default"); negative durations, years and months (whose length
// varies) are not.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("no duration given; %s", anyHint)
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q is negative; a duration must be zero or more; %s", s, anyHint)
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if s[0] == 'P' || s[0] == 'p' {
		return parseISO(s, anyHint)
	}
	if isPlainNumber(s) {
		return 0, fmt.Errorf("%q has no unit; write %q or %q", s, s+"s", "PT"+s+"S")
	}
	return 0, fmt.Errorf("%q is not a duration; %s", s, anyHint)
}

// ParseWhole is Parse for lengths kept in whole seconds (grants and
// extensions): a duration with a fraction of a second ("1.5s", "PT0.5S")
// is refused rather than cut, naming the whole seconds either side.
func ParseWhole(s string) (time.Duration, error) {
	d, err := Parse(s)
	if err != nil {
		return 0, err
	}
	if d%time.Second != 0 {
		down := d.Truncate(time.Second)
		return 0, fmt.Errorf("%q is %s, not a whole number of seconds; only whole seconds are accepted, such as %q or %q",
			strings.TrimSpace(s), d, Format(down), Format(down+time.Second))
	}
	return d, nil
}

// ParseISO accepts only ISO-8601 durations, as Parse reads them, for
// callers whose wire format is ISO (Microsoft Graph). It does not trim
// space, and it refuses Go durations such as "1h".
func ParseISO(s string) (time.Duration, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("no duration given; %s", isoHint)
	case s[0] == '-':
		return 0, fmt.Errorf("%q is negative; a duration must be zero or more; %s", s, isoHint)
	case isPlainNumber(s):
		return 0, fmt.Errorf("%q has no unit; write %q", s, "PT"+s+"S")
	case s[0] != 'P' && s[0] != 'p':
		return 0, fmt.Errorf("%q does not start with P, so it is not ISO-8601; %s", s, isoHint)
	}
	return parseISO(s, isoHint)
}

// isPlainNumber reports whether s is digits with at most one decimal point,
// the usual slip of forgetting the unit.
func isPlainNumber(s string) bool {
	whole, frac, _ := strings.Cut(s, ".")
	digits := func(x string) bool { return strings.Trim(x, "0123456789") == "" }
	return whole+frac != "" && digits(whole) && digits(frac)
}
