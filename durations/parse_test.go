package durations

import (
	"strings"
	"testing"
	"time"
)

// parseCase is one input of a parser and what it must give: a duration,
// or an error containing wantErr.
type parseCase struct {
	in      string
	want    time.Duration
	wantErr string
}

func checkParse(t *testing.T, name string, parse func(string) (time.Duration, error), tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s(%q) = %v, %v; want error containing %q", name, tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%s(%q) = %v, %v; want %v", name, tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	checkParse(t, "Parse", Parse, []parseCase{
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
		{in: "PT1.S", wantErr: `"PT1.S" has a malformed number "1."; use Go ("90m") or ISO-8601 ("PT1H30M")`},
		{in: "PT1.2.3S", wantErr: "malformed number"},
		{in: "P-1D", wantErr: "expected a number"},
		{in: "PTH", wantErr: "expected a number"},
		{in: "PT15", wantErr: `expected a number then one of H, M, S at "15"; use Go ("90m") or ISO-8601 ("PT1H30M")`},
		{in: "P999999999999D", wantErr: "too long"},
		{in: "P99999999999999999999D", wantErr: "too long"},
		{in: "P106751DT23H47M16.854775808S", wantErr: "too long"},
	})
}

func TestParseISO(t *testing.T) {
	checkParse(t, "ParseISO", ParseISO, []parseCase{
		{in: "PT1H", want: time.Hour},
		{in: "P1D", want: 24 * time.Hour},
		{in: "PT30S", want: 30 * time.Second},
		{in: "PT0.5S", want: 500 * time.Millisecond},
		{in: "PT0,25S", want: 250 * time.Millisecond},
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "PT90M", want: 90 * time.Minute},
		{in: "P1DT2H3M4S", want: 26*time.Hour + 3*time.Minute + 4*time.Second},
		{in: "P1W", want: 7 * 24 * time.Hour},
		{in: "P1W2D", want: 9 * 24 * time.Hour},
		{in: "pt20s", want: 20 * time.Second},
		{in: "PT0S", want: 0},
		{in: "PT0.000000001S", want: time.Nanosecond},
		{in: "P106751DT23H47M16.854775807S", want: time.Duration(1<<63 - 1)},
		{in: "", wantErr: "no duration given"},
		{in: "1h", wantErr: `"1h" does not start with P, so it is not ISO-8601; use ISO-8601 ("PT1H30M", "P1D")`},
		{in: "1h30m", wantErr: "does not start with P"},
		{in: " PT1H", wantErr: "does not start with P"},
		{in: "PT1H ", wantErr: "expected a number"},
		{in: "-PT1H", wantErr: `"-PT1H" is negative`},
		{in: "60", wantErr: `"60" has no unit; write "PT60S"`},
		{in: "P", wantErr: `"P" has no value`},
		{in: "PT", wantErr: `"PT" has no value`},
		{in: "P1DT", wantErr: `"P1DT" has nothing after T`},
		{in: "P1Y", wantErr: `"P1Y" uses years`},
		{in: "P1M", wantErr: `"P1M" uses months`},
		{in: "PT1.5H", wantErr: `"PT1.5H" has a fraction on H`},
		{in: "P1H", wantErr: `"P1H" has H before T`},
		{in: "PT1X", wantErr: `"PT1X" has unknown designator "X"`},
		{in: "PT1S1M", wantErr: `"PT1S1M" repeats M or has it out of order`},
		{in: "PT1H1H", wantErr: `"PT1H1H" repeats H`},
		{in: "P-1D", wantErr: `"P-1D" is not a duration: expected a number`},
		{in: "PTH", wantErr: `"PTH" is not a duration: expected a number`},
		{in: "PT.S", wantErr: `"PT.S" has a malformed number "."; use ISO-8601 ("PT1H30M", "P1D")`},
		{in: "PT1.2.3S", wantErr: `"PT1.2.3S" has a malformed number`},
		{in: "PT1,2,3S", wantErr: `"PT1,2,3S" has a malformed number`},
		{in: "P99999999999999999999D", wantErr: `"P99999999999999999999D" is too long`},
		{in: "P300000W", wantErr: `"P300000W" is too long`},
	})
}

func TestParseWhole(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "90m", want: 90 * time.Minute},
		{in: "PT1H", want: time.Hour},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "90.5m", want: 90*time.Minute + 30*time.Second},
		{in: "1.5s", wantErr: `"1.5s" is 1.5s, not a whole number of seconds; only whole seconds are accepted, such as "1s" or "2s"`},
		{in: "PT0.5S", wantErr: `"PT0.5S" is 500ms, not a whole number of seconds; only whole seconds are accepted, such as "0s" or "1s"`},
		{in: " PT10.25S ", wantErr: `such as "10s" or "11s"`},
		{in: "1h0.1s", wantErr: `such as "1h" or "1h0m1s"`},
		{in: "forever", wantErr: `"forever" is not a duration`},
	} {
		got, err := ParseWhole(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseWhole(%q) = %v, %v; want error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseWhole(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
