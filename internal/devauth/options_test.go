package devauth

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestTokenOptions(t *testing.T) {
	iss, _ := newIssuer(t)
	e := echo.New()
	iss.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	tests := []struct {
		query      string
		status     int
		amr, acrs  []string
		roles      []string
		overage    bool
		wantGroups []string
	}{
		{"user=alice", 200, []string{"pwd"}, nil, nil, false, []string{"engineers"}},
		{"user=alice&mfa=true", 200, []string{"pwd", "mfa"}, nil, nil, false, []string{"engineers"}},
		{"user=alice&acrs=c1,c2", 200, []string{"pwd"}, []string{"c1", "c2"}, nil, false, []string{"engineers"}},
		{"user=alice&roles=auditor", 200, []string{"pwd"}, nil, []string{"auditor"}, false, []string{"engineers"}},
		{"user=olga&roles=auditor,operator", 200, []string{"pwd"}, nil, []string{OperatorRole, "auditor"}, false, nil},
		{"user=alice&overage=true", 200, []string{"pwd"}, nil, nil, true, nil},
		{"user=alice&mfa=yes", 400, nil, nil, nil, false, nil},
		{"user=alice&scope=x", 400, nil, nil, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/dev/token?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			var out struct{ Token string }
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			c := parseClaims(t, iss.JWKS(), out.Token)
			if !slices.Equal(c.AMR, tt.amr) || !slices.Equal(c.ACRS, tt.acrs) || !slices.Equal(c.Roles, tt.roles) || !slices.Equal(c.Groups, tt.wantGroups) {
				t.Errorf("amr %v acrs %v roles %v groups %v", c.AMR, c.ACRS, c.Roles, c.Groups)
			}
			if got := c.ClaimNames["groups"] != ""; got != tt.overage {
				t.Errorf("_claim_names = %v, want overage %v", c.ClaimNames, tt.overage)
			}
		})
	}
}
