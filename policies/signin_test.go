package policies

import (
	"strings"
	"testing"
)

func TestApproverSignIn(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       bool
		wantErr    string
	}{
		{"default off", basePolicy, false, ""},
		{"on", edit(t, "    approval:\n", "    approver_sign_in: true\n    approval:\n"), true, ""},
		{"not a boolean", edit(t, "    approval:\n", "    approver_sign_in: maybe\n    approval:\n"), false, "approver_sign_in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, _ := p.Role("reader")
			if r.ApproverSignIn != tt.want {
				t.Errorf("ApproverSignIn = %v, want %v", r.ApproverSignIn, tt.want)
			}
		})
	}
}
