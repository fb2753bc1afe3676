package policies

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"gopkg.in/yaml.v3"
)

// Rule is a named CEL expression over a request and its caller. A role's
// conditions must all hold for a request to be accepted; the first of its
// auto-approval rules that holds approves the request at once.
type Rule struct {
	Name    string
	Expr    string
	Message string // conditions only: what the requester is told when it does not hold
	program cel.Program
}

// The variables a rule may use, as "caller.groups" and so on. Each is typed,
// so an expression that compares a duration with a number, or names a field
// that does not exist, is refused when the policy loads.
var ruleVariables = []struct {
	name string
	typ  *cel.Type
	doc  string
}{
	{"request.role", cel.StringType, "the role asked for"},
	{"request.duration", cel.DurationType, "the grant length (the role's default when none was asked)"},
	{"request.justification", cel.StringType, "the justification"},
	{"request.ticket", cel.StringType, "the ticket, \"\" when none"},
	{"caller.id", cel.StringType, "the requester's Entra object id"},
	{"caller.upn", cel.StringType, "the requester's user principal name"},
	{"caller.groups", cel.ListType(cel.StringType), "the requester's groups (names from the directory, ids from the token)"},
	{"caller.roles", cel.ListType(cel.StringType), "the requester's app roles from the token"},
	{"caller.mfa", cel.BoolType, "whether the token shows multi-factor authentication"},
	{"now", cel.TimestampType, "when the request is made; now.getHours(\"Europe/Paris\") is the hour there"},
}

// maxRuleLen bounds an expression's text; real rules are a line or two.
const maxRuleLen = 4000

// ruleCostLimit bounds one evaluation: policies are trusted, but a rule
// that loops over a long list on every request should fail loudly.
const ruleCostLimit = 100_000

var ruleEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := make([]cel.EnvOption, 0, len(ruleVariables))
	for _, v := range ruleVariables {
		opts = append(opts, cel.Variable(v.name, v.typ))
	}
	return cel.NewEnv(opts...)
})

func ruleVariableNames() string {
	names := make([]string, len(ruleVariables))
	for i, v := range ruleVariables {
		names[i] = v.name
	}
	return strings.Join(names, ", ")
}

var ruleKeys = []string{"name", "expr", "message"}

// rules decodes a list of {name, expr[, message]}; withMessage says whether
// message is accepted (and required).
func (d *decoder) rules(n *yaml.Node, path string, withMessage bool) []Rule {
	items, ok := d.list(n, path, `[{name: oncall-short, expr: "'oncall' in caller.groups"}]`)
	if !ok {
		return nil
	}
	keys := ruleKeys[:2]
	if withMessage {
		keys = ruleKeys
	}
	names := seen{}
	var out []Rule
	for i, item := range items {
		p := index(path, i)
		f, ok := d.mapping(item, p, keys...)
		if !ok {
			continue
		}
		var r Rule
		if v := d.need(f, "name", `give the rule a name such as "oncall-short"; history records it`); v != nil {
			r.Name = d.label(v, field(p, "name"), rolePattern, roleNameRule)
			names.check(d, v, field(p, "name"), "rule name", r.Name)
		}
		if withMessage {
			if v := d.need(f, "message", "say what a requester must do when the condition does not hold"); v != nil {
				r.Message = d.text(v, field(p, "message"), maxDescriptionLen)
			}
		}
		v := d.need(f, "expr", "give a CEL expression of type bool, e.g. \"request.duration <= duration('1h')\"")
		if v == nil {
			continue
		}
		if src, ok := d.str(v, field(p, "expr")); ok && len(src) > maxRuleLen {
			d.errorf(deref(v), field(p, "expr"), "rule %q is %d bytes long; at most %d are accepted", r.Name, len(src), maxRuleLen)
		} else if ok {
			r.Expr = src
			r.program = d.compileRule(deref(v), field(p, "expr"), r.Name, src)
		}
		if r.program != nil {
			out = append(out, r)
		}
	}
	return out
}

