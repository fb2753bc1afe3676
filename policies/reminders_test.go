package policies

import (
	"strings"
	"testing"
	"time"
)

func TestRemindBefore(t *testing.T) {
	withRemind := func(v string) string {
		return strings.Replace(basePolicy, "      stages:\n", "      remind_before: "+v+"\n      stages:\n", 1)
	}
	tests := []struct {
		name, yaml string
		want       Reminder
		wantErr    string
	}{
		{"default", basePolicy, Reminder{}, ""},
		{"duration", withRemind("5s"), Reminder{Before: 5 * time.Second}, ""},
		{"iso duration", withRemind("PT2M"), Reminder{Before: 2 * time.Minute}, ""},
		{"share", withRemind(`"40%"`), Reminder{Percent: 40}, ""},
		{"off", withRemind("false"), Reminder{Off: true}, ""},
		{"zero", withRemind("0s"), Reminder{Off: true}, ""},
		{"true", withRemind("true"), Reminder{}, "approval.remind_before: true is not a lead time"},
		{"share too large", withRemind(`"100%"`), Reminder{}, `"100%" is not a share from 0% to 99%`},
		{"not a duration", withRemind("soon"), Reminder{}, `approval.remind_before: "soon"`},
		{"negative", withRemind("-5s"), Reminder{}, "is negative"},
		{"a list", withRemind("[5s]"), Reminder{}, "must be a single value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, _ := p.Role("reader")
			if r.Remind != tt.want {
				t.Errorf("Remind = %+v, want %+v", r.Remind, tt.want)
			}
		})
	}
}

func TestReminderFor(t *testing.T) {
	tests := []struct {
		name    string
		r       Reminder
		timeout time.Duration
		want    time.Duration
	}{
		{"default on a long tier", Reminder{}, time.Hour, 15 * time.Minute},
		{"default on the shortest reminded tier", Reminder{}, time.Minute, 15 * time.Second},
		{"default skips short tiers", Reminder{}, 59 * time.Second, 0},
		{"fixed", Reminder{Before: 10 * time.Second}, 20 * time.Second, 10 * time.Second},
		{"fixed as long as the tier", Reminder{Before: 20 * time.Second}, 20 * time.Second, 0},
		{"share of a short tier", Reminder{Percent: 50}, 20 * time.Second, 10 * time.Second},
		{"off", Reminder{Off: true}, time.Hour, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.For(tt.timeout); got != tt.want {
				t.Errorf("For(%s) = %s, want %s", tt.timeout, got, tt.want)
			}
		})
	}
}

func TestResolvePlansReminders(t *testing.T) {
	p, err := Parse("t.yaml", []byte(strings.Replace(basePolicy, "      stages:\n", "      remind_before: 5s\n      stages:\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := p.UserByName("alice")
	plan, err := p.Resolve(t.Context(), nil, Caller{ID: alice.ID, UPN: alice.UPN}, RequestInput{Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Stages[0].Tiers[0].RemindBefore; got != 5*time.Second {
		t.Errorf("RemindBefore = %s, want 5s", got)
	}
}
