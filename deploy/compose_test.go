package deploy

import (
	"bufio"
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// requiredEnv are the variables the file insists on (${VAR:?...}), with
// values for the tests.
var requiredEnv = map[string]string{
	"AZURE_TENANT_ID":       "00000000-0000-0000-0000-000000000001",
	"AZURE_CLIENT_ID":       "00000000-0000-0000-0000-000000000002",
	"JITFLOW_AUDIENCE":      "00000000-0000-0000-0000-000000000003,api://jitflow",
	"JITFLOW_APPROVAL_KEYS": "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
	"JITFLOW_BASE_URL":      "https://jitflow.example.com",
	"JITFLOW_POLICY_FILE":   "/srv/jitflow/policy.yaml",
	"JITFLOW_MAIL_FROM":     "jitflow@example.com",
	"TEMPORAL_DB_PASSWORD":  "not-a-real-password",
}

func repoPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	root := repoPath(t, "")
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: maps.Clone(env), // the loader adds to it
	}, func(o *loader.Options) { o.SetProjectName("jitflow", true) })
}

// projectWith loads the file with the required variables and extra ones.
func projectWith(t *testing.T, extra map[string]string) *types.Project {
	t.Helper()
	env := maps.Clone(requiredEnv)
	maps.Copy(env, extra)
	p, err := loadCompose(t, env)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func project(t *testing.T) *types.Project { return projectWith(t, nil) }

// env is a service's environment variable after interpolation ("" when unset).
func env(p *types.Project, service, key string) string {
	if v := p.Services[service].Environment[key]; v != nil {
		return *v
	}
	return ""
}

// pinned is an image reference with an exact version tag: no "latest", no
// bare major version that moves under you.
var pinned = regexp.MustCompile(`^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?([-.][a-z0-9.]+)?$`)

// jitflowServices run the image built from the repository's Dockerfile.
var jitflowServices = []string{"jitflow-setup", "jitflow-server", "jitflow-worker"}

func TestComposeServicesAndImages(t *testing.T) {
	p := project(t)
	want := map[string]string{
		"postgresql":      "postgres:",
		"temporal-schema": "temporalio/admin-tools:1.32.1",
		"temporal":        "temporalio/server:1.32.1",
		"temporal-ui":     "temporalio/ui:2.54.1",
		"jitflow-setup":   "jitflow:",
		"jitflow-server":  "jitflow:",
		"jitflow-worker":  "jitflow:",
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
	for _, name := range jitflowServices {
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
		{"jitflow-setup", "temporal", types.ServiceConditionHealthy},
		{"temporal-ui", "temporal", types.ServiceConditionHealthy},
		{"jitflow-server", "jitflow-setup", types.ServiceConditionCompletedSuccessfully},
		{"jitflow-worker", "jitflow-setup", types.ServiceConditionCompletedSuccessfully},
	}
	for _, tt := range tests {
		dep, ok := p.Services[tt.service].DependsOn[tt.on]
		if !ok || dep.Condition != tt.condition {
			t.Errorf("%s depends on %s with %+v, want condition %s", tt.service, tt.on, dep, tt.condition)
		}
	}
}

// published lists a service's ports as HOSTIP:PUBLISHED:TARGET.
func published(s types.ServiceConfig) []string {
	var out []string
	for _, pc := range s.Ports {
		out = append(out, pc.HostIP+":"+pc.Published+":"+strconv.FormatUint(uint64(pc.Target), 10))
	}
	return out
}

// TestComposePorts: Temporal's frontend and Web UI are on the host's
// loopback unless the operator opts in; only the API listens on every
// interface.
func TestComposePorts(t *testing.T) {
	p := project(t)
	want := map[string]string{
		"temporal":       "127.0.0.1:7233:7233",
		"temporal-ui":    "127.0.0.1:8233:8080",
		"jitflow-server": "0.0.0.0:8080:8080",
	}
	for name, s := range p.Services {
		got := published(s)
		if w, ok := want[name]; ok {
			if !slices.Equal(got, []string{w}) {
				t.Errorf("%s publishes %v, want [%s]", name, got, w)
			}
		} else if len(got) > 0 {
			t.Errorf("%s publishes ports %v; only Temporal, its UI and the API should", name, got)
		}
	}
	opened := projectWith(t, map[string]string{"TEMPORAL_PUBLISH_IP": "0.0.0.0", "TEMPORAL_UI_PUBLISH_IP": "10.0.0.5"})
	if got := published(opened.Services["temporal"]); !slices.Equal(got, []string{"0.0.0.0:7233:7233"}) {
		t.Errorf("with TEMPORAL_PUBLISH_IP=0.0.0.0 temporal publishes %v", got)
	}
	if got := published(opened.Services["temporal-ui"]); !slices.Equal(got, []string{"10.0.0.5:8233:8080"}) {
		t.Errorf("with TEMPORAL_UI_PUBLISH_IP=10.0.0.5 temporal-ui publishes %v", got)
	}
}

func TestComposeHealthchecks(t *testing.T) {
	p := project(t)
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
	tests := []struct{ service, key, want string }{
		{"temporal", "DB", "postgres12"},
		{"temporal", "POSTGRES_SEEDS", "postgresql"},
		{"temporal", "POSTGRES_PWD", requiredEnv["TEMPORAL_DB_PASSWORD"]},
		{"postgresql", "POSTGRES_PASSWORD", requiredEnv["TEMPORAL_DB_PASSWORD"]},
		{"temporal-ui", "TEMPORAL_ADDRESS", "temporal:7233"},
		// The UI shows histories; changing a workflow goes through
		// jitflow's API, which records who did it.
		{"temporal-ui", "TEMPORAL_DISABLE_WRITE_ACTIONS", "true"},
		{"jitflow-server", "JITFLOW_AUDIENCE", requiredEnv["JITFLOW_AUDIENCE"]},
		{"jitflow-worker", "JITFLOW_AUDIT_SINK", "/var/lib/jitflow/audit-export.jsonl"},
		{"jitflow-worker", "JITFLOW_MAIL_FROM", requiredEnv["JITFLOW_MAIL_FROM"]},
	}
	// Both processes reach the same namespace, with the same credential
	// and the same key list: every replica checks what any other signed.
	for _, s := range []string{"jitflow-server", "jitflow-worker"} {
		for _, kv := range [][2]string{
			{"TEMPORAL_ADDRESS", "temporal:7233"},
			{"TEMPORAL_NAMESPACE", "jitflow"},
			{"AZURE_TENANT_ID", requiredEnv["AZURE_TENANT_ID"]},
			{"AZURE_CLIENT_ID", requiredEnv["AZURE_CLIENT_ID"]},
			{"JITFLOW_APPROVAL_KEYS", requiredEnv["JITFLOW_APPROVAL_KEYS"]},
			{"JITFLOW_BASE_URL", requiredEnv["JITFLOW_BASE_URL"]},
		} {
			tests = append(tests, struct{ service, key, want string }{s, kv[0], kv[1]})
		}
	}
	for _, tt := range tests {
		if got := env(p, tt.service, tt.key); got != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.service, tt.key, got, tt.want)
		}
	}
	schema := strings.Join(p.Services["temporal-schema"].Command, " ")
	for _, want := range []string{"--plugin postgres12", "temporal_visibility", "update-schema"} {
		if !strings.Contains(schema, want) {
			t.Errorf("schema step lacks %q", want)
		}
	}
	setup := p.Services["jitflow-setup"].Command
	for _, want := range []string{"--namespace jitflow", "--retention 8760h", "--temporal-address temporal:7233"} {
		if !strings.Contains(strings.Join(setup, " "), want) {
			t.Errorf("jitflow-setup command %q lacks %q", setup, want)
		}
	}
}

