package policies

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docsFile is the reference of every policy key. These tests keep it true:
// its key headings are exactly the keys the loader accepts, and every YAML
// example in it goes through Parse.
const docsFile = "../docs/policy.md"

// How docs/policy.md marks its examples. Every ```yaml block follows a
// comment line saying what it is:
//
//	<!-- example: file -->                       a whole policy file
//	<!-- example: file testdata/entra.yaml -->   a whole policy file, equal to that file
//	<!-- example: policy -->                     top-level keys, put over a small valid policy
//	<!-- example: role -->                       keys of a role, put over the role of that policy
//	<!-- example: stage -->                      keys of a stage, put over its first stage
//	<!-- example: tier -->                       keys of a tier, put over that stage's first tier
//
// A fragment's keys replace the small policy's keys of the same name, or
// are added. "refused" at the end (<!-- example: role refused -->) marks an
// example that must fail: a ```text block right after it lists every
// problem Parse reports, one a line, as "field: message".
var exampleComment = regexp.MustCompile(`^<!-- example: (file|policy|role|stage|tier)( [^ ]+\.yaml)?( refused)? -->$`)

// docsBase is the small valid policy fragments are put into.
const docsBase = `tenant_id: 00000000-0000-4000-8000-000000000001
users:
  - {name: alice, id: 11111111-1111-4111-8111-000000000001, upn: alice@example.com, groups: [engineers]}
  - {name: bob, id: 11111111-1111-4111-8111-000000000002, upn: bob@example.com, groups: [team-leads]}
  - {name: carol, id: 11111111-1111-4111-8111-000000000003, upn: carol@example.com}
  - {name: dave, id: 11111111-1111-4111-8111-000000000004, upn: dave@example.com, groups: [security]}
  - {name: erin, id: 11111111-1111-4111-8111-000000000005, upn: erin@example.com, groups: [engineers, oncall]}
roles:
  - name: reader
    role_definition_id: f2ef992c-3afb-46b9-b7cf-a126ee74c451
    requesters: {users: [alice]}
    duration: {min: 10s, max: 8h}
    approval:
      stages:
        - tiers:
            - approvers: {users: [bob]}
              timeout: 20s
`

// Where each fragment goes in docsBase, and the key path that place has.
var examplePlaces = map[string]struct {
	path   []any // keys and list indexes from the top of docsBase
	prefix string
}{
	"policy": {nil, ""},
	"role":   {[]any{"roles", 0}, "roles[]"},
	"stage":  {[]any{"roles", 0, "approval", "stages", 0}, "roles[].approval.stages[]"},
	"tier":   {[]any{"roles", 0, "approval", "stages", 0, "tiers", 0}, "roles[].approval.stages[].tiers[]"},
}

// subjectKeyPlace names the one place a subject key is accepted, for keys
// that mean something only there: the requester's manager approves (a
// tier), a PIM eligibility qualifies a requester. Other subject keys go
// everywhere people are named.
var subjectKeyPlace = map[string]string{
	"manager":      "roles[].approval.stages[].tiers[].approvers",
	"pim_eligible": "roles[].requesters",
}

// keyLists names the decoder's key lists, as the tree below uses them;
// TestDocsKeyListsAllPlaced checks no list is left out.
var keyLists = map[string][]string{
	"policyKeys": policyKeys, "userKeys": userKeys, "roleKeys": roleKeys, "groupKeys": groupKeys,
	"extendKeys": extendKeys, "durationKeys": durationKeys, "approvalKeys": approvalKeys,
	"stageKeys": stageKeys, "tierKeys": tierKeys, "subjectKeys": subjectKeys, "ruleKeys": ruleKeys,
}

// acceptedKeyPaths lists every key path the loader accepts, as
// "roles[].duration.max", built from the decoder's key lists.
func acceptedKeyPaths() []string {
	var paths []string
	add := func(prefix string, keys []string) {
		for _, k := range keys {
			paths = append(paths, field(prefix, k))
		}
	}
	subjects := func(place string) {
		for _, k := range subjectKeys {
			if only, ok := subjectKeyPlace[k]; !ok || only == place {
				paths = append(paths, field(place, k))
			}
		}
	}
	add("", policyKeys)
	add("users[]", userKeys)
	subjects("operators")
	add("roles[]", roleKeys)
	add("roles[].group", groupKeys)
	subjects("roles[].requesters")
	add("roles[].duration", durationKeys)
	add("roles[].extension", extendKeys)
	add("roles[].conditions[]", ruleKeys)
	// auto_approve rules have no message: nobody is refused by them.
	add("roles[].auto_approve[]", slices.DeleteFunc(slices.Clone(ruleKeys), func(k string) bool { return k == "message" }))
	add("roles[].approval", approvalKeys)
	add("roles[].approval.stages[]", stageKeys)
	add("roles[].approval.stages[].tiers[]", tierKeys)
	subjects("roles[].approval.stages[].tiers[].approvers")
	subjects("roles[].notify")
	return paths
}

