package graphemu

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Fault makes the next Count Graph calls fail with Status. When
// RetryAfterSeconds is set (0 included), the answers carry Retry-After.
// Method, Path and Action narrow which calls it fails: the HTTP method, a
// piece of the URL path (case-insensitive, e.g.
// "roleAssignmentScheduleRequests", or "transitiveMembers/" for the
// members of groups), and a schedule request's action (e.g.
// "adminRemove"); calls that do not match pass through untouched.
type Fault struct {
	Status            int    `json:"status"`
	Count             int    `json:"count"`
	RetryAfterSeconds *int   `json:"retry_after_seconds,omitempty"`
	Method            string `json:"method,omitempty"`
	Path              string `json:"path,omitempty"`
	Action            string `json:"action,omitempty"`
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

// takeFault consumes one call's worth of the first pending fault that
// matches the call.
func (e *Emulator) takeFault(r *http.Request) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	action := ""
	for i, f := range e.faults {
		if f.Action != "" && action == "" {
			action = peekAction(r)
		}
		if !f.matches(r, action) {
			continue
		}
		e.faults[i].Count--
		if e.faults[i].Count == 0 {
			e.faults = slices.Delete(e.faults, i, i+1)
		}
		f.Count--
		return f, true
	}
	return Fault{}, false
}

func (f Fault) matches(r *http.Request, action string) bool {
	return (f.Method == "" || strings.EqualFold(f.Method, r.Method)) &&
		(f.Path == "" || strings.Contains(strings.ToLower(r.URL.Path), strings.ToLower(f.Path))) &&
		(f.Action == "" || strings.EqualFold(f.Action, action))
}

// peekAction reads a schedule request's action from the body and puts the
// body back for the handler. A body that cannot be read has no action.
func peekAction(r *http.Request) string {
	if r.Body == nil || r.Method != http.MethodPost {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	var body struct {
		Action string `json:"action"`
	}
	src := io.Reader(bytes.NewReader(data))
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return ""
		}
		defer zr.Close()
		src = io.LimitReader(zr, maxBody)
	}
	if json.NewDecoder(src).Decode(&body) != nil {
		return ""
	}
	return body.Action
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
			fmt.Sprintf(`Bad fault: %v. Send {"status":429,"count":3,"retry_after_seconds":1} (status 400-599, count 1 or more; optional: retry_after_seconds, and method, path and action to fail only matching calls, e.g. "action":"adminRemove").`, err)})
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
