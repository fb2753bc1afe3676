package policies

import (
	_ "embed"
	"fmt"
)

// DevYAML is the embedded policies/dev.yaml text.
//
//go:embed dev.yaml
var DevYAML []byte

// Dev returns the built-in dev policy parsed from the embedded
// policies/dev.yaml. Each call parses afresh, so callers may change what
// they get (tests shorten timeouts) without touching anyone else's copy. It
// panics only if the embedded file is broken, which a test guards.
func Dev() *Policy {
	p, err := Parse("policies/dev.yaml", DevYAML)
	if err != nil {
		panic(fmt.Sprintf("embedded dev policy: %v", err))
	}
	return p
}