// TestDocsKeyListsAllPlaced finds every package-level "...Keys" list of
// the decoder, so a new one (a new mapping in the file) cannot go
// undocumented by being left out of acceptedKeyPaths.
func TestDocsKeyListsAllPlaced(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if _, placed := keyLists[id.Name]; strings.HasSuffix(id.Name, "Keys") && !placed {
						t.Errorf("%s declares key list %s; add it to keyLists and acceptedKeyPaths in docs_test.go, and document its keys in docs/policy.md", fset.Position(id.Pos()), id.Name)
					}
				}
			}
		}
	}
	for k := range subjectKeyPlace {
		if !slices.Contains(subjectKeys, k) {
			t.Errorf("subjectKeyPlace names %q, which subjectKeys lacks", k)
		}
	}
}

// docSection is one heading of docs/policy.md with what follows it.
type docSection struct {
	heading string // the heading's text
	keyPath string // the key path in backticks, when the heading is one
	line    int
}

var keyHeading = regexp.MustCompile("^#{2,4} `([a-z_\\[\\].]+)`$")

// docExample is one ```yaml block with its marker and expected problems.
type docExample struct {
	section  docSection
	line     int    // of the block's first line, 1-based
	place    string // file, policy, role, stage or tier
	file     string // for place file: the testdata file it must equal, if any
	refused  bool
	yaml     string
	problems []string // for refused examples
}

func readDocs(t *testing.T) (sections []docSection, examples []docExample) {
	t.Helper()
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var cur docSection
	// block reads the fenced block opening at lines[i] and returns its text
	// and the index of its closing fence.
	block := func(i int) (string, int) {
		for j := i + 1; j < len(lines); j++ {
			if lines[j] == "```" {
				return strings.Join(lines[i+1:j], "\n") + "\n", j
			}
		}
		t.Fatalf("%s:%d: a code block that never closes", docsFile, i+1)
		return "", 0
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "#"):
			cur = docSection{heading: strings.TrimLeft(line, "# "), line: i + 1}
			if m := keyHeading.FindStringSubmatch(line); m != nil {
				cur.keyPath = m[1]
			}
			sections = append(sections, cur)
		case line == "```yaml":
			text, end := block(i)
			m := exampleComment.FindStringSubmatch(previousLine(lines, i))
			if m == nil {
				t.Errorf("%s:%d: a yaml block without an <!-- example: ... --> line before it; every example is checked against the loader", docsFile, i+1)
				i = end
				continue
			}
			ex := docExample{section: cur, line: i + 2, place: m[1], file: strings.TrimSpace(m[2]), refused: m[3] != "", yaml: text}
			i = end
			if ex.refused {
				if i+1 >= len(lines) || lines[i+1] != "```text" {
					t.Errorf("%s:%d: a refused example must be followed by a ```text block listing its problems", docsFile, ex.line)
				} else {
					problems, close := block(i + 1)
					ex.problems = strings.Split(strings.TrimSuffix(problems, "\n"), "\n")
					i = close
				}
			}
			examples = append(examples, ex)
		case strings.HasPrefix(line, "```") && line != "```" && line != "```text" && line != "```sh":
			t.Errorf("%s:%d: code block %q; use yaml (checked), text or sh", docsFile, i+1, line)
		}
	}
	return sections, examples
}

// previousLine is the last non-blank line before lines[i].
func previousLine(lines []string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if strings.TrimSpace(lines[j]) != "" {
			return lines[j]
		}
	}
	return ""
}

// TestDocsDocumentEveryKey: each accepted key path has its section in
// docs/policy.md, and each key path documented there is accepted.
func TestDocsDocumentEveryKey(t *testing.T) {
	sections, _ := readDocs(t)
	documented := map[string]int{}
	for _, s := range sections {
		if s.keyPath == "" {
			continue
		}
		if first, dup := documented[s.keyPath]; dup {
			t.Errorf("%s:%d: `%s` is documented twice (first on line %d)", docsFile, s.line, s.keyPath, first)
		}
		documented[s.keyPath] = s.line
	}
	accepted := acceptedKeyPaths()
	for _, p := range accepted {
		if _, ok := documented[p]; !ok {
			t.Errorf("the loader accepts `%s`, which %s does not document: add a section with the heading ### `%s`", p, docsFile, p)
		}
	}
	for p, line := range documented {
		if !slices.Contains(accepted, p) {
			t.Errorf("%s:%d: documents `%s`, which the loader does not accept", docsFile, line, p)
		}
	}
}

// TestDocsKeySectionsHaveExamples: every key section shows an example that
// writes that key.
func TestDocsKeySectionsHaveExamples(t *testing.T) {
	sections, examples := readDocs(t)
	shown := map[string]bool{}
	for _, ex := range examples {
		shown[ex.section.keyPath] = true
	}
	for _, s := range sections {
		if s.keyPath != "" && !shown[s.keyPath] {
			t.Errorf("%s:%d: `%s` has no ```yaml example", docsFile, s.line, s.keyPath)
		}
	}
}

