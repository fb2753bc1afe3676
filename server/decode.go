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

	"github.com/labstack/echo/v4"
)

// maxBodyBytes bounds every request body: requests are small, and a bound
// keeps a client from filling memory or workflow history.
const maxBodyBytes = 64 << 10

// decodeStrict reads the body as one JSON object into dst (a pointer to a
// struct), refusing unknown fields, wrong types and trailing data, with
// errors that name the field at fault. With allowEmpty an absent body leaves
// dst as it is.
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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, fields)
	}
	if dec.More() {
		return problemf(http.StatusBadRequest, "request body holds more than one JSON value; send one object with the fields %s", fields)
	}
	return exactNames(data, names, fields)
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
