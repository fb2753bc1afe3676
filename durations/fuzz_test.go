package durations

import (
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"15s", "1h30m", "PT1H", "PT15M", "P1D", "P1DT2H", "PT0.5S", "P2W", "", "-1s",
		"2x", "60", "P1M", "PT1.5H", "P99999999999999999999D", "PT1,5S", "pt1h", "P1DT", "1.5h", "1.5s", "90.5m", "1h0.000000001s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		whole, werr := ParseWhole(s)
		d, err := Parse(s)
		if werr == nil && (err != nil || whole != d || whole%time.Second != 0) {
			t.Fatalf("ParseWhole(%q) = %v, but Parse = %v, %v", s, whole, d, err)
		}
		if werr != nil && err == nil && d%time.Second == 0 {
			t.Fatalf("ParseWhole(%q) refused whole seconds %v: %v", s, d, werr)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if d < 0 {
			t.Fatalf("Parse(%q) = %v, negative", s, d)
		}
		// What Parse accepts reads back the same, formatted either way.
		if back, err := Parse(Format(d)); err != nil || back != d {
			t.Fatalf("Parse(%q) = %v, but %q reads back as %v, %v", s, d, Format(d), back, err)
		}
		if back, err := ParseISO(FormatISO(d)); err != nil || back != d {
			t.Fatalf("Parse(%q) = %v, but %q reads back as %v, %v", s, d, FormatISO(d), back, err)
		}
	})
}
