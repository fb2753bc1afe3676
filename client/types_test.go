package client

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/jitflow/jitflow/api"
)

// The client's own wrappers add only Raw to the API's types: a field the
// API answers is a field the client decodes.
func TestWrappersKeepTheAPIsFields(t *testing.T) {
	tests := []struct {
		client, api any
	}{
		{Request{}, api.Request{}},
		{Audit{}, api.AuditTrail{}},
		{ListPage{}, api.RequestList{}},
	}
	for _, tt := range tests {
		got, want := fieldsOf(reflect.TypeOf(tt.client)), fieldsOf(reflect.TypeOf(tt.api))
		if !slices.Equal(got, want) {
			t.Errorf("%T decodes %v, %T has %v", tt.client, got, tt.api, want)
		}
	}
}

// fieldsOf lists the JSON fields encoding/json sees, with their types.
func fieldsOf(typ reflect.Type) []string {
	var out []string
	for _, f := range reflect.VisibleFields(typ) {
		tag := f.Tag.Get("json")
		if tag == "-" || f.Anonymous || !f.IsExported() {
			continue
		}
		elem := f.Type
		if elem.Kind() == reflect.Slice {
			elem = elem.Elem()
		}
		if elem == reflect.TypeOf(Request{}) {
			elem = reflect.TypeOf(api.Request{})
		}
		out = append(out, tag+" "+elem.String())
	}
	slices.Sort(out)
	return out
}

// What the server answers beyond the old copy of its types reaches the
// client's fields.
func TestRequestDecodesEveryField(t *testing.T) {
	const answer = `{"id":"req-1","group_id":"g-1","access_id":"member",
		"decisions":[{"approver":"bob@example.com","decision":"approve","stage":1,"extension":2}],
		"extension":{"number":2,"status":"pending_approval","duration":"30m0s","duration_seconds":1800}}`
	var r Request
	if err := json.Unmarshal([]byte(answer), &r); err != nil {
		t.Fatal(err)
	}
	if r.GroupID != "g-1" || r.AccessID != "member" || r.Decisions[0].Extension != 2 || r.Extension.DurationSecs != 1800 {
		t.Errorf("request = %+v", r.Request)
	}
}