// TestComposeMail: the worker sends through SendGrid; the outbox file is
// used only when JITFLOW_OUTBOX asks for it.
func TestComposeMail(t *testing.T) {
	p := project(t)
	w := p.Services["jitflow-worker"]
	if got := env(p, "jitflow-worker", "JITFLOW_OUTBOX"); got != "" {
		t.Errorf("JITFLOW_OUTBOX = %q by default, want empty (SendGrid)", got)
	}
	if got := env(p, "jitflow-worker", "JITFLOW_MAILER"); got != "" && got != "sendgrid" {
		t.Errorf("JITFLOW_MAILER = %q, want sendgrid or unset", got)
	}
	if slices.Contains(w.Command, "--outbox") || slices.Contains(w.Command, "--mailer") {
		t.Errorf("worker command %v chooses the mailer; JITFLOW_OUTBOX alone should", w.Command)
	}
	if _, ok := w.Environment["SENDGRID_API_KEY"]; !ok {
		t.Error("worker does not get SENDGRID_API_KEY")
	}
	p = projectWith(t, map[string]string{"JITFLOW_OUTBOX": "/var/lib/jitflow/outbox.jsonl", "SENDGRID_API_KEY": "SG.test"})
	if got := env(p, "jitflow-worker", "JITFLOW_OUTBOX"); got != "/var/lib/jitflow/outbox.jsonl" {
		t.Errorf("JITFLOW_OUTBOX set: worker gets %q", got)
	}
	if got := env(p, "jitflow-worker", "SENDGRID_API_KEY"); got != "SG.test" {
		t.Errorf("SENDGRID_API_KEY set: worker gets %q", got)
	}
}

