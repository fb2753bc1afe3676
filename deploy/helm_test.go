package deploy

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// The chart is checked without a cluster: `helm template` renders it and
// every object is decoded strictly into the Kubernetes API types of
// k8s.io/api (an unknown or misspelt field, or a value of the wrong type
// or format, fails), then held to the rules below. scripts/helm-check.sh
// builds helm and runs these tests with JITFLOW_HELM set.

const chartDir = "helm/jitflow"

func helmBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("JITFLOW_HELM")
	if bin == "" {
		t.Skip("JITFLOW_HELM is not set; scripts/helm-check.sh builds helm and runs these tests")
	}
	return bin
}

// helmTemplate renders the chart with the values files of ci/ and --set
// arguments.
func helmTemplate(t *testing.T, valuesFiles []string, set ...string) (string, error) {
	t.Helper()
	args := []string{"template", "jitflow", chartDir, "--namespace", "jitflow"}
	for _, f := range valuesFiles {
		args = append(args, "--values", filepath.Join(chartDir, "ci", f))
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// manifests are the rendered objects by kind and name.
type manifests struct {
	deployments map[string]*appsv1.Deployment
	services    map[string]*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	accounts    map[string]*corev1.ServiceAccount
	jobs        map[string]*batchv1.Job
	budgets     map[string]*policyv1.PodDisruptionBudget
	netpols     map[string]*networkingv1.NetworkPolicy
}

// decode splits helm's output into objects and decodes each strictly into
// its API type; a kind the chart should not render (a Secret: secrets are
// referenced, never created) is an error.
func decode(t *testing.T, out string) manifests {
	t.Helper()
	m := manifests{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, accounts: map[string]*corev1.ServiceAccount{},
		jobs: map[string]*batchv1.Job{}, budgets: map[string]*policyv1.PodDisruptionBudget{},
		netpols: map[string]*networkingv1.NetworkPolicy{},
	}
	for _, doc := range strings.Split(out, "\n---") {
		if strings.TrimSpace(strings.ReplaceAll(doc, "---", "")) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		if tm.Kind == "" {
			if strings.Contains(doc, ":") {
				t.Errorf("an object without kind:\n%s", doc)
			}
			continue
		}
		var obj metav1.Object
		gvk := tm.APIVersion + " " + tm.Kind
		switch gvk {
		case "apps/v1 Deployment":
			obj = add(t, doc, m.deployments)
		case "v1 Service":
			obj = add(t, doc, m.services)
		case "v1 ConfigMap":
			obj = add(t, doc, m.configMaps)
		case "v1 ServiceAccount":
			obj = add(t, doc, m.accounts)
		case "batch/v1 Job":
			obj = add(t, doc, m.jobs)
		case "policy/v1 PodDisruptionBudget":
			obj = add(t, doc, m.budgets)
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = add(t, doc, m.netpols)
		default:
			t.Errorf("the chart renders %s; it should not (or this test does not know it yet)", gvk)
			continue
		}
		for _, e := range validation.IsDNS1123Subdomain(obj.GetName()) {
			t.Errorf("%s %q: %s", tm.Kind, obj.GetName(), e)
		}
		for k, v := range obj.GetLabels() {
			for _, e := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
				t.Errorf("%s %q label %s=%s: %s", tm.Kind, obj.GetName(), k, v, e)
			}
		}
	}
	return m
}

// add decodes doc into a new T, refusing unknown and duplicate fields,
// and files it under its name.
func add[T any, P interface {
	*T
	metav1.Object
}](t *testing.T, doc string, into map[string]P) metav1.Object {
	t.Helper()
	o := P(new(T))
	if err := yaml.UnmarshalStrict([]byte(doc), o); err != nil {
		t.Errorf("%v\n%s", err, doc)
	}
	into[o.GetName()] = o
	return o
}

// checkPod holds a pod template to the chart's rules: non-root, read-only
// root filesystem, no privilege escalation, resource requests, every mount
// backed by a volume, every secret named.
func checkPod(t *testing.T, what string, spec corev1.PodSpec, probes bool) {
	t.Helper()
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: pod does not run as non-root", what)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
		if v.Secret != nil && v.Secret.SecretName == "" {
			t.Errorf("%s: volume %s names no secret", what, v.Name)
		}
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s/%s: securityContext %+v, want a read-only root, no privilege escalation, all capabilities dropped", what, c.Name, sc)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
			t.Errorf("%s/%s: no cpu and memory requests", what, c.Name)
		}
		for _, vm := range c.VolumeMounts {
			if _, ok := volumes[vm.Name]; !ok {
				t.Errorf("%s/%s mounts %s, which is no volume of the pod", what, c.Name, vm.Name)
			}
		}
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && (r.SecretKeyRef.Name == "" || r.SecretKeyRef.Key == "") {
				t.Errorf("%s/%s: env %s refers to secret %q key %q", what, c.Name, e.Name, r.SecretKeyRef.Name, r.SecretKeyRef.Key)
			}
		}
		if !probes {
			continue
		}
		ports := map[string]bool{}
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
		for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil || !ports[p.HTTPGet.Port.String()] {
				t.Errorf("%s/%s: %s probe %+v, want an HTTP probe on a named port of the container", what, c.Name, name, p)
			}
		}
	}
}

