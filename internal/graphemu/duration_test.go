package graphemu

import (
	"net/http"
	"testing"
	"time"
)

// The emulator reads afterDuration expirations with durations.ParseISO,
// which has its own tests; these check the forms arrive as the right end time.
func TestAfterDurationSetsTheEnd(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"PT1H", time.Hour},
		{"PT90M", 90 * time.Minute},
		{"P1DT2H3M4S", 26*time.Hour + 3*time.Minute + 4*time.Second},
		{"P1W2D", 9 * 24 * time.Hour},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT0,25S", 250 * time.Millisecond},
		{"pt20s", 20 * time.Second},
		{"P365D", DefaultMaxDuration},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, _ := newEmu(t, Options{})
			decode[ScheduleRequest](t, post(t, e, assign(alice, globalReader, tt.in)), http.StatusCreated)
			insts := e.Instances()
			if len(insts) != 1 || insts[0].EndDateTime == nil || !insts[0].EndDateTime.Equal(t0.Add(tt.want)) {
				t.Fatalf("instances %+v, want one ending at %v", insts, t0.Add(tt.want))
			}
		})
	}
}

// Refused durations get Graph's InvalidExpiration error, whose message names
// the field and quotes the value as sent.
func TestAfterDurationRefusals(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1h", `scheduleInfo.expiration.duration: "1h" does not start with P`},
		{"-PT1H", `"-PT1H" is negative`},
		{"60", `"60" has no unit; write "PT60S"`},
		{"P", `"P" has no value`},
		{"P1DT", `"P1DT" has nothing after T`},
		{"P1Y", `"P1Y" uses years`},
		{"P1M", `"P1M" uses months`},
		{"PT1.5H", `"PT1.5H" has a fraction on H`},
		{"PT1X", `"PT1X" has unknown designator "X"`},
		{"PT1S1M", `"PT1S1M" repeats M or has it out of order`},
		{"P-1D", `"P-1D" is not a duration: expected a number`},
		{"PT.5S", `"PT.5S" has a malformed number ".5"`},
		{"P99999999999999999999D", `"P99999999999999999999D" is too long`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, _ := newEmu(t, Options{})
			wantGraphError(t, post(t, e, assign(alice, globalReader, tt.in)), http.StatusBadRequest, CodeInvalidExpiration, tt.want)
			if n := len(e.Instances()); n != 0 {
				t.Errorf("%d instances after a refused duration", n)
			}
		})
	}
}
