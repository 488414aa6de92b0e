// Package helmtest checks the openim-server chart short of a cluster: every
// object `helm template` renders is decoded strictly into the Kubernetes API
// types of the pinned k8s.io/api, and the chart's promises (one workload per
// OpenIM program, hooks, probes, secrets, OpenIM's config keys) are asserted.
//
// Environment: HELM (the helm binary; default helm in PATH), OPENIM_CONFIG_DIR
// (OpenIM 3.8.3's config dir, from its module; the key check is skipped
// without it unless OPENIM_TEST_STRICT=1).
package helmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../openim-server"

// programs are OpenIM 3.8.3's service binaries (start-config.yml).
var programs = []string{"openim-api", "openim-crontask", "openim-msggateway", "openim-msgtransfer", "openim-push",
	"openim-rpc-auth", "openim-rpc-conversation", "openim-rpc-friend", "openim-rpc-group", "openim-rpc-msg",
	"openim-rpc-third", "openim-rpc-user"}

func helmBin(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	h, err := exec.LookPath("helm")
	if err != nil {
		if os.Getenv("OPENIM_TEST_STRICT") == "1" {
			t.Fatal("helm not found: set HELM (scripts/test.d/60-helm.sh builds it into .cache/bin)")
		}
		t.Skip("helm not found: set HELM")
	}
	return h
}

// release is one rendered chart: objects by kind/name.
type release struct {
	raw     []byte
	objects map[string]any // "Kind/name" -> typed object
	order   []string
}

func (r *release) get(t *testing.T, kind, name string) any {
	t.Helper()
	o, ok := r.objects[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s/%s rendered; have %v", kind, name, r.order)
	}
	return o
}

func (r *release) all(kind string) []string {
	var out []string
	for _, k := range r.order {
		if strings.HasPrefix(k, kind+"/") {
			out = append(out, strings.TrimPrefix(k, kind+"/"))
		}
	}
	return out
}

// render runs helm template and decodes every document strictly.
func render(t *testing.T, args ...string) *release {
	t.Helper()
	out, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, out)
	}
	return decodeAll(t, out)
}

func helmTemplate(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), append([]string{"template", "rel", chartDir, "--namespace", "im"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return append(out, stderr.Bytes()...), err
	}
	return out, nil
}

// decodeAll splits the stream and decodes each object into its typed API
// struct with unknown fields refused (sigs.k8s.io/yaml UnmarshalStrict).
func decodeAll(t *testing.T, stream []byte) *release {
	t.Helper()
	r := &release{raw: stream, objects: map[string]any{}}
	for i, doc := range splitDocs(stream) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("document %d: %v\n%s", i, err, doc)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "policy/v1 PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		default:
			t.Fatalf("document %d: unexpected %s %s (add it to the test's type table)", i, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s/%s does not decode strictly into %T: %v\n%s", meta.Kind, meta.Metadata.Name, obj, err, doc)
		}
		key := meta.Kind + "/" + meta.Metadata.Name
		if _, dup := r.objects[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		r.objects[key] = obj
		r.order = append(r.order, key)
	}
	if len(r.objects) == 0 {
		t.Fatal("helm template rendered nothing")
	}
	return r
}

func splitDocs(stream []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(stream, []byte("\n---")) {
		d = bytes.TrimPrefix(d, []byte("---"))
		var nonComment bool
		for _, l := range strings.Split(string(d), "\n") {
			if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
				nonComment = true
				break
			}
		}
		if nonComment {
			docs = append(docs, d)
		}
	}
	return docs
}

func valuesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("want the minimal, production and external values files in %s/ci, got %v (%v)", chartDir, files, err)
	}
	return files
}

func component(p string) string { return "rel-openim-server-" + strings.TrimPrefix(p, "openim-") }

// TestRenderEveryValuesFile: each values file renders, decodes strictly and
// keeps the chart's structural promises.
func TestRenderEveryValuesFile(t *testing.T) {
	for _, vf := range valuesFiles(t) {
		t.Run(filepath.Base(vf), func(t *testing.T) {
			vals := readValues(t, vf)
			r := render(t, "-f", vf)
			checkWorkloads(t, r, vals)
			checkServices(t, r)
			checkHooks(t, r, vals)
			checkSecrets(t, r, vals)
		})
	}
}

