package graphemu

import (
	"fmt"
	"net/http"
	"strings"
)

// filterClause is one "field eq 'value'" of an OData $filter.
type filterClause struct {
	field string // canonical name
	value string
}

// filterFields are the properties $filter may compare, by lower-case name.
var filterFields = map[string]string{
	"principalid":      "principalId",
	"roledefinitionid": "roleDefinitionId",
	"directoryscopeid": "directoryScopeId",
	"groupid":          "groupId",
	"accessid":         "accessId",
}

const filterHelp = "supported: principalId, roleDefinitionId, directoryScopeId, groupId or accessId compared with eq to a quoted value, joined by and, e.g. principalId eq '00000000-0000-0000-0000-000000000000' and directoryScopeId eq '/'"

// parseFilter reads the subset of OData $filter the emulator supports.
// Keywords and property names are matched case-insensitively, as Graph does.
func parseFilter(s string) ([]filterClause, *apiError) {
	p := filterParser{src: s, rest: s}
	var clauses []filterClause
	for {
		c, err := p.clause()
		if err != nil {
			return nil, err
		}
		clauses = append(clauses, c)
		p.space()
		if p.rest == "" {
			return clauses, nil
		}
		if !p.keyword("and") {
			return nil, p.fail("expected 'and' or the end of the filter")
		}
	}
}

type filterParser struct {
	src, rest string
}

func (p *filterParser) clause() (filterClause, *apiError) {
	p.space()
	name := p.word()
	field, ok := filterFields[strings.ToLower(name)]
	if !ok {
		if name == "" {
			return filterClause{}, p.fail("expected a property name")
		}
		return filterClause{}, p.fail(fmt.Sprintf("property %q cannot be filtered on", name))
	}
	p.space()
	if !p.keyword("eq") {
		return filterClause{}, p.fail("only the eq operator is supported")
	}
	p.space()
	value, err := p.quoted()
	if err != nil {
		return filterClause{}, err
	}
	return filterClause{field: field, value: value}, nil
}

func (p *filterParser) space() { p.rest = strings.TrimLeft(p.rest, " \t") }

func (p *filterParser) word() string {
	i := strings.IndexFunc(p.rest, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	})
	if i < 0 {
		i = len(p.rest)
	}
	w := p.rest[:i]
	p.rest = p.rest[i:]
	return w
}

// keyword consumes kw if it comes next as a whole word.
func (p *filterParser) keyword(kw string) bool {
	save := p.rest
	if strings.EqualFold(p.word(), kw) {
		return true
	}
	p.rest = save
	return false
}

// quoted reads an OData string literal in single quotes, where a quote
// inside the value is written twice.
func (p *filterParser) quoted() (string, *apiError) {
	if !strings.HasPrefix(p.rest, "'") {
		return "", p.fail("expected a value in single quotes")
	}
	var b strings.Builder
	s := p.rest[1:]
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			return "", p.fail("the quoted value is not closed")
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		if !strings.HasPrefix(s, "'") {
			p.rest = s
			return b.String(), nil
		}
		b.WriteByte('\'')
		s = s[1:]
	}
}

func (p *filterParser) fail(why string) *apiError {
	at := len(p.src) - len(p.rest)
	return &apiError{http.StatusBadRequest, CodeUnsupportedQuery,
		fmt.Sprintf("Invalid or unsupported $filter %q at position %d: %s; %s.", p.src, at, why, filterHelp)}
}

// matches reports whether an assignment satisfies every clause. Ids compare
// case-insensitively, as Graph's do.
func matches(k assignmentKey, clauses []filterClause) bool {
	for _, c := range clauses {
		var v string
		switch c.field {
		case "principalId":
			v = k.principal
		case "roleDefinitionId":
			v = k.role
		case "directoryScopeId":
			v = k.scope
		case "groupId":
			v = k.group
		case "accessId":
			v = k.access
		}
		if !strings.EqualFold(v, c.value) {
			return false
		}
	}
	return true
}
