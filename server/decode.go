package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/jitflow/jitflow/freetext"
)

// maxBodyBytes bounds every request body: requests are small, and a bound
// keeps a client from filling memory or workflow history.
const maxBodyBytes = 64 << 10

// decodeStrict reads the body as one JSON object into dst (a pointer to a
// struct), refusing unknown fields, wrong types, trailing data, bytes that
// are not UTF-8, duplicate keys and text the freetext rule refuses, with
// errors that name the field at fault. With allowEmpty an absent body leaves
// dst as it is.
//
// A string field is single-line unless its tag says `text:"multiline"`;
// there CRLF line breaks become plain ones before the check.
func decodeStrict(c echo.Context, dst any, allowEmpty bool) error {
	r := c.Request()
	data, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return problemf(http.StatusRequestEntityTooLarge, "request body is over the limit of %d bytes", maxBodyBytes)
		}
		return problemf(http.StatusBadRequest, "cannot read the request body: %v", err)
	}
	names := jsonNames(dst)
	fields := listNames(names)
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return nil
		}
		return problemf(http.StatusBadRequest, "request body is empty; send a JSON object with the fields %s", fields)
	}
	if !utf8.Valid(data) {
		// encoding/json would quietly turn such bytes into U+FFFD.
		at := invalidUTF8At(data)
		return problemf(http.StatusBadRequest, "request body is not UTF-8: byte %d (0x%02X) is not part of a UTF-8 character; send JSON in UTF-8", at, data[at])
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, fields)
	}
	if dec.More() {
		return problemf(http.StatusBadRequest, "request body holds more than one JSON value; send one object with the fields %s", fields)
	}
	if err := duplicateKeys(data); err != nil {
		return err
	}
	if err := exactNames(data, names, fields); err != nil {
		return err
	}
	return checkText(dst)
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return 0
}

// duplicateKeys refuses an object, at any depth, that names a key twice:
// encoding/json would keep the last, so what a proxy or a log reads first
// could differ from what jitflow acts on. data is valid JSON here.
func duplicateKeys(data []byte) error {
	type frame struct {
		object  bool
		path    string // where this value sits, such as "a.b" or "a[]"
		keys    map[string]bool
		wantKey bool   // in an object, the next token is a key or its end
		key     string // in an object, the path of the last key read
	}
	var stack []*frame
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	valueDone := func() {
		if f := top(); f != nil && f.object {
			f.wantKey = true
		}
	}
	childPath := func() string {
		f := top()
		switch {
		case f == nil:
			return ""
		case f.object:
			return f.key
		}
		return f.path + "[]"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or an error the decode before this reported
		}
		if f := top(); f != nil && f.object && f.wantKey {
			if k, ok := tok.(string); ok {
				name := k
				if f.path != "" {
					name = f.path + "." + k
				}
				if f.keys[k] {
					return fieldError(http.StatusBadRequest, name, "field %q appears more than once in the request body; send each field once", name)
				}
				f.keys[k], f.key, f.wantKey = true, name, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, path: childPath(), keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: childPath()})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// checkText applies the freetext rule to each string field of dst (a
// pointer to a struct).
func checkText(dst any) error {
	v := reflect.ValueOf(dst)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String || !v.Field(i).CanSet() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		lines := freetext.SingleLine
		if f.Tag.Get("text") == "multiline" {
			lines = freetext.MultiLine
			v.Field(i).SetString(freetext.Normalize(v.Field(i).String()))
		}
		if err := freetext.Check(name, v.Field(i).String(), lines); err != nil {
			return fieldError(http.StatusBadRequest, name, "%v", err)
		}
	}
	return nil
}

// exactNames refuses keys that differ from a field's name only in case,
// which encoding/json would quietly accept.
func exactNames(data []byte, names []string, fields string) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil // not an object (null): nothing was set
	}
	for k := range raw {
		if !slices.Contains(names, k) {
			return fieldError(http.StatusBadRequest, k, "unknown field %q; accepted fields: %s (names are case-sensitive)", k, fields)
		}
	}
	return nil
}

func jsonError(err error, fields string) *apiError {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return problemf(http.StatusBadRequest, "request body is not valid JSON (at byte %d): %v", syntax.Offset, syntax)
	case errors.As(err, &typ) && typ.Field == "":
		return problemf(http.StatusBadRequest, "request body must be a JSON object with the fields %s, not a JSON %s", fields, typ.Value)
	case errors.As(err, &typ):
		return fieldError(http.StatusBadRequest, typ.Field, "field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problemf(http.StatusBadRequest, "request body is cut short: the JSON object is not closed")
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		return fieldError(http.StatusBadRequest, field, "unknown field %s; accepted fields: %s", name, fields)
	}
	return problemf(http.StatusBadRequest, "cannot read the request body: %v", err)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64, reflect.Float32, reflect.Uint, reflect.Uint64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// jsonNames lists the JSON names of dst's fields.
func jsonNames(dst any) []string {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// listNames formats names for error messages.
func listNames(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(quoted, ", ")
}