// values merges the chart's values.yaml with a values file (maps deep, the
// rest replaced), the way Helm does, for the assertions.
func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	base := map[string]any{}
	for _, f := range []string{filepath.Join(chartDir, "values.yaml"), file} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		mergeInto(base, m)
	}
	return base
}

func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func path(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func checkWorkloads(t *testing.T, r *release, vals map[string]any) {
	t.Helper()
	deps := r.all("Deployment")
	var want []string
	for _, p := range programs {
		want = append(want, component(p))
	}
	sort.Strings(deps)
	sort.Strings(want)
	if !reflect.DeepEqual(deps, want) {
		t.Fatalf("Deployments = %v, want one per OpenIM program %v", deps, want)
	}
	for _, p := range programs {
		d := r.get(t, "Deployment", component(p)).(*appsv1.Deployment)
		replicas := path(vals, "programs", p, "replicas")
		if d.Spec.Replicas == nil || fmt.Sprint(*d.Spec.Replicas) != fmt.Sprint(replicas) {
			t.Errorf("%s: replicas %v, values say %v", p, d.Spec.Replicas, replicas)
		}
		pod := d.Spec.Template
		for k, v := range d.Spec.Selector.MatchLabels {
			if pod.Labels[k] != v {
				t.Errorf("%s: selector %s=%s does not match the pod labels %v", p, k, v, pod.Labels)
			}
		}
		if len(pod.Spec.Containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", p, len(pod.Spec.Containers))
		}
		c := pod.Spec.Containers[0]
		conf := "/etc/openim/supervisor/" + p + ".yaml"
		if got := append(append([]string{}, c.Command...), c.Args...); !slices.Equal(got, []string{"/usr/bin/openim-supervisor", "run", "--config", conf}) {
			t.Errorf("%s: runs %v, want the supervisor with its one-program config", p, got)
		}
		status := []string{"/usr/bin/openim-supervisor", "status", "--config", conf}
		for what, pr := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if pr == nil || pr.Exec == nil || !slices.Equal(pr.Exec.Command, status) {
				t.Errorf("%s: %s probe %+v, want `openim-supervisor status` with the pod's config", p, what, pr)
			}
		}
		if c.LivenessProbe != nil && c.LivenessProbe.PeriodSeconds*c.LivenessProbe.FailureThreshold < 60 {
			t.Errorf("%s: liveness gives up after %d s; a crash loop's backoff (up to 30 s) must not restart the pod", p,
				c.LivenessProbe.PeriodSeconds*c.LivenessProbe.FailureThreshold)
		}
		checkNonRoot(t, p, pod.Spec.SecurityContext, c.SecurityContext)
		// Every OpenIM file the ConfigMap holds is mounted over the image's config dir.
		cm := r.get(t, "ConfigMap", "rel-openim-server-config").(*corev1.ConfigMap)
		for f := range cm.Data {
			if !hasMount(c.VolumeMounts, "/etc/openim/config/"+f, f) {
				t.Errorf("%s: %s of the ConfigMap is not mounted at /etc/openim/config/%s", p, f, f)
			}
		}
		if _, ok := cm.Data[p+".yml"]; !ok {
			t.Errorf("%s: ConfigMap has no %s.yml", p, p)
		}
		sup := r.get(t, "ConfigMap", "rel-openim-server-supervisor").(*corev1.ConfigMap)
		sc, ok := sup.Data[p+".yaml"]
		if !ok {
			t.Fatalf("%s: no supervisor config", p)
		}
		var s struct {
			Processes []struct {
				Name      string `json:"name"`
				Instances int    `json:"instances"`
			} `json:"processes"`
		}
		if err := yaml.Unmarshal([]byte(sc), &s); err != nil {
			t.Fatalf("%s: supervisor config: %v", p, err)
		}
		if len(s.Processes) != 1 || s.Processes[0].Name != p || s.Processes[0].Instances != 1 {
			t.Errorf("%s: supervisor config runs %+v, want %s once", p, s.Processes, p)
		}
		if pod.Annotations["checksum/config"] == "" || pod.Annotations["checksum/secret"] == "" {
			t.Errorf("%s: pod template lacks the config/secret checksums that roll pods on change", p)
		}
		if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
			t.Errorf("%s: the service account token is mounted; OpenIM does not use the API", p)
		}
	}
}

