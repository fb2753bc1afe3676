package graphemu

import (
	"strings"
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"PT1H", time.Hour},
		{"P1D", 24 * time.Hour},
		{"PT30S", 30 * time.Second},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT0,25S", 250 * time.Millisecond},
		{"PT1H30M", 90 * time.Minute},
		{"P1DT2H3M4S", 26*time.Hour + 3*time.Minute + 4*time.Second},
		{"P1W", 7 * 24 * time.Hour},
		{"P1W2D", 9 * 24 * time.Hour},
		{"P1Y", 365 * 24 * time.Hour},
		{"P1M", 30 * 24 * time.Hour},
		{"PT1.5H", 90 * time.Minute},
		{"PT0S", 0},
		{"PT90M", 90 * time.Minute},
	}
	for _, tt := range tests {
		got, err := parseISODuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseISODurationRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "must start with P"},
		{"1h", "must start with P"},
		{"-PT1H", "must start with P"},
		{"P", "no components"},
		{"PT", "no components"},
		{"P1DT", "no time components"},
		{"P-1D", "expected a number"},
		{"PT1X", "unit X"},
		{"P1H", "unit H"},
		{"PT1S1M", "out of order"},
		{"PT1H1H", "out of order"},
		{"PTH", "expected a number"},
		{"PT.S", "not a valid amount"},
		{"PT1.2.3S", "not a valid amount"},
		{"P99999999999999999999D", "not a valid amount"},
		{"P300000Y", "not a valid amount"},
	}
	for _, tt := range tests {
		_, err := parseISODuration(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseISODuration(%q) error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestFormatISODuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Hour, "PT1H"},
		{365 * 24 * time.Hour, "P365D"},
		{26*time.Hour + 30*time.Second, "P1DT2H30S"},
		{1500 * time.Millisecond, "PT1.5S"},
		{0, "PT0S"},
	}
	for _, tt := range tests {
		if got := formatISODuration(tt.in); got != tt.want {
			t.Errorf("formatISODuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in > 0 {
			if back, err := parseISODuration(formatISODuration(tt.in)); err != nil || back != tt.in {
				t.Errorf("round trip of %v: %v, %v", tt.in, back, err)
			}
		}
	}
}
