package policies

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string // substring of the error; empty means success
	}{
		{in: "15s", want: 15 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "0s", want: 0},
		{in: " 10m ", want: 10 * time.Minute},
		{in: "PT1H", want: time.Hour},
		{in: "PT15M", want: 15 * time.Minute},
		{in: "P1D", want: 24 * time.Hour},
		{in: "P1DT2H", want: 26 * time.Hour},
		{in: "P2W", want: 14 * 24 * time.Hour},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "PT1,25S", want: 1250 * time.Millisecond},
		{in: "PT1H30M15S", want: time.Hour + 30*time.Minute + 15*time.Second},
		{in: "pt20s", want: 20 * time.Second},
		{in: "PT0S", want: 0},
		{in: "PT0.0000000009S", want: 0},
		{in: "", wantErr: "no duration given"},
		{in: "   ", wantErr: "no duration given"},
		{in: "2x", wantErr: `"2x" is not a duration; use Go ("90m") or ISO-8601 ("PT1H30M")`},
		{in: "-5m", wantErr: "negative"},
		{in: "-PT1H", wantErr: "negative"},
		{in: "60", wantErr: `"60" has no unit; write "60s" or "PT60S"`},
		{in: "inf", wantErr: "is not a duration"},
		{in: "P1Y", wantErr: "years, whose length varies"},
		{in: "P1M", wantErr: "months (M before T), whose length varies"},
		{in: "P", wantErr: "has no value"},
		{in: "PT", wantErr: "has no value"},
		{in: "P1DT", wantErr: "nothing after T"},
		{in: "PT1.5H", wantErr: "only seconds may have one"},
		{in: "PT1H1H", wantErr: "repeats H or has it out of order"},
		{in: "PT1S1M", wantErr: "out of order"},
		{in: "P1H", wantErr: "hours, minutes and seconds go after T"},
		{in: "PT1D", wantErr: "weeks and days go before T"},
		{in: "PT1X", wantErr: `unknown designator "X"`},
		{in: "PT.5S", wantErr: "malformed number"},
		{in: "PT1.S", wantErr: "malformed number"},
		{in: "PT1.2.3S", wantErr: "malformed number"},
		{in: "P-1D", wantErr: "expected a number"},
		{in: "PTH", wantErr: "expected a number"},
		{in: "PT15", wantErr: "expected a number"},
		{in: "P999999999999D", wantErr: "too long"},
		{in: "P99999999999999999999D", wantErr: "too long"},
		{in: "P106751DT23H47M16.854775808S", wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
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
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(want); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", want, back, err, d)
		}
	}
}