func hasMount(ms []corev1.VolumeMount, at, sub string) bool {
	for _, m := range ms {
		if m.MountPath == at && m.SubPath == sub && m.ReadOnly {
			return true
		}
	}
	return false
}

func checkNonRoot(t *testing.T, what string, pod *corev1.PodSecurityContext, c *corev1.SecurityContext) {
	t.Helper()
	if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0 {
		t.Errorf("%s: pod may run as root: %+v", what, pod)
	}
	if c == nil || c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation ||
		c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem ||
		c.Capabilities == nil || !slices.Contains(c.Capabilities.Drop, "ALL") {
		t.Errorf("%s: container security context %+v, want no privilege escalation, read-only root, all capabilities dropped", what, c)
	}
}

func checkServices(t *testing.T, r *release) {
	t.Helper()
	svcs := r.all("Service")
	sort.Strings(svcs)
	if want := []string{component("openim-api"), component("openim-msggateway")}; !reflect.DeepEqual(svcs, want) {
		t.Fatalf("Services = %v, want %v (api and msggateway)", svcs, want)
	}
	for _, p := range []string{"openim-api", "openim-msggateway"} {
		s := r.get(t, "Service", component(p)).(*corev1.Service)
		d := r.get(t, "Deployment", component(p)).(*appsv1.Deployment)
		for k, v := range s.Spec.Selector {
			if d.Spec.Template.Labels[k] != v {
				t.Errorf("%s Service selector %s=%s matches no pod of its Deployment", p, k, v)
			}
		}
		for _, sp := range s.Spec.Ports {
			found := false
			for _, cp := range d.Spec.Template.Spec.Containers[0].Ports {
				if cp.Name == sp.TargetPort.String() {
					found = true
				}
			}
			if !found {
				t.Errorf("%s Service targets port %q, which the container does not name", p, sp.TargetPort.String())
			}
		}
	}
}

// hookAnn is what a hook object must carry.
type hookAnn struct{ hook, weight, policy string }

func checkHooks(t *testing.T, r *release, vals map[string]any) {
	t.Helper()
	want := map[string]hookAnn{
		"ConfigMap/rel-openim-server-upgrade": {"pre-install,pre-upgrade", "-10", "before-hook-creation,hook-succeeded"},
		"Job/rel-openim-server-upgrade":       {"pre-install,pre-upgrade", "0", "before-hook-creation"},
	}
	if path(vals, "secrets", "existingSecret") == "" {
		want["Secret/rel-openim-server-upgrade-env"] = hookAnn{"pre-install,pre-upgrade", "-10", "before-hook-creation,hook-succeeded"}
	}
	if path(vals, "upgrade", "persistence", "enabled") == true && path(vals, "upgrade", "persistence", "existingClaim") == "" {
		want["PersistentVolumeClaim/rel-openim-server-upgrade-state"] = hookAnn{"pre-install", "-20", "hook-failed"}
	}
	for key, o := range r.objects {
		ann := annotations(o)
		w, isHook := want[key]
		if !isHook {
			if ann["helm.sh/hook"] != "" {
				t.Errorf("%s is a hook (%s) the test does not expect", key, ann["helm.sh/hook"])
			}
			continue
		}
		got := hookAnn{ann["helm.sh/hook"], ann["helm.sh/hook-weight"], ann["helm.sh/hook-delete-policy"]}
		if got != w {
			t.Errorf("%s hook annotations %+v, want %+v", key, got, w)
		}
	}
	for key := range want {
		if _, ok := r.objects[key]; !ok {
			t.Errorf("hook %s not rendered", key)
		}
	}
	if pvc, ok := r.objects["PersistentVolumeClaim/rel-openim-server-upgrade-state"]; ok {
		if annotations(pvc)["helm.sh/resource-policy"] != "keep" {
			t.Error("the upgrade state PVC is not kept on uninstall")
		}
	}
	job := r.get(t, "Job", "rel-openim-server-upgrade").(*batchv1.Job)
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("hook pod restartPolicy %q, want Never (the Job's backoffLimit retries)", pod.RestartPolicy)
	}
	c := pod.Containers[0]
	dep := r.get(t, "Deployment", component("openim-api")).(*appsv1.Deployment)
	if c.Image != dep.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("hook image %q differs from the workloads' %q", c.Image, dep.Spec.Template.Spec.Containers[0].Image)
	}
	if !slices.Equal(c.Command, []string{"/usr/bin/openim-supervisor"}) || len(c.Args) < 2 || c.Args[0] != "upgrade" || c.Args[1] != "--yes" {
		t.Errorf("hook runs %v %v, want openim-supervisor upgrade --yes", c.Command, c.Args)
	}
	checkNonRoot(t, "upgrade hook", pod.SecurityContext, c.SecurityContext)
	// The hook reads the same OpenIM files as the workloads.
	hookCM := r.get(t, "ConfigMap", "rel-openim-server-upgrade").(*corev1.ConfigMap)
	cm := r.get(t, "ConfigMap", "rel-openim-server-config").(*corev1.ConfigMap)
	for f, v := range cm.Data {
		if hookCM.Data[f] != v {
			t.Errorf("hook ConfigMap's %s differs from the release's", f)
		}
	}
}

