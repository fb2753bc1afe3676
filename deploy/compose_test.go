// Package deploy checks the production deployment files at the root of the
// repository (docker-compose.yml, Dockerfile). Docker does not run in CI;
// these tests read the files the way Docker Compose and Docker would.
package deploy

import (
	"context"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// requiredEnv are the variables the file insists on (${VAR:?...}).
var requiredEnv = map[string]string{
	"AZURE_TENANT_ID":  "00000000-0000-0000-0000-000000000001",
	"AZURE_CLIENT_ID":  "00000000-0000-0000-0000-000000000002",
	"JITFLOW_AUDIENCE": "00000000-0000-0000-0000-000000000003,api://jitflow",
}

func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: maps.Clone(env), // the loader adds to it
	}, func(o *loader.Options) { o.SetProjectName("jitflow", true) })
}

func project(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadCompose(t, requiredEnv)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

// pinned is an image reference with an exact version tag: no "latest", no
// bare major version that moves under you.
var pinned = regexp.MustCompile(`^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?([-.][a-z0-9.]+)?$`)

func TestComposeServicesAndImages(t *testing.T) {
	p := project(t)
	want := map[string]string{
		"postgresql":         "postgres:",
		"temporal-schema":    "temporalio/admin-tools:1.32.1",
		"temporal":           "temporalio/server:1.32.1",
		"temporal-namespace": "temporalio/admin-tools:1.32.1",
		"temporal-ui":        "temporalio/ui:2.54.1",
		"jitflow-server":     "jitflow:",
		"jitflow-worker":     "jitflow:",
	}
	if got := slices.Sorted(maps.Keys(p.Services)); len(got) != len(want) {
		t.Errorf("services = %v, want %d of them", got, len(want))
	}
	for name, prefix := range want {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		// jitflow's own image is built here and tagged with its version;
		// every pulled image has an exact version tag.
		built := s.Build != nil
		if !strings.HasPrefix(s.Image, prefix) || strings.HasSuffix(s.Image, ":latest") || (!built && !pinned.MatchString(s.Image)) {
			t.Errorf("%s image = %q, want a pinned %s...", name, s.Image, prefix)
		}
	}
	for _, name := range []string{"jitflow-server", "jitflow-worker"} {
		b := p.Services[name].Build
		if b == nil || b.Context == "" || b.Dockerfile != "Dockerfile" {
			t.Errorf("%s is not built from the repository's Dockerfile: %+v", name, b)
		}
	}
}

func TestComposeDependencies(t *testing.T) {
	p := project(t)
	tests := []struct {
		service, on, condition string
	}{
		{"temporal-schema", "postgresql", types.ServiceConditionHealthy},
		{"temporal", "temporal-schema", types.ServiceConditionCompletedSuccessfully},
		{"temporal-namespace", "temporal", types.ServiceConditionHealthy},
		{"temporal-ui", "temporal", types.ServiceConditionHealthy},
		{"jitflow-server", "temporal-namespace", types.ServiceConditionCompletedSuccessfully},
		{"jitflow-worker", "temporal-namespace", types.ServiceConditionCompletedSuccessfully},
	}
	for _, tt := range tests {
		dep, ok := p.Services[tt.service].DependsOn[tt.on]
		if !ok || dep.Condition != tt.condition {
			t.Errorf("%s depends on %s with %+v, want condition %s", tt.service, tt.on, dep, tt.condition)
		}
	}
}

func TestComposePortsAndHealthchecks(t *testing.T) {
	p := project(t)
	ports := map[string]string{"temporal": "7233:7233", "temporal-ui": "8233:8080", "jitflow-server": "8080:8080"}
	for name, want := range ports {
		var got []string
		for _, pc := range p.Services[name].Ports {
			got = append(got, pc.Published+":"+strconv.FormatUint(uint64(pc.Target), 10))
		}
		if !slices.Contains(got, want) {
			t.Errorf("%s publishes %v, want %s", name, got, want)
		}
	}
	for name, s := range p.Services {
		if len(s.Ports) > 0 && !slices.Contains([]string{"temporal", "temporal-ui", "jitflow-server"}, name) {
			t.Errorf("%s publishes ports %v; only Temporal, its UI and the API should", name, s.Ports)
		}
	}
	health := map[string]string{
		"postgresql":     "pg_isready",
		"temporal":       "7233",
		"jitflow-server": "/healthz",
		"jitflow-worker": "/metrics",
	}
	for name, want := range health {
		hc := p.Services[name].HealthCheck
		if hc == nil || hc.Disable || !strings.Contains(strings.Join(hc.Test, " "), want) || hc.Interval == nil || hc.Retries == nil {
			t.Errorf("%s healthcheck = %+v, want one checking %s with interval and retries", name, hc, want)
		}
	}
}

func TestComposeEnvironment(t *testing.T) {
	p := project(t)
	env := func(service, key string) string {
		v := p.Services[service].Environment[key]
		if v == nil {
			return ""
		}
		return *v
	}
	tests := []struct{ service, key, want string }{
		{"temporal", "DB", "postgres12"},
		{"temporal", "POSTGRES_SEEDS", "postgresql"},
		{"temporal-namespace", "NAMESPACE", "jitflow"},
		{"temporal-namespace", "RETENTION", "8760h"},
		{"temporal-ui", "TEMPORAL_ADDRESS", "temporal:7233"},
		{"jitflow-server", "TEMPORAL_ADDRESS", "temporal:7233"},
		{"jitflow-server", "TEMPORAL_NAMESPACE", "jitflow"},
		{"jitflow-server", "JITFLOW_AUDIENCE", requiredEnv["JITFLOW_AUDIENCE"]},
		{"jitflow-server", "JITFLOW_POLICY", "/etc/jitflow/policy.yaml"},
		{"jitflow-worker", "TEMPORAL_ADDRESS", "temporal:7233"},
		{"jitflow-worker", "TEMPORAL_NAMESPACE", "jitflow"},
		{"jitflow-worker", "AZURE_TENANT_ID", requiredEnv["AZURE_TENANT_ID"]},
		{"jitflow-worker", "JITFLOW_AUDIT_SINK", "/var/lib/jitflow/audit-export.jsonl"},
	}
	for _, tt := range tests {
		if got := env(tt.service, tt.key); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.service, tt.key, got, tt.want)
		}
	}
	// The namespace step creates the namespace with the retention and
	// every search attribute the workflow upserts.
	script := strings.Join(p.Services["temporal-namespace"].Command, " ")
	for _, want := range []string{"--retention", "JitflowStatus:Keyword", "JitflowRole:Keyword", "JitflowRequesterId:Keyword", "JitflowApproverIds:KeywordList"} {
		if !strings.Contains(script, want) {
			t.Errorf("namespace step lacks %q", want)
		}
	}
	schema := strings.Join(p.Services["temporal-schema"].Command, " ")
	for _, want := range []string{"--plugin postgres12", "temporal_visibility", "update-schema"} {
		if !strings.Contains(schema, want) {
			t.Errorf("schema step lacks %q", want)
		}
	}
}

// TestComposeNeedsSecretsFromEnvironment: without the Azure settings the
// file refuses to load, naming what is missing, rather than starting a
// worker that cannot reach Graph.
func TestComposeNeedsSecretsFromEnvironment(t *testing.T) {
	for key := range requiredEnv {
		env := map[string]string{}
		for k, v := range requiredEnv {
			if k != key {
				env[k] = v
			}
		}
		_, err := loadCompose(t, env)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("without %s: err = %v, want one naming it", key, err)
		}
	}
}
