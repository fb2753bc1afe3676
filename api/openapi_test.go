package api_test

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/jitflow/jitflow/api"
)

// documented maps each schema of server/openapi.yaml to the Go type that
// carries it on the wire.
var documented = map[string]any{
	"Status":        api.Status(""),
	"Request":       api.Request{},
	"Decision":      api.Decision{},
	"Approver":      api.Approver{},
	"ExtensionView": api.ExtensionView{},
	"RequestList":   api.RequestList{},
	"AuditEvent":    api.AuditEvent{},
	"AuditRequest":  api.AuditRequest{},
	"AuditTrail":    api.AuditTrail{},
	"Problem":       api.Problem{},
	"CreateRequest": api.CreateBody{},
	"DecideBody":    api.DecideBody{},
	"CancelBody":    api.CancelBody{},
	"RevokeBody":    api.RevokeBody{},
	"ExtendBody":    api.ExtendBody{},

	"RoleList":          api.RoleList{},
	"Role":              api.Role{},
	"RoleDuration":      api.RoleDuration{},
	"JustificationRule": api.JustificationRule{},
	"TicketRule":        api.TicketRule{},
	"StepUpRule":        api.StepUpRule{},
	"ExtensionRule":     api.ExtensionRule{},
	"RoleStage":         api.RoleStage{},
	"RoleTier":          api.RoleTier{},
	"RoleApprover":      api.RoleApprover{},
	"AutoApproveRule":   api.AutoApproveRule{},
}

// inline are the operations whose answers are not API objects: readiness,
// and the document itself.
var inline = []string{"health", "openapi"}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../server/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// TestSpecMatchesTypes holds server/openapi.yaml and the wire types to each
// other: every body and answer of every operation is a documented schema,
// every schema is a Go type, and each property is a JSON field of it with
// the same type, required exactly when the field is always sent, nullable
// exactly when it is sent as null.
func TestSpecMatchesTypes(t *testing.T) {
	doc := loadSpec(t)
	schemas := doc.Components.Schemas
	for name := range schemas {
		if _, ok := documented[name]; !ok {
			t.Errorf("schema %s has no Go type in the test's map", name)
		}
	}
	bodies := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					bodies[refName(t, where+" body", mt.Schema, op.OperationID)] = true
				}
			}
			for status, resp := range op.Responses.Map() {
				for _, mt := range resp.Value.Content {
					refName(t, where+" "+status, mt.Schema, op.OperationID)
				}
			}
		}
	}
	for name, v := range documented {
		s, ok := schemas[name]
		if !ok {
			t.Errorf("%T is mapped to schema %s, which openapi.yaml lacks", v, name)
			continue
		}
		if name == "Status" {
			checkStatuses(t, s.Value)
			continue
		}
		checkObject(t, name, s.Value, reflect.TypeOf(v), bodies[name])
	}
}

// refName is the schema a body or answer refers to; inline schemas are
// allowed only for the operations listed in inline.
func refName(t *testing.T, where string, s *openapi3.SchemaRef, op string) string {
	t.Helper()
	name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
	if !ok {
		if !slices.Contains(inline, op) {
			t.Errorf("%s: an inline schema; refer to a component schema with a Go type", where)
		}
		return ""
	}
	return name
}

func checkStatuses(t *testing.T, s *openapi3.Schema) {
	t.Helper()
	var specified []string
	for _, v := range s.Enum {
		specified = append(specified, v.(string))
	}
	var statuses []string
	for _, st := range api.Statuses {
		statuses = append(statuses, string(st))
	}
	if !slices.Equal(specified, statuses) {
		t.Errorf("Status: openapi.yaml has %v, api.Statuses %v", specified, statuses)
	}
}

// field is a JSON field of a Go struct.
type field struct {
	typ       reflect.Type
	omitempty bool
}

// jsonFields lists the fields encoding/json writes, embedded structs'
// included.
func jsonFields(typ reflect.Type) map[string]field {
	out := map[string]field{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = field{typ: f.Type, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty")}
	}
	return out
}

// checkObject compares one schema with its Go type. An answer's property
// is required exactly when the field has no omitempty (it is always sent),
// and nullable exactly when it is a pointer without omitempty (sent as
// null). A body's required property must not be left out when the client
// sends it empty.
func checkObject(t *testing.T, name string, s *openapi3.Schema, typ reflect.Type, body bool) {
	t.Helper()
	fields := jsonFields(typ)
	var specified, declared []string
	for p := range s.Properties {
		specified = append(specified, p)
	}
	for f := range fields {
		declared = append(declared, f)
	}
	sort.Strings(specified)
	sort.Strings(declared)
	if !slices.Equal(specified, declared) {
		t.Errorf("%s: openapi.yaml has properties %v, %s has JSON fields %v", name, specified, typ, declared)
	}
	for p, ref := range s.Properties {
		f, ok := fields[p]
		if !ok {
			continue
		}
		what := name + "." + p
		required := slices.Contains(s.Required, p)
		switch {
		case body && required && f.omitempty:
			t.Errorf("%s: required, but %s leaves it out when empty (omitempty)", what, typ)
		case !body && required != !f.omitempty:
			t.Errorf("%s: required is %v, but %s sends it %s", what, required, typ, map[bool]string{true: "only when set (omitempty)", false: "always"}[f.omitempty])
		}
		nullable := f.typ.Kind() == reflect.Pointer && !f.omitempty
		if !body && ref.Value.Nullable != nullable {
			t.Errorf("%s: nullable is %v, but %s sends it as null: %v", what, ref.Value.Nullable, typ, nullable)
		}
		checkType(t, what, ref, f.typ)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// checkType compares a property's type with its field's Go type.
func checkType(t *testing.T, what string, ref *openapi3.SchemaRef, typ reflect.Type) {
	t.Helper()
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		if want := reflect.TypeOf(documented[name]); typ != want {
			t.Errorf("%s: openapi.yaml refers to %s (%v), the Go field is %v", what, name, want, typ)
		}
		return
	}
	s := ref.Value
	ok := false
	switch {
	case s.Type.Is("string") && s.Format == "date-time":
		ok = typ == timeType
	case s.Type.Is("string"):
		ok = typ.Kind() == reflect.String
	case s.Type.Is("integer"):
		switch typ.Kind() {
		case reflect.Int64:
			ok = s.Format == "int64"
		case reflect.Int, reflect.Int32:
			ok = s.Format == "" || s.Format == "int32"
		}
	case s.Type.Is("boolean"):
		ok = typ.Kind() == reflect.Bool
	case s.Type.Is("array"):
		if ok = typ.Kind() == reflect.Slice; ok {
			checkType(t, what+"[]", s.Items, typ.Elem())
		}
	}
	if !ok {
		t.Errorf("%s: openapi.yaml says %v (format %q), the Go field is %v", what, s.Type.Slice(), s.Format, typ)
	}
}