// compileRule type-checks src. Errors point at the expression's own line
// and column within the file: for a block scalar (expr: |) the text starts
// on the line after the key.
func (d *decoder) compileRule(n *yaml.Node, path, name, src string) cel.Program {
	env, err := ruleEnv()
	if err != nil {
		d.errorf(n, path, "rule %q: cannot set up CEL: %v", name, err)
		return nil
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			d.ruleError(n, path, name, e.Location.Line(), e.Location.Column(), e.Message)
		}
		return nil
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		d.errorf(n, path, "rule %q: the expression is of type %s; it must be a bool (true or false)", name, ast.OutputType())
		return nil
	}
	prg, err := env.Program(ast, cel.CostLimit(ruleCostLimit))
	if err != nil {
		d.errorf(n, path, "rule %q: %v", name, err)
		return nil
	}
	return prg
}

// ruleError reports a CEL error at its place in the file. CEL counts lines
// from 1 and columns from 0 within the expression.
func (d *decoder) ruleError(n *yaml.Node, path, name string, line, col int, msg string) {
	e := &FieldError{File: d.file, Path: path, Line: n.Line, Column: n.Column}
	block := n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
	switch {
	case block:
		e.Line += line // the text starts below the "expr: |" line
		e.Column = col + 1
	case line <= 1:
		e.Column += col
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			e.Column++ // past the opening quote
		}
	}
	e.Msg = fmt.Sprintf("rule %q: CEL error at expression column %d: %s; rules may use %s", name, col+1, msg, ruleVariableNames())
	d.errs = append(d.errs, e)
}

// ruleInput is what rules are evaluated against.
type ruleInput struct {
	caller User
	roles  []string
	mfa    bool
	in     RequestInput
	role   string
	dur    time.Duration
}

func (ri ruleInput) activation() map[string]any {
	now := ri.in.Time
	if now.IsZero() {
		now = time.Now()
	}
	groups := ri.caller.Groups
	if groups == nil {
		groups = []string{}
	}
	roles := ri.roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{
		"request.role":          ri.role,
		"request.duration":      ri.dur,
		"request.justification": ri.in.Justification,
		"request.ticket":        ri.in.Ticket,
		"caller.id":             ri.caller.ID,
		"caller.upn":            ri.caller.UPN,
		"caller.groups":         groups,
		"caller.roles":          roles,
		"caller.mfa":            ri.mfa,
		"now":                   now.UTC(),
	}
}

// eval runs a rule. An expression that fails at run time (an unknown time
// zone, a cost over the limit) is an error, never a silent true.
func (r *Rule) eval(vars map[string]any) (bool, error) {
	out, _, err := r.program.Eval(vars)
	if err != nil {
		return false, fmt.Errorf("rule %q: %w", r.Name, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("rule %q gave %v, not a bool", r.Name, out)
	}
	return bool(b), nil
}

// checkConditions returns the first condition that does not hold.
func checkConditions(role *Role, vars map[string]any) error {
	for i := range role.Conditions {
		c := &role.Conditions[i]
		ok, err := c.eval(vars)
		if err != nil {
			return invalid("role", "condition %q of role %q could not be checked (%v); ask an administrator to fix the policy", c.Name, role.Name, err)
		}
		if !ok {
			return invalid("role", "condition %q of role %q does not hold: %s", c.Name, role.Name, c.Message)
		}
	}
	return nil
}

// autoApproval finds the first auto-approval rule that holds. A rule that
// fails to evaluate approves nothing: the request then waits for people.
func autoApproval(role *Role, vars map[string]any) (*Rule, error) {
	var errs []error
	for i := range role.AutoApprove {
		r := &role.AutoApprove[i]
		ok, err := r.eval(vars)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			return r, errors.Join(errs...)
		}
	}
	return nil, errors.Join(errs...)
}
