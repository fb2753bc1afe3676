package durations

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{"15s", "1h30m", "PT1H", "PT15M", "P1D", "P1DT2H", "PT0.5S", "P2W", "", "-1s",
		"2x", "60", "P1M", "PT1.5H", "P99999999999999999999D", "PT1,5S", "pt1h", "P1DT", "1.5h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
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