func annotations(o any) map[string]string {
	v := reflect.ValueOf(o).Elem().FieldByName("ObjectMeta")
	return v.FieldByName("Annotations").Interface().(map[string]string)
}

func checkSecrets(t *testing.T, r *release, vals map[string]any) {
	t.Helper()
	secretVals := map[string]string{}
	if s, ok := path(vals, "secrets").(map[string]any); ok {
		for k, v := range s {
			if str, ok := v.(string); ok && str != "" && k != "existingSecret" {
				secretVals[k] = str
			}
		}
		if extra, ok := s["extra"].(map[string]any); ok {
			for k, v := range extra {
				secretVals[k] = fmt.Sprint(v)
			}
		}
	}
	// No secret value in a ConfigMap, an argv or an env literal.
	for key, o := range r.objects {
		if strings.HasPrefix(key, "Secret/") {
			continue
		}
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range secretVals {
			if strings.Contains(string(b), v) {
				t.Errorf("secret %s's value appears in %s", name, key)
			}
		}
	}
	existing, _ := path(vals, "secrets", "existingSecret").(string)
	for _, p := range programs {
		d := r.get(t, "Deployment", component(p)).(*appsv1.Deployment)
		ef := d.Spec.Template.Spec.Containers[0].EnvFrom
		want := "rel-openim-server-env"
		if existing != "" {
			want = existing
		}
		if len(ef) != 1 || ef[0].SecretRef == nil || ef[0].SecretRef.Name != want {
			t.Errorf("%s: envFrom %+v, want the Secret %s", p, ef, want)
		}
	}
	if existing != "" {
		if len(r.all("Secret")) != 0 {
			t.Errorf("existingSecret given but the chart renders Secrets %v", r.all("Secret"))
		}
		return
	}
	s := r.get(t, "Secret", "rel-openim-server-env").(*corev1.Secret)
	for k := range s.StringData {
		if !strings.HasPrefix(k, "IMENV_") && k != "OPENIM_MYSQL_DSN" {
			t.Errorf("Secret key %s is not an IMENV_ override (nor OPENIM_MYSQL_DSN)", k)
		}
	}
	if s.StringData["IMENV_SHARE_SECRET"] != secretVals["shareSecret"] {
		t.Errorf("IMENV_SHARE_SECRET = %q, want secrets.shareSecret", s.StringData["IMENV_SHARE_SECRET"])
	}
	named := map[string]string{"mongodbPassword": "IMENV_MONGODB_PASSWORD", "redisPassword": "IMENV_REDIS_PASSWORD",
		"kafkaPassword": "IMENV_KAFKA_PASSWORD", "etcdPassword": "IMENV_DISCOVERY_ETCD_PASSWORD",
		"minioSecretAccessKey": "IMENV_MINIO_SECRETACCESSKEY"}
	for v, env := range named {
		if secretVals[v] != "" && s.StringData[env] != secretVals[v] {
			t.Errorf("secrets.%s is not in the Secret as %s", v, env)
		}
	}
}
