package policies

import (
	"strings"
	"testing"
	"time"
)

func TestEndNoticeBefore(t *testing.T) {
	with := func(v string) string {
		return strings.Replace(basePolicy, "    duration: {min: 10s, max: 8h}\n", "    duration: {min: 10s, max: 8h}\n    end_notice_before: "+v+"\n", 1)
	}
	tests := []struct {
		name, yaml string
		want       time.Duration
		wantErr    string
	}{
		{"default", basePolicy, 10 * time.Minute, ""},
		{"empty takes the default", with("~"), 10 * time.Minute, ""},
		{"duration", with("15m"), 15 * time.Minute, ""},
		{"iso duration", with("PT2M"), 2 * time.Minute, ""},
		{"off", with("false"), 0, ""},
		{"zero", with("0"), 0, ""},
		{"zero with a unit", with("0s"), 0, ""},
		{"longer than any grant", with("9h"), 9 * time.Hour, ""},
		{"true", with("true"), 0, "roles[0].end_notice_before: true is not a lead time; give a duration such as \"10m\""},
		{"not a duration", with("soon"), 0, `roles[0].end_notice_before: "soon" is not a duration`},
		{"no unit", with("10"), 0, `roles[0].end_notice_before: "10" has no unit`},
		{"negative", with("-5m"), 0, `roles[0].end_notice_before: "-5m" is negative`},
		{"a list", with("[5m]"), 0, "roles[0].end_notice_before: must be a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "or false (or 0) for no notice") {
					t.Errorf("Parse error = %v; it should say what is accepted", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, _ := p.Role("reader")
			if r.EndNoticeBefore != tt.want {
				t.Errorf("EndNoticeBefore = %s, want %s", r.EndNoticeBefore, tt.want)
			}
		})
	}
}