func envOf(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

// selects reports whether a label selector matches the pod labels.
func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("selector %+v: %v", sel, err)
		return false
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

// checkChart holds a rendering to the rules every values file must keep.
func checkChart(t *testing.T, m manifests, exactTopology bool) {
	t.Helper()
	server, worker := m.deployments["jitflow-server"], m.deployments["jitflow-worker"]
	if server == nil || worker == nil || len(m.deployments) != 2 {
		t.Fatalf("deployments %v, want jitflow-server and jitflow-worker", slices.Sorted(maps.Keys(m.deployments)))
	}
	want, err := Topology()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Command{}
	for _, c := range want {
		byName[c.Name] = c
	}
	runs := func(what string, args []string) {
		got := CommandOf(args)
		w := byName[got.Name]
		ok := got.String() == w.String()
		if !exactTopology {
			ok = got.Name == w.Name
			for _, f := range w.Flags {
				ok = ok && slices.Contains(got.Flags, f)
			}
		}
		if !ok {
			t.Errorf("%s runs %q, topology.txt has %q", what, got, w)
		}
	}
	var keySecrets []string
	for _, d := range []*appsv1.Deployment{server, worker} {
		checkPod(t, d.Name, d.Spec.Template.Spec, true)
		if !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("%s: selector %v does not match its pods %v", d.Name, d.Spec.Selector, d.Spec.Template.Labels)
		}
		c := d.Spec.Template.Spec.Containers[0]
		runs(d.Name, c.Args)
		// The one secret: every server and worker mounts the same key list.
		if envOf(c)["JITFLOW_APPROVAL_KEYS_FILE"] != "/etc/jitflow/keys/approval-keys" {
			t.Errorf("%s: JITFLOW_APPROVAL_KEYS_FILE = %q", d.Name, envOf(c)["JITFLOW_APPROVAL_KEYS_FILE"])
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == "approval-keys" && v.Secret != nil && len(v.Secret.Items) == 1 && v.Secret.Items[0].Path == "approval-keys" {
				keySecrets = append(keySecrets, v.Secret.SecretName+"/"+v.Secret.Items[0].Key)
			}
		}
	}
	if len(keySecrets) != 2 || keySecrets[0] != keySecrets[1] {
		t.Errorf("approval key secrets of server and worker: %v, want one and the same", keySecrets)
	}
	// The API: a ClusterIP Service in front of the servers, ready on /healthz.
	svc := m.services["jitflow-server"]
	if svc == nil || len(m.services) != 1 {
		t.Fatalf("services %v, want jitflow-server", slices.Sorted(maps.Keys(m.services)))
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || !selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, server.Spec.Template.Labels) ||
		selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, worker.Spec.Template.Labels) {
		t.Errorf("service: type %s, selector %v; want ClusterIP selecting the servers alone", svc.Spec.Type, svc.Spec.Selector)
	}
	if p := server.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("server readiness probe %+v, want GET /healthz", p)
	}
	// A disruption budget for each Deployment, selecting its pods alone.
	for _, d := range []*appsv1.Deployment{server, worker} {
		var n int
		for _, b := range m.budgets {
			if selects(t, b.Spec.Selector, d.Spec.Template.Labels) {
				n++
				if b.Spec.MaxUnavailable == nil && b.Spec.MinAvailable == nil {
					t.Errorf("budget %s sets no bound", b.Name)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s is covered by %d disruption budgets, want 1", d.Name, n)
		}
	}
	// The namespace step runs before the processes, as a hook.
	if job := m.jobs["jitflow-setup"]; job != nil {
		checkPod(t, job.Name, job.Spec.Template.Spec, false)
		if !strings.Contains(job.Annotations["helm.sh/hook"], "pre-install") || !strings.Contains(job.Annotations["helm.sh/hook"], "pre-upgrade") {
			t.Errorf("setup job hooks %q, want pre-install and pre-upgrade", job.Annotations["helm.sh/hook"])
		}
		runs(job.Name, job.Spec.Template.Spec.Containers[0].Args)
	}
}

// TestHelmNeedsValues: without the required values the chart refuses to
// render, naming each of them; there is no default policy.
func TestHelmNeedsValues(t *testing.T) {
	_, err := helmTemplate(t, nil)
	if err == nil {
		t.Fatal("the chart renders with no values; want it to name what is missing")
	}
	for _, name := range []string{"repository", "address", "baseURL", "audience", "tenantID", "approvalKeys", "from"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
	_, err = helmTemplate(t, []string{"minimal-values.yaml"}, "policy.existingConfigMap=")
	if err == nil || !strings.Contains(err.Error(), "policy.content") {
		t.Errorf("no policy: err = %v, want one naming policy.content", err)
	}
	_, err = helmTemplate(t, []string{"minimal-values.yaml"}, "mail.sendgrid.existingSecret=")
	if err == nil || !strings.Contains(err.Error(), "existingSecret") {
		t.Errorf("no SendGrid secret: err = %v, want one naming it", err)
	}
}

func TestHelmMinimal(t *testing.T) {
	out, err := helmTemplate(t, []string{"minimal-values.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	checkChart(t, m, true)
	if n := *m.deployments["jitflow-worker"].Spec.Replicas; n != 2 {
		t.Errorf("worker replicas %d, want the default 2", n)
	}
	if len(m.netpols) != 0 || len(m.configMaps) != 0 {
		t.Errorf("network policies %d, config maps %d: want none (off; the policy is an existing ConfigMap)", len(m.netpols), len(m.configMaps))
	}
	if m.jobs["jitflow-setup"] == nil {
		t.Error("no setup job")
	}
	w := m.deployments["jitflow-worker"].Spec.Template.Spec.Containers[0]
	if env := envOf(w); env["JITFLOW_SENDGRID_API_KEY_FILE"] == "" || env["JITFLOW_OUTBOX"] != "" {
		t.Errorf("worker mail env %v, want SendGrid and no outbox", env)
	}
}

func TestHelmAllOptions(t *testing.T) {
	out, err := helmTemplate(t, []string{"all-values.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	checkChart(t, m, false)
	if n := *m.deployments["jitflow-worker"].Spec.Replicas; n != 5 {
		t.Errorf("worker replicas %d, want worker.replicas 5", n)
	}
	if cm := m.configMaps["jitflow-policy"]; cm == nil || !strings.Contains(cm.Data["policy.yaml"], "tenant_id:") {
		t.Errorf("policy config map %+v", cm)
	}
	if len(m.netpols) != 2 {
		t.Errorf("network policies %d, want one for the servers and one for the workers", len(m.netpols))
	}
	s := m.deployments["jitflow-server"].Spec.Template.Spec.Containers[0]
	env := envOf(s)
	for _, k := range []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CA", "JITFLOW_SIGNIN_CLIENT_SECRET_FILE", "JITFLOW_CLIENT_SECRET_FILE"} {
		if env[k] == "" {
			t.Errorf("server lacks %s", k)
		}
	}
	if !slices.Contains(s.Args, "--temporal-tls-server-name") {
		t.Errorf("server args %v lack --temporal-tls-server-name", s.Args)
	}
	// setup sends its own token (namespace administration) when given one.
	token := func(c corev1.Container) string {
		for _, e := range c.Env {
			if e.Name == "TEMPORAL_API_KEY" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				return e.ValueFrom.SecretKeyRef.Name
			}
		}
		return ""
	}
	if got := token(s); got != "temporal-api-key" {
		t.Errorf("server's Temporal token from %q, want temporal.apiKey's secret", got)
	}
	if got := token(m.jobs["jitflow-setup"].Spec.Template.Spec.Containers[0]); got != "temporal-admin-token" {
		t.Errorf("setup's Temporal token from %q, want setup.apiKey's secret", got)
	}
}

// TestHelmOutbox: the outbox only when asked for, and then no SendGrid
// secret is needed.
func TestHelmOutbox(t *testing.T) {
	out, err := helmTemplate(t, []string{"minimal-values.yaml"}, "mail.outbox=true", "mail.sendgrid.existingSecret=")
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, out)
	checkChart(t, m, true)
	w := m.deployments["jitflow-worker"].Spec.Template.Spec.Containers[0]
	if env := envOf(w); env["JITFLOW_OUTBOX"] == "" || env["JITFLOW_SENDGRID_API_KEY_FILE"] != "" {
		t.Errorf("worker mail env %v, want the outbox and no SendGrid", env)
	}
}
