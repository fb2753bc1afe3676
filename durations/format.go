package durations

import (
	"fmt"
	"strings"
	"time"
)

const day = 24 * time.Hour

// Format writes d the short way Go's parser (and Parse) reads back: "8h",
// "1h30m", "10s", without the "0s" and "0m" tails of time.Duration.String.
func Format(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// FormatISO writes d the way Microsoft Graph does, in days, hours, minutes
// and seconds ("PT1H", "P1DT2H30S", "PT1.5S"), which ParseISO reads back.
// Zero and negative durations are written "PT0S".
func FormatISO(d time.Duration) string {
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
		b.WriteString(seconds(d) + "S")
	}
	return b.String()
}

// seconds writes d (under a minute) in decimal seconds without trailing
// zeros, using integers so every nanosecond survives: "30", "1.5", "0.000000001".
func seconds(d time.Duration) string {
	s := fmt.Sprintf("%d.%09d", d/time.Second, d%time.Second)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