// TestDocsExamples puts every example through Parse, as the doc says it
// goes: whole files and fragments put into docsBase pass, refused examples
// fail with exactly the problems shown.
func TestDocsExamples(t *testing.T) {
	_, examples := readDocs(t)
	if len(examples) == 0 {
		t.Fatal("no examples found")
	}
	for _, ex := range examples {
		name := ex.section.heading
		t.Run(name, func(t *testing.T) {
			at := docsFile + ":" + strconv.Itoa(ex.line)
			var example yaml.Node
			if err := yaml.Unmarshal([]byte(ex.yaml), &example); err != nil {
				t.Fatalf("%s: not YAML: %v", at, err)
			}
			doc, prefix := []byte(ex.yaml), ""
			if ex.place != "file" {
				var err error
				doc, err = placeFragment(&example, ex.place)
				if err != nil {
					t.Fatalf("%s: %v", at, err)
				}
				prefix = examplePlaces[ex.place].prefix
			}
			if ex.section.keyPath != "" && !slices.Contains(keyPathsOf(&example, prefix), ex.section.keyPath) {
				t.Errorf("%s: the example under `%s` does not write that key; it writes %v", at, ex.section.keyPath, keyPathsOf(&example, prefix))
			}
			_, err := Parse(ex.section.heading, doc)
			switch {
			case !ex.refused && err != nil && ex.place == "file":
				t.Errorf("%s: the example is refused:\n%v", at, err)
			case !ex.refused && err != nil:
				t.Errorf("%s: the example is refused:\n%v\nput into the small policy:\n%s", at, err, doc)
			case ex.refused && err == nil:
				t.Errorf("%s: the example shown as refused parses", at)
			case ex.refused:
				if got := fieldProblems(err); !slices.Equal(got, ex.problems) {
					t.Errorf("%s: the doc shows the problems\n  %s\nParse reports\n  %s", at, strings.Join(ex.problems, "\n  "), strings.Join(got, "\n  "))
				}
			}
		})
	}
}

// TestDocsEntraExample: policies/testdata/entra.yaml is the doc's complete
// Entra example, and it parses.
func TestDocsEntraExample(t *testing.T) {
	_, examples := readDocs(t)
	const want = "testdata/entra.yaml"
	var found bool
	for _, ex := range examples {
		if ex.file == "" {
			continue
		}
		if ex.file != want || ex.place != "file" || ex.refused {
			t.Errorf("%s:%d: example names file %q; only <!-- example: file %s --> is known", docsFile, ex.line, ex.file, want)
			continue
		}
		found = true
		data, err := os.ReadFile(ex.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, []byte(ex.yaml)) {
			t.Errorf("policies/%s differs from the example at %s:%d; copy one to the other", want, docsFile, ex.line)
		}
		if _, err := Parse(want, data); err != nil {
			t.Errorf("policies/%s is refused:\n%v", want, err)
		}
	}
	if !found {
		t.Errorf("%s has no <!-- example: file %s --> example", docsFile, want)
	}
}

// placeFragment puts the fragment's keys over docsBase's mapping at place
// and returns the whole policy.
func placeFragment(fragment *yaml.Node, place string) ([]byte, error) {
	var base yaml.Node
	if err := yaml.Unmarshal([]byte(docsBase), &base); err != nil {
		return nil, err
	}
	target := base.Content[0]
	for _, step := range examplePlaces[place].path {
		switch s := step.(type) {
		case string:
			target = mappingValue(target, s)
		case int:
			target = target.Content[s]
		}
	}
	frag := fragment.Content[0]
	if frag.Kind != yaml.MappingNode {
		return nil, errors.New("a fragment must be a mapping of keys")
	}
	for i := 0; i+1 < len(frag.Content); i += 2 {
		key, value := frag.Content[i], frag.Content[i+1]
		if v := mappingValue(target, key.Value); v != nil {
			*v = *value
		} else {
			target.Content = append(target.Content, key, value)
		}
	}
	return yaml.Marshal(&base)
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyPathsOf lists the key paths a YAML document writes, under prefix.
func keyPathsOf(doc *yaml.Node, prefix string) []string {
	var out []string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := field(path, n.Content[i].Value)
				out = append(out, p)
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		}
	}
	walk(doc, prefix)
	return out
}

// fieldProblems lists Parse's problems as "field: message".
func fieldProblems(err error) []string {
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var out []string
	for _, e := range errs {
		var fe *FieldError
		if !errors.As(e, &fe) {
			out = append(out, e.Error())
			continue
		}
		if fe.Path == "" {
			out = append(out, fe.Msg)
		} else {
			out = append(out, fe.Path+": "+fe.Msg)
		}
	}
	return out
}
