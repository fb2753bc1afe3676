package graphemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// Fault makes the next Count Graph calls fail with Status. When
// RetryAfterSeconds is set (0 included), the answers carry Retry-After.
type Fault struct {
	Status            int  `json:"status"`
	Count             int  `json:"count"`
	RetryAfterSeconds *int `json:"retry_after_seconds,omitempty"`
}

// validate names the field that is wrong and what is accepted.
func (f Fault) validate() error {
	switch {
	case f.Status < 400 || f.Status > 599:
		return fmt.Errorf("status must be an HTTP error status from 400 to 599, got %d", f.Status)
	case f.Count < 1:
		return fmt.Errorf("count must be at least 1, got %d", f.Count)
	case f.RetryAfterSeconds != nil && *f.RetryAfterSeconds < 0:
		return fmt.Errorf("retry_after_seconds must be 0 or more, got %d", *f.RetryAfterSeconds)
	}
	return nil
}

// InjectFault queues f after any faults already pending.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("graph emulator fault: %w", err)
	}
	e.queueFault(f)
	return nil
}

func (e *Emulator) queueFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, f)
}

// takeFault consumes one call's worth of the first pending fault.
func (e *Emulator) takeFault() (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) == 0 {
		return Fault{}, false
	}
	f := e.faults[0]
	e.faults[0].Count--
	if e.faults[0].Count == 0 {
		e.faults = e.faults[1:]
	}
	f.Count--
	return f, true
}

// writeFault answers a Graph call with an injected failure. f.Count is how
// many more calls this fault will fail.
func (e *Emulator) writeFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.RetryAfterSeconds != nil {
		w.Header().Set("Retry-After", strconv.Itoa(*f.RetryAfterSeconds))
	}
	e.log.Info("graph emulator: injected fault", "method", r.Method, "path", r.URL.Path, "status", f.Status, "left", f.Count)
	e.writeError(w, &apiError{f.Status, faultCode(f.Status),
		fmt.Sprintf("%s (fault injected by the jitflow Graph emulator; %d more pending in this batch).", http.StatusText(f.Status), f.Count)})
}

// faultList is the body of every /_emulator/faults answer.
type faultList struct {
	Faults []Fault `json:"faults"`
}

func (e *Emulator) pendingFaults() faultList {
	e.mu.Lock()
	defer e.mu.Unlock()
	return faultList{Faults: append([]Fault{}, e.faults...)}
}

// listFaults serves GET /_emulator/faults.
func (e *Emulator) listFaults(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, e.pendingFaults())
}

// addFault serves POST /_emulator/faults with a Fault body.
func (e *Emulator) addFault(w http.ResponseWriter, r *http.Request, _ string) {
	var f Fault
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(&f)
	}
	if err == nil {
		err = f.validate()
	}
	if err != nil {
		e.writeError(w, &apiError{http.StatusBadRequest, CodeMalformedBody,
			fmt.Sprintf(`Bad fault: %v. Send {"status":429,"count":3,"retry_after_seconds":1} (status 400-599, count 1 or more, retry_after_seconds optional).`, err)})
		return
	}
	e.queueFault(f)
	writeJSON(w, http.StatusOK, e.pendingFaults())
}

// clearFaults serves DELETE /_emulator/faults.
func (e *Emulator) clearFaults(w http.ResponseWriter, _ *http.Request, _ string) {
	e.mu.Lock()
	e.faults = nil
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, e.pendingFaults())
}
