package durations

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := map[time.Duration]string{
		8 * time.Hour:           "8h",
		90 * time.Minute:        "1h30m",
		10 * time.Second:        "10s",
		2 * time.Minute:         "2m",
		time.Hour + time.Second: "1h0m1s",
		500 * time.Millisecond:  "500ms",
		0:                       "0s",
	}
	for d, want := range tests {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if back, err := Parse(want); err != nil || back != d {
			t.Errorf("Parse(%q) = %v, %v; want %v", want, back, err, d)
		}
	}
}

func TestFormatISO(t *testing.T) {
	tests := map[time.Duration]string{
		time.Hour:                     "PT1H",
		90 * time.Minute:              "PT1H30M",
		365 * 24 * time.Hour:          "P365D",
		26*time.Hour + 30*time.Second: "P1DT2H30S",
		1500 * time.Millisecond:       "PT1.5S",
		10 * time.Second:              "PT10S",
		time.Nanosecond:               "PT0.000000001S",
		time.Duration(1<<63 - 1):      "P106751DT23H47M16.854775807S",
		0:                             "PT0S",
		-time.Hour:                    "PT0S",
	}
	for d, want := range tests {
		if got := FormatISO(d); got != want {
			t.Errorf("FormatISO(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseISO(want); err != nil || back != max(d, 0) {
			t.Errorf("ParseISO(%q) = %v, %v; want %v", want, back, err, max(d, 0))
		}
	}
}
