package workflows

import "github.com/jitflow/jitflow/freetext"

// checkText refuses free text the freetext rule refuses, so an update sent
// to Temporal directly cannot put it in history either.
func checkText(field, s string) error {
	if err := freetext.Check(field, s, freetext.MultiLine); err != nil {
		return invalid("%v", err)
	}
	return nil
}
