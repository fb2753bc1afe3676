package policies

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the document after aliases are expanded: a few lines of
// nested aliases can otherwise stand for billions of nodes.
const maxNodes = 100_000

// maxFileSize bounds what Load reads; real policies are a few kilobytes.
const maxFileSize = 4 << 20

// Load reads and validates a policy file.
func Load(path string) (*Policy, error) {
	data, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates policy YAML; name (usually the file path) appears in
// errors. It reports every problem it finds, each as a *FieldError, joined
// and ordered by line.
func Parse(name string, data []byte) (*Policy, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: name}
	p := d.policy(root)
	if len(d.errs) > 0 {
		errs := d.sorted()
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e
		}
		return nil, errors.Join(joined...)
	}
	return p, nil
}

// parseYAML reads exactly one YAML document and returns its top node.
func parseYAML(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && isEmptyDocument(&doc)) {
		return nil, &FieldError{File: name, Msg: "the policy is empty; it needs tenant_id and roles, and users unless it names everyone through Entra (see policies/dev.yaml)"}
	}
	if err != nil {
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &FieldError{File: name, Line: extra.Line, Msg: "a second YAML document starts here; a policy file holds one (remove the \"---\")"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(name, err)
	}
	root := doc.Content[0]
	if n := expandedSize(root, maxNodes); n > maxNodes {
		return nil, &FieldError{File: name, Line: root.Line, Msg: fmt.Sprintf("stands for more than %d YAML nodes once aliases are expanded; write it out plainly", maxNodes)}
	}
	return root, nil
}

func isEmptyDocument(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || isNull(doc.Content[0])
}

// expandedSize counts nodes with aliases expanded, stopping once past limit.
func expandedSize(n *yaml.Node, limit int) int {
	count := 0
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		n = deref(n)
		count++
		for _, c := range n.Content {
			if count > limit {
				return
			}
			walk(c)
		}
	}
	walk(n)
	return count
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns the YAML parser's "yaml: line 3: ..." into "file:3: ...".
func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: name, Line: line, Msg: "not valid YAML: " + m[2]}
	}
	return &FieldError{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}
