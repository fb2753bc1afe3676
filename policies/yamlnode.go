package policies

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitflow/jitflow/durations"
)

// decoder walks a YAML node tree by hand, so every problem can name its
// line and field path, and collects the problems instead of stopping.
type decoder struct {
	file string
	errs []*FieldError
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	e := &FieldError{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// sorted returns the problems ordered by position (stable, so problems at
// one spot keep the order they were found in).
func (d *decoder) sorted() []*FieldError {
	errs := slices.Clone(d.errs)
	slices.SortStableFunc(errs, func(a, b *FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return errs
}

// deref follows aliases (*name) to the anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n = deref(n); n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func field(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// fields is one YAML mapping whose keys were checked against the accepted ones.
type fields struct {
	node *yaml.Node
	path string
	keys map[string]*yaml.Node // key nodes, for the line of "key: (nothing)"
	vals map[string]*yaml.Node
}

// mapping checks that n is a mapping holding only accepted keys, each once.
func (d *decoder) mapping(n *yaml.Node, path string, accepted ...string) (fields, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "must be a mapping with keys %s; got %s", strings.Join(accepted, ", "), describe(n))
		return fields{}, false
	}
	f := fields{node: n, path: path, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain words; accepted keys: %s", strings.Join(accepted, ", "))
			continue
		}
		key := field(path, k.Value)
		switch {
		case k.Tag == "!!merge":
			d.errorf(k, path, "YAML merge keys (<<) are not supported; write the keys out (aliases such as *name are fine as whole values)")
		case !slices.Contains(accepted, k.Value):
			d.errorf(k, key, "unknown key %q%s; accepted keys: %s", k.Value, suggest(k.Value, accepted), strings.Join(accepted, ", "))
		case f.keys[k.Value] != nil:
			d.errorf(k, key, "appears twice in this mapping (first on line %d); keep one", f.keys[k.Value].Line)
		default:
			f.keys[k.Value] = k
			f.vals[k.Value] = n.Content[i+1]
		}
	}
	return f, true
}

// get returns the value of key, or nil when it is absent or empty (~, null
// or nothing after the colon): optional keys then take their default.
func (f fields) get(key string) *yaml.Node {
	if isNull(f.vals[key]) {
		return nil
	}
	return f.vals[key]
}

// need is get for keys without a default: it reports a missing or empty one.
func (d *decoder) need(f fields, key, hint string) *yaml.Node {
	if v := f.get(key); v != nil {
		return v
	}
	if k := f.keys[key]; k != nil {
		d.errorf(k, field(f.path, key), "has no value; %s", hint)
	} else {
		d.errorf(f.node, field(f.path, key), "is missing; %s", hint)
	}
	return nil
}

// str reads a single value as text.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "must be a single value; got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, path string) bool {
	n = deref(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		d.errorf(n, path, "must be true or false; got %s", describe(n))
		return false
	}
	return b
}

func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	n = deref(n)
	var i int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		d.errorf(n, path, "must be a whole number; got %s", describe(n))
		return 0, false
	}
	return i, true
}

func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := durations.Parse(s)
	if err != nil {
		d.errorf(deref(n), path, "%v", err)
		return 0, false
	}
	return v, true
}

// list checks that n is a sequence and returns its items.
func (d *decoder) list(n *yaml.Node, path, example string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "must be a list such as %s; got %s", example, describe(n))
		return nil, false
	}
	return n.Content, true
}

// name is a string from a list, with where it was written.
type name struct {
	value string
	node  *yaml.Node
	path  string
}

// names reads a list of single values, reporting any listed twice.
func (d *decoder) names(n *yaml.Node, path, example string) []name {
	items, _ := d.list(n, path, example)
	var out []name
	for i, item := range items {
		p := index(path, i)
		s, ok := d.str(item, p)
		if !ok {
			continue
		}
		if j := slices.IndexFunc(out, func(x name) bool { return strings.EqualFold(x.value, s) }); j >= 0 {
			d.errorf(deref(item), p, "%q is listed twice (also %s); keep one", s, out[j].path)
			continue
		}
		out = append(out, name{value: s, node: deref(item), path: p})
	}
	return out
}

// suggest offers the accepted key nearest a misspelt one.
func suggest(key string, accepted []string) string {
	best, bestDist := "", 3 // only close matches: more than two edits is a different word
	for _, a := range accepted {
		if dist := editDistance(strings.ToLower(key), a); dist < bestDist {
			best, bestDist = a, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
