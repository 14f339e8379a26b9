// Package k8s holds stampede's Kubernetes manifests (the YAML files beside
// this one) and the test that decodes them into the Kubernetes API types
// and checks their wiring; it has no code of its own. It is a Go module of
// its own (go.mod beside it), so the Kubernetes API types stay out of
// stampede's build; make test runs it.
package k8s

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	// chaos registers the fleet event types the profile uses.
	_ "github.com/stampede-load/stampede/chaos"
	"github.com/stampede-load/stampede/profiles"
)

// docs splits a manifest file into its YAML documents.
func docs(t *testing.T, file string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// decode reads one document strictly into v: an unknown or duplicated
// field is an error, and the kind must be want.
func decode(t *testing.T, file string, doc []byte, want string, v any) {
	t.Helper()
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if got := meta.APIVersion + " " + meta.Kind; got != want {
		t.Fatalf("%s: %s, want %s", file, got, want)
	}
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%s: %s: %v", file, want, err)
	}
}

func one[T any](t *testing.T, file, kind string) *T {
	t.Helper()
	ds := docs(t, file)
	if len(ds) != 1 {
		t.Fatalf("%s: %d documents, want 1", file, len(ds))
	}
	v := new(T)
	decode(t, file, ds[0], kind, v)
	return v
}

func deref(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}

func env(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// flag returns the value after --name in args, "" if absent.
func flag(args []string, name string) string {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func mount(c corev1.Container, volume string) *corev1.VolumeMount {
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == volume {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func volume(p corev1.PodSpec, name string) *corev1.Volume {
	for i := range p.Volumes {
		if p.Volumes[i].Name == name {
			return &p.Volumes[i]
		}
	}
	return nil
}

// checkHardened checks what every stampede pod must have: resources,
// a non-root user and a read-only root filesystem.
func checkHardened(t *testing.T, file string, p corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(p.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", file, len(p.Containers))
	}
	c := p.Containers[0]
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s, limit %s: want both, request ≤ limit", file, r, req.String(), lim.String())
		}
	}
	psc, sc := p.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: the pod must run as a non-root user (runAsNonRoot, a numeric runAsUser)", file)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: the container must have a read-only root filesystem, no privilege escalation and drop ALL capabilities", file)
	}
	if !strings.Contains(c.Image, "stampede") {
		t.Errorf("%s: image %q, want the stampede image", file, c.Image)
	}
	return c
}

func TestIndexedJobWiring(t *testing.T) {
	const file = "indexed-job.yaml"
	job := one[batchv1.Job](t, file, "batch/v1 Job")
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 1 {
		t.Fatalf("completions %s, parallelism %s: want equal, at least 1", deref(s.Completions), deref(s.Parallelism))
	}
	n := int(*s.Completions)
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 || s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("a shard cannot rejoin its run: want backoffLimit 0 and restartPolicy Never")
	}
	pod := s.Template.Spec
	c := checkHardened(t, file, pod)
	args := c.Args
	if len(args) == 0 || args[0] != "run" {
		t.Fatalf("args %q: want stampede run", args)
	}
	if !adminTokenFromSecret(c) {
		t.Error("the shards have no STAMPEDE_ADMIN_TOKEN from the Secret stampede-admin: fleet events would be refused by the backend")
	}

	// The index → --shard INDEX/N, N = completions = parallelism.
	if got, want := flag(args, "--shard"), "$(JOB_COMPLETION_INDEX)/"+strconv.Itoa(n); got != want {
		t.Errorf("--shard %q, want %q (the count must equal completions and parallelism, %d)", got, want, n)
	}
	idx := env(c, "JOB_COMPLETION_INDEX")
	if idx == nil || idx.ValueFrom == nil || idx.ValueFrom.FieldRef == nil ||
		idx.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
		t.Errorf("JOB_COMPLETION_INDEX must come from the downward API annotation batch.kubernetes.io/job-completion-index: %+v", idx)
	}
	// Every shard the same --start-at, from the profile ConfigMap.
	start := env(c, "START_AT")
	if flag(args, "--start-at") != "$(START_AT)" || start == nil || start.ValueFrom == nil || start.ValueFrom.ConfigMapKeyRef == nil ||
		start.ValueFrom.ConfigMapKeyRef.Name != "stampede-profile" || start.ValueFrom.ConfigMapKeyRef.Key != "start-at" {
		t.Errorf("--start-at %q, START_AT %+v: want $(START_AT) from the stampede-profile ConfigMap's start-at", flag(args, "--start-at"), start)
	}
	// Every $(VAR) in args is an env var of the container, or Kubernetes
	// leaves it unexpanded.
	for _, a := range args {
		for _, m := range regexp.MustCompile(`\$\(([A-Z_]+)\)`).FindAllStringSubmatch(a, -1) {
			if env(c, m[1]) == nil {
				t.Errorf("args use $(%s), which is not an env var of the container", m[1])
			}
		}
	}

	// The profile ConfigMap mounted at /profile, the run reading it there.
	pm := mount(c, "profile")
	pv := volume(pod, "profile")
	if pm == nil || pm.MountPath != "/profile" || !pm.ReadOnly || pv == nil || pv.ConfigMap == nil || pv.ConfigMap.Name != "stampede-profile" {
		t.Errorf("the profile ConfigMap stampede-profile must be mounted read-only at /profile: %+v, %+v", pm, pv)
	}
	if flag(args, "-p") != "/profile/profile.yaml" {
		t.Errorf("-p %q, want /profile/profile.yaml", flag(args, "-p"))
	}
	// Results on the shared volume, one directory per index.
	rm := mount(c, "results")
	rv := volume(pod, "results")
	if rm == nil || rm.MountPath != "/results" || rv == nil || rv.PersistentVolumeClaim == nil || rv.PersistentVolumeClaim.ClaimName != "stampede-results" {
		t.Errorf("the stampede-results claim must be mounted at /results: %+v, %+v", rm, rv)
	}
	if got := flag(args, "--out"); got != "/results/$(JOB_COMPLETION_INDEX)" {
		t.Errorf("--out %q, want /results/$(JOB_COMPLETION_INDEX)", got)
	}
	// The shards share the in-cluster backend's Service.
	if got := flag(args, "--target"); got != "http://stampede-backend:8787" {
		t.Errorf("--target %q, want the stampede-backend Service", got)
	}
	if !slices.Contains(args, "--no-progress") {
		t.Errorf("args %q: want --no-progress (pod logs are not a terminal)", args)
	}
}

