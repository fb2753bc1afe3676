package graphemu

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want []filterClause
	}{
		{"principalId eq 'a'", []filterClause{{"principalId", "a"}}},
		{"  principalid   EQ   'a'  ", []filterClause{{"principalId", "a"}}},
		{"principalId eq 'a' and roleDefinitionId eq 'b'", []filterClause{{"principalId", "a"}, {"roleDefinitionId", "b"}}},
		{"principalId eq 'a' AND roleDefinitionId eq 'b' And directoryScopeId eq '/'",
			[]filterClause{{"principalId", "a"}, {"roleDefinitionId", "b"}, {"directoryScopeId", "/"}}},
		{"directoryScopeId eq 'it''s'", []filterClause{{"directoryScopeId", "it's"}}},
		{"directoryScopeId eq ''", []filterClause{{"directoryScopeId", ""}}},
		{"principalId eq 'a and b'", []filterClause{{"principalId", "a and b"}}},
	}
	for _, tt := range tests {
		got, err := parseFilter(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseFilter(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFilterRejects(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "expected a property name"},
		{"displayName eq 'x'", `property "displayName" cannot be filtered on`},
		{"principalId ne 'x'", "only the eq operator"},
		{"principalId eq x", "single quotes"},
		{"principalId eq 'x", "not closed"},
		{"principalId eq 'x' or principalId eq 'y'", "expected 'and'"},
		{"principalId eq 'x' and", "expected a property name"},
		{"principalId eq 'x' andprincipalId eq 'y'", "expected 'and'"},
		{"(principalId eq 'x')", "expected a property name"},
	}
	for _, tt := range tests {
		_, err := parseFilter(tt.in)
		if err == nil || !strings.Contains(err.message, tt.want) || err.code != CodeUnsupportedQuery {
			t.Errorf("parseFilter(%q) error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}
