package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

func TestSpecServed(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodGet, "/api/openapi.yaml", "", "")
	wantStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.body, OpenAPISpec) || !strings.HasPrefix(r.header.Get("Content-Type"), "application/yaml") {
		t.Errorf("served %d bytes as %q", len(r.body), r.header.Get("Content-Type"))
	}
}

// Every route the API serves is in the spec, and nothing else is.
func TestSpecMatchesRoutes(t *testing.T) {
	doc := loadSpec(t)
	e := newEnv(t)
	var served, specified []string
	for _, r := range e.server.Echo().Routes() {
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				path = strings.Replace(path, seg, "{"+name+"}", 1)
			}
		}
		served = append(served, r.Method+" "+path)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			specified = append(specified, method+" "+path)
		}
	}
	sort.Strings(served)
	sort.Strings(specified)
	if !slices.Equal(served, specified) {
		t.Errorf("routes served:\n  %s\nroutes in openapi.yaml:\n  %s", strings.Join(served, "\n  "), strings.Join(specified, "\n  "))
	}
}

// The fields each handler accepts and answers are the spec's, so neither
// can change without the other.
func TestSpecMatchesFields(t *testing.T) {
	doc := loadSpec(t)
	schemas := doc.Components.Schemas
	bodies := map[string]any{
		"createRequest": createBody{}, "approve": decideBody{}, "deny": decideBody{},
		"cancel": cancelBody{}, "revoke": revokeBody{}, "extend": extendBody{},
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want, ok := bodies[op.OperationID]
			if !ok {
				if op.RequestBody != nil {
					t.Errorf("%s %s has a request body the test does not know", method, path)
				}
				continue
			}
			s := op.RequestBody.Value.Content.Get("application/json").Schema.Value
			if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
				t.Errorf("%s: additionalProperties must be false: the decoder refuses unknown fields", op.OperationID)
			}
			checkFields(t, op.OperationID+" body", s, want)
		}
	}
	// The answers' schemas and their types (package api) are held to each
	// other by api's TestSpecMatchesTypes.
	var params []string
	for _, p := range doc.Paths.Find("/api/v1/requests").Get.Parameters {
		params = append(params, p.Value.Name)
	}
	if !slices.Equal(params, listParams) {
		t.Errorf("list parameters in openapi.yaml %v, accepted %v", params, listParams)
	}
	var statuses []string
	for _, v := range schemas["Status"].Value.Enum {
		statuses = append(statuses, v.(string))
	}
	if !slices.Equal(statuses, strings.Split(statusNames(), ", ")) {
		t.Errorf("Status enum %v, statuses %s", statuses, statusNames())
	}
}

func checkFields(t *testing.T, what string, s *openapi3.Schema, v any) {
	t.Helper()
	var specified []string
	for name := range s.Properties {
		specified = append(specified, name)
	}
	accepted := jsonNames(v)
	sort.Strings(specified)
	sort.Strings(accepted)
	if !slices.Equal(specified, accepted) {
		t.Errorf("%s: openapi.yaml has %v, %s has %v", what, specified, reflect.TypeOf(v), accepted)
	}
}

// validator checks real calls and answers against the spec.
type validator struct {
	t      *testing.T
	router routers.Router
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	doc := loadSpec(t)
	doc.Servers = nil // match any host
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, router: r}
}

func (v *validator) check(req *http.Request, body string, resp response) {
	v.t.Helper()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		v.t.Fatalf("%s %s: not in the spec: %v", req.Method, req.URL.Path, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	req.Body = io.NopCloser(strings.NewReader(body))
	if resp.status < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			v.t.Errorf("%s %s: accepted request breaks the spec: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.status, Header: resp.header,
		Body: io.NopCloser(bytes.NewReader(resp.body)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.t.Errorf("%s %s: answer %d breaks the spec: %v\n%s", req.Method, req.URL.Path, resp.status, err, resp.body)
	}
}

// Real answers, errors included, have the shapes the spec gives.
func TestSpecDescribesAnswers(t *testing.T) {
	e := newEnv(t)
	v := newValidator(t)
	call := func(method, path, user, body string, headers ...string) response {
		t.Helper()
		r := e.call(method, path, user, body, headers...)
		req, _ := http.NewRequest(method, "http://jitflow.test"+path, nil)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if user != "" {
			req.Header.Set("Authorization", "Bearer x")
		}
		for _, h := range headers {
			k, val, _ := strings.Cut(h, ": ")
			req.Header.Add(k, val)
		}
		v.check(req, body, r)
		return r
	}
	r := call(http.MethodPost, "/api/v1/requests", "alice", readerBody, "Idempotency-Key: k1")
	id := r.request(t).ID
	call(http.MethodPost, "/api/v1/requests", "alice", readerBody, "Idempotency-Key: k1")
	call(http.MethodPost, "/api/v1/requests", "alice", `{"role":"reader","duration":"9h","justification":"x"}`)
	call(http.MethodPost, "/api/v1/requests", "alice", `{"role":"reader","extra":1}`)
	call(http.MethodPost, "/api/v1/requests", "", readerBody)
	call(http.MethodGet, "/api/v1/requests", "alice", "")
	call(http.MethodGet, "/api/v1/requests?status=pending_approval&limit=1", "dave", "")
	call(http.MethodGet, "/api/v1/requests?status=nope", "dave", "")
	call(http.MethodGet, "/api/v1/requests/"+id, "alice", "")
	call(http.MethodGet, "/api/v1/requests/"+id, "erin", "")
	call(http.MethodGet, "/api/v1/requests/req-00000000", "alice", "")
	call(http.MethodGet, "/api/v1/requests/"+id+"/audit", "alice", "")
	call(http.MethodPost, "/api/v1/requests/"+id+"/approve", "bob", `{"comment":"ok"}`)
	call(http.MethodPost, "/api/v1/requests/"+id+"/revoke", "alice", `{"reason":"done"}`)
	call(http.MethodGet, "/healthz", "", "")
	call(http.MethodGet, "/api/openapi.yaml", "", "")
}