// TestComposePolicy: the server reads the operator's policy file; nothing
// falls back to the dev policy.
func TestComposePolicy(t *testing.T) {
	p := project(t)
	var sources []string
	for _, v := range p.Services["jitflow-server"].Volumes {
		if v.Target == "/etc/jitflow/policy.yaml" {
			sources = append(sources, v.Source)
			if !v.ReadOnly {
				t.Error("policy volume is writable")
			}
		}
	}
	if !slices.Equal(sources, []string{requiredEnv["JITFLOW_POLICY_FILE"]}) {
		t.Errorf("policy mounted from %v, want [%s]", sources, requiredEnv["JITFLOW_POLICY_FILE"])
	}
	if c := p.Services["jitflow-server"].Command; !strings.Contains(strings.Join(c, " "), "--policy /etc/jitflow/policy.yaml") {
		t.Errorf("server command %v does not read the mounted policy", c)
	}
	raw, err := os.ReadFile(repoPath(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, "dev.yaml") && !strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.Contains(line, ":?") {
			t.Errorf("docker-compose.yml uses the dev policy: %s", strings.TrimSpace(line))
		}
	}
}

// TestComposeNeedsSecretsFromEnvironment: without a required setting the
// file refuses to load, naming what is missing, rather than starting a
// deployment that cannot work (or works with a demo policy).
func TestComposeNeedsSecretsFromEnvironment(t *testing.T) {
	raw, err := os.ReadFile(repoPath(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+):\?`).FindAllStringSubmatch(string(raw), -1) {
		required = append(required, m[1])
	}
	if got, want := slices.Compact(slices.Sorted(slices.Values(required))), slices.Sorted(maps.Keys(requiredEnv)); !slices.Equal(got, want) {
		t.Errorf("required variables = %v, the test knows %v", got, want)
	}
	for key := range requiredEnv {
		env := maps.Clone(requiredEnv)
		env[key] = "" // as .env.example leaves it
		_, err := loadCompose(t, env)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("without %s: err = %v, want one naming it", key, err)
		}
	}
}

// readEnvExample returns .env.example's variables and their values.
func readEnvExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(repoPath(t, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf(".env.example: %q is not NAME=value", line)
			continue
		}
		if _, dup := vars[k]; dup {
			t.Errorf(".env.example lists %s twice", k)
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vars
}

// TestEnvExample: .env.example lists exactly the variables the compose
// file reads, and ships no value (no secret, no default that hides the
// file's own).
func TestEnvExample(t *testing.T) {
	raw, err := os.ReadFile(repoPath(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// ${NAME...}, but not $${...}, which compose passes on to the shell.
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?:^|[^$])\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(raw), -1) {
		read[m[1]] = true
	}
	listed := readEnvExample(t)
	for name := range read {
		if _, ok := listed[name]; !ok {
			t.Errorf("docker-compose.yml reads %s; .env.example does not list it", name)
		}
	}
	for name, v := range listed {
		if !read[name] {
			t.Errorf(".env.example lists %s; docker-compose.yml does not read it", name)
		}
		if v != "" {
			t.Errorf(".env.example sets %s=%q; leave every value empty", name, v)
		}
	}
	// Filled in, it is a complete configuration.
	vars := maps.Clone(listed)
	maps.Copy(vars, requiredEnv)
	if _, err := loadCompose(t, vars); err != nil {
		t.Errorf("load with .env.example filled in: %v", err)
	}
}

// TestComposeTopology: the jitflow containers run the commands of
// topology.txt, the same list the Helm chart and the production check
// run, each exactly once.
func TestComposeTopology(t *testing.T) {
	want, err := Topology()
	if err != nil {
		t.Fatal(err)
	}
	p := project(t)
	var got []string
	for _, name := range jitflowServices {
		got = append(got, CommandOf(p.Services[name].Command).String())
	}
	var wantS []string
	for _, c := range want {
		wantS = append(wantS, c.String())
	}
	slices.Sort(got)
	slices.Sort(wantS)
	if !slices.Equal(got, wantS) {
		t.Errorf("compose runs\n  %s\ntopology.txt lists\n  %s", strings.Join(got, "\n  "), strings.Join(wantS, "\n  "))
	}
}