func TestProfileConfigMap(t *testing.T) {
	const file = "profile-configmap.yaml"
	cm := one[corev1.ConfigMap](t, file, "v1 ConfigMap")
	if cm.Name != "stampede-profile" {
		t.Errorf("name %q", cm.Name)
	}
	src, ok := cm.Data["profile.yaml"]
	if !ok {
		t.Fatal("no profile.yaml key")
	}
	// The profile the shards run is valid.
	p, err := profiles.Parse("profile.yaml", []byte(src))
	if err != nil {
		t.Fatalf("the profile does not validate: %v", err)
	}
	job := one[batchv1.Job](t, "indexed-job.yaml", "batch/v1 Job")
	if n := int(*job.Spec.Completions); p.Clients < n {
		t.Errorf("%d clients for %d shards", p.Clients, n)
	}
	if _, ok := cm.Data["start-at"]; !ok {
		t.Error("no start-at key")
	}
}

func TestResultsPVC(t *testing.T) {
	pvc := one[corev1.PersistentVolumeClaim](t, "results-pvc.yaml", "v1 PersistentVolumeClaim")
	if pvc.Name != "stampede-results" || !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("%s: access modes %v: the shards on several nodes share it, want ReadWriteMany", pvc.Name, pvc.Spec.AccessModes)
	}
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.IsZero() {
		t.Error("no storage request")
	}
}

func TestMergeJobWiring(t *testing.T) {
	const file = "merge-job.yaml"
	job := one[batchv1.Job](t, file, "batch/v1 Job")
	pod := job.Spec.Template.Spec
	c := checkHardened(t, file, pod)
	want := []string{"merge", "/results/*/result.json", "-o", "/results/merged.json"}
	if !slices.Equal(c.Args, want) {
		t.Errorf("args %q, want %q", c.Args, want)
	}
	rm, rv := mount(c, "results"), volume(pod, "results")
	if rm == nil || rm.MountPath != "/results" || rv == nil || rv.PersistentVolumeClaim == nil || rv.PersistentVolumeClaim.ClaimName != "stampede-results" {
		t.Errorf("the stampede-results claim must be mounted at /results")
	}
	if job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion {
		t.Error("the merge is one pod")
	}
}

func TestBackendDeploymentAndService(t *testing.T) {
	const file = "backend.yaml"
	ds := docs(t, file)
	if len(ds) != 2 {
		t.Fatalf("%d documents, want a Deployment and a Service", len(ds))
	}
	var dep appsv1.Deployment
	var svc corev1.Service
	decode(t, file, ds[0], "apps/v1 Deployment", &dep)
	decode(t, file, ds[1], "v1 Service", &svc)
	c := checkHardened(t, file, dep.Spec.Template.Spec)
	if len(c.Args) == 0 || c.Args[0] != "serve" || flag(c.Args, "--addr") != "0.0.0.0:8787" {
		t.Errorf("args %q: want serve --addr 0.0.0.0:8787 (serve binds 127.0.0.1 by default)", c.Args)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
		t.Error("sessions live in one backend's memory: want 1 replica")
	}
	for k, v := range dep.Spec.Selector.MatchLabels {
		if dep.Spec.Template.Labels[k] != v || svc.Spec.Selector[k] != v {
			t.Errorf("label %s=%s: the Deployment's selector, its pods and the Service must agree", k, v)
		}
	}
	if len(svc.Spec.Selector) != len(dep.Spec.Selector.MatchLabels) {
		t.Errorf("Service selector %v, Deployment selector %v", svc.Spec.Selector, dep.Spec.Selector.MatchLabels)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8787 || len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8787 {
		t.Errorf("ports: Service %+v, container %+v; want 8787", svc.Spec.Ports, c.Ports)
	}
	if svc.Name != "stampede-backend" || (svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP) {
		t.Errorf("Service %s of type %s: want stampede-backend, ClusterIP (the admin API stays in the cluster)", svc.Name, svc.Spec.Type)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil {
		t.Error("no readiness probe")
	}
	// serve refuses a non-loopback address without an admin token.
	if !adminTokenFromSecret(c) {
		t.Error("the backend has no STAMPEDE_ADMIN_TOKEN from the Secret stampede-admin: serve refuses 0.0.0.0 without one")
	}
}

// adminTokenFromSecret reports whether c takes $STAMPEDE_ADMIN_TOKEN from
// the Secret stampede-admin, key token.
func adminTokenFromSecret(c corev1.Container) bool {
	for _, e := range c.Env {
		if e.Name == "STAMPEDE_ADMIN_TOKEN" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil &&
			e.ValueFrom.SecretKeyRef.Name == "stampede-admin" && e.ValueFrom.SecretKeyRef.Key == "token" {
			return true
		}
	}
	return false
}

// TestStrictDecodingCatchesTypos: the decoding above is strict.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	b, err := os.ReadFile("indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(b, []byte("completionMode:"), []byte("completionMod:"), 1)
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(bad, &job); err == nil {
		t.Error("an unknown field decoded")
	}
}
