package graphemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateVersion is written into the state file so a future format can tell
// old files apart.
const stateVersion = 1

// savedRequests bounds how many schedule requests the state file keeps:
// they only serve GET by id, and rewriting an ever-growing file on every
// change would slow long dev sessions and benchmarks down.
const savedRequests = 200

// state is the on-disk form.
type state struct {
	Version   int               `json:"version"`
	Instances []Instance        `json:"instances"`
	Requests  []ScheduleRequest `json:"requests"`
	// Eligibilities came later; older files have none.
	Eligibilities []Eligibility `json:"eligibilities,omitempty"`
}

// loadState reads the state file; a missing file is an empty state.
func loadState(path string) (state, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return state{Version: stateVersion}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("graph emulator state: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return state{}, fmt.Errorf("graph emulator state %s is not valid JSON (move it away to start empty): %w", path, err)
	}
	if st.Version != stateVersion {
		return state{}, fmt.Errorf("graph emulator state %s has version %d; this jitflow reads version %d", path, st.Version, stateVersion)
	}
	return st, nil
}

// saveLocked writes the state to a temporary file and renames it over the
// old one, so a crash mid-write never leaves a torn file. There is no fsync:
// this is dev data, and a process crash cannot undo a completed rename.
func (e *Emulator) saveLocked() error {
	if e.statePath == "" {
		return nil
	}
	reqs := e.requests
	if len(reqs) > savedRequests {
		reqs = reqs[len(reqs)-savedRequests:]
	}
	data, err := json.Marshal(state{Version: stateVersion, Instances: e.instances, Requests: reqs, Eligibilities: e.eligibilities})
	if err != nil {
		return fmt.Errorf("graph emulator state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(e.statePath), ".graph-state-*.tmp")
	if err != nil {
		return fmt.Errorf("graph emulator state: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("graph emulator state %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("graph emulator state %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), e.statePath); err != nil {
		return fmt.Errorf("graph emulator state: %w", err)
	}
	return nil
}
