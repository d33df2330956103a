// Package deploy checks the manifests under deploy/kubernetes: every
// document decodes strictly into its Kubernetes API type (k8s.io/api; unknown
// or misspelt fields, duplicate keys and unknown kinds are refused), the
// objects refer to each other correctly, and every collector config a
// ConfigMap holds passes `otelcol-slack validate` with the environment the
// workload that mounts it gives it.
//
// It also validates deploy/container/config.yaml, the config the image runs
// by default.
//
// Needs `make build` (bin/otelcol-slack; OTELCOL_BIN overrides it).
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/slackexporter/slackexporter/e2e/harness"
)

// kinds are the API types a manifest may hold, by apiVersion and kind.
// Another kind fails the test: add it here (with its k8s.io/api type) first.
var kinds = map[string]func() any{
	"v1/ConfigMap":                                    func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                       func() any { return &corev1.Secret{} },
	"v1/Service":                                      func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                               func() any { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":                        func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Namespace":                                    func() any { return &corev1.Namespace{} },
	"apps/v1/Deployment":                              func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                             func() any { return &appsv1.StatefulSet{} },
	"apps/v1/DaemonSet":                               func() any { return &appsv1.DaemonSet{} },
	"batch/v1/Job":                                    func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":                   func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler":          func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":              func() any { return &networkingv1.NetworkPolicy{} },
	"rbac.authorization.k8s.io/v1/Role":               func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":        func() any { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() any { return &rbacv1.ClusterRoleBinding{} },
}

// object is one decoded manifest document.
type object struct {
	source string // file:index
	kind   string // apiVersion/kind
	obj    any    // a pointer to the k8s.io/api type
}

// decodeStrict decodes one YAML document into its API type and refuses what
// the API server would drop or reject: unknown fields, fields whose case
// differs from the API's, duplicate keys, and kinds not in kinds.
func decodeStrict(doc []byte) (string, any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return "", nil, err
	}
	var tm metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		return "", nil, err
	}
	kind := tm.APIVersion + "/" + tm.Kind
	newObj, ok := kinds[kind]
	if !ok {
		return kind, nil, fmt.Errorf("apiVersion %q kind %q is not a kind this test knows (add it to kinds)", tm.APIVersion, tm.Kind)
	}
	obj := newObj()
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return kind, nil, err
	}
	if len(strict) > 0 {
		return kind, nil, errors.Join(strict...)
	}
	return kind, obj, nil
}

// documents splits a YAML stream into its non-empty documents.
func documents(t *testing.T, data []byte) [][]byte {
	t.Helper()
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		if v != nil { // only comments
			docs = append(docs, doc)
		}
	}
}

// loadManifests decodes every *.yaml / *.yml under deploy/kubernetes.
func loadManifests(t *testing.T) []object {
	t.Helper()
	dir := filepath.Join(harness.RepoRoot(t), "deploy", "kubernetes")
	var objs []object
	tree := os.DirFS(dir)
	err := fs.WalkDir(tree, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (path.Ext(rel) != ".yaml" && path.Ext(rel) != ".yml") {
			return err
		}
		data, err := fs.ReadFile(tree, rel)
		if err != nil {
			return err
		}
		for i, doc := range documents(t, data) {
			src := fmt.Sprintf("%s#%d", rel, i+1)
			kind, obj, err := decodeStrict(doc)
			if err != nil {
				t.Errorf("%s (%s): %v", src, kind, err)
				continue
			}
			objs = append(objs, object{source: src, kind: kind, obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatalf("no manifests under %s", dir)
	}
	return objs
}

// TestStrictDecodingRefusesMistakes: the decoder the manifests go through
// refuses a misspelt field, a field in the wrong case, a duplicate key and an
// unknown kind, and accepts the same document without the mistake.
func TestStrictDecodingRefusesMistakes(t *testing.T) {
	const good = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n"
	if _, _, err := decodeStrict([]byte(good)); err != nil {
		t.Fatalf("a correct ConfigMap is refused: %v", err)
	}
	for name, doc := range map[string]string{
		"misspelt field":   strings.Replace(good, "data:", "dta:", 1),
		"field's case":     strings.Replace(good, "data:", "Data:", 1),
		"duplicate key":    good + "data:\n  c: d\n",
		"unknown kind":     strings.Replace(good, "kind: ConfigMap", "kind: ConfigMapp", 1),
		"nested misspelt":  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 1\n",
		"wrong value type": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: one\n",
	} {
		if _, _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("%s: accepted:\n%s", name, doc)
		}
	}
}

// workload is a pod template with where it came from.
type workload struct {
	source   string
	name     string
	replicas *int32
	recreate bool // a Deployment with strategy Recreate (or not a Deployment)
	pod      *corev1.PodTemplateSpec
}

func workloads(objs []object) []workload {
	var out []workload
	for _, o := range objs {
		switch w := o.obj.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{o.source, w.Name, w.Spec.Replicas, w.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType, &w.Spec.Template})
		case *appsv1.StatefulSet:
			out = append(out, workload{o.source, w.Name, w.Spec.Replicas, true, &w.Spec.Template})
		case *appsv1.DaemonSet:
			out = append(out, workload{o.source, w.Name, nil, true, &w.Spec.Template})
		}
	}
	return out
}

func byKind[T any](objs []object) map[string]T {
	out := map[string]T{}
	for _, o := range objs {
		if v, ok := o.obj.(T); ok {
			out[metaName(o.obj)] = v
		}
	}
	return out
}

func metaName(obj any) string {
	if m, ok := obj.(interface{ GetName() string }); ok {
		return m.GetName()
	}
	return ""
}

// TestManifestsAreConsistent: every object has a name; what a workload
// refers to (ConfigMaps, Secrets and their keys, claims, probe ports) exists;
// Services select a workload and target its ports; a workload on a
// ReadWriteOnce claim runs one replica and never two side by side; every
// container has requests, a memory limit and both probes.
func TestManifestsAreConsistent(t *testing.T) {
	objs := loadManifests(t)
	for _, o := range objs {
		if metaName(o.obj) == "" {
			t.Errorf("%s (%s): no metadata.name", o.source, o.kind)
		}
	}
	configMaps := byKind[*corev1.ConfigMap](objs)
	secrets := byKind[*corev1.Secret](objs)
	claims := byKind[*corev1.PersistentVolumeClaim](objs)
	wls := workloads(objs)
	if len(wls) == 0 {
		t.Fatal("no Deployment, StatefulSet or DaemonSet")
	}

	for _, w := range wls {
		spec := w.pod.Spec
		rwoClaim := false
		for _, v := range spec.Volumes {
			switch {
			case v.ConfigMap != nil:
				if _, ok := configMaps[v.ConfigMap.Name]; !ok {
					t.Errorf("%s: volume %s: no ConfigMap %q", w.source, v.Name, v.ConfigMap.Name)
				}
			case v.Secret != nil:
				if _, ok := secrets[v.Secret.SecretName]; !ok {
					t.Errorf("%s: volume %s: no Secret %q", w.source, v.Name, v.Secret.SecretName)
				}
			case v.PersistentVolumeClaim != nil:
				c, ok := claims[v.PersistentVolumeClaim.ClaimName]
				if !ok {
					t.Errorf("%s: volume %s: no PersistentVolumeClaim %q", w.source, v.Name, v.PersistentVolumeClaim.ClaimName)
				} else if slices.Contains(c.Spec.AccessModes, corev1.ReadWriteOnce) || slices.Contains(c.Spec.AccessModes, corev1.ReadWriteOncePod) {
					rwoClaim = true
				}
			}
		}
		if rwoClaim {
			if w.replicas == nil || *w.replicas != 1 {
				t.Errorf("%s: mounts a ReadWriteOnce claim (one file_storage owner) but does not run exactly 1 replica", w.source)
			}
			if !w.recreate {
				t.Errorf("%s: mounts a ReadWriteOnce claim: needs strategy Recreate, or a rollout starts a second pod on the same queue", w.source)
			}
		}
		for _, c := range spec.Containers {
			where := w.source + ": container " + c.Name
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					t.Errorf("%s: no %s request", where, r)
				}
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				t.Errorf("%s: no memory limit", where)
			}
			for name, p := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
				if p == nil || p.HTTPGet == nil {
					t.Errorf("%s: no HTTP %s", where, name)
					continue
				}
				if _, ok := containerPort(c, p.HTTPGet.Port); !ok {
					t.Errorf("%s: %s targets port %s, which the container does not declare", where, name, p.HTTPGet.Port.String())
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				s, ok := secrets[ref.Name]
				if !ok {
					t.Errorf("%s: env %s: no Secret %q", where, e.Name, ref.Name)
					continue
				}
				if _, ok := s.StringData[ref.Key]; !ok {
					if _, ok := s.Data[ref.Key]; !ok {
						t.Errorf("%s: env %s: Secret %q has no key %q", where, e.Name, ref.Name, ref.Key)
					}
				}
			}
		}
	}

	for _, o := range objs {
		svc, ok := o.obj.(*corev1.Service)
		if !ok {
			continue
		}
		var target *workload
		for i, w := range wls {
			if len(svc.Spec.Selector) > 0 && selects(svc.Spec.Selector, w.pod.Labels) {
				target = &wls[i]
			}
		}
		if target == nil {
			t.Errorf("%s: Service %s selects no workload's pods", o.source, svc.Name)
			continue
		}
		for _, p := range svc.Spec.Ports {
			tp := p.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(p.Port)
			}
			found := false
			for _, c := range target.pod.Spec.Containers {
				if _, ok := containerPort(c, tp); ok {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: Service %s port %s targets %s, which %s does not declare", o.source, svc.Name, p.Name, tp.String(), target.name)
			}
		}
	}
}

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containerPort resolves a port by name or number among c's ports.
func containerPort(c corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

// fileRef matches ${file:PATH} in a collector config.
var fileRef = regexp.MustCompile(`\$\{file:([^}]+)\}`)

// envRef matches ${env:NAME} and ${env:NAME:-default} in a collector config.
var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// TestConfigMapsPassValidate: every collector config in a ConfigMap is
// mounted by a workload, uses no environment variable that workload does not
// set, keeps its file_storage on a persistent volume, has its health_check
// where the probes look, and passes `otelcol-slack validate` with that
// workload's environment (secrets and the pod's IP as dummy values).
func TestConfigMapsPassValidate(t *testing.T) {
	objs := loadManifests(t)
	wls := workloads(objs)
	claims := byKind[*corev1.PersistentVolumeClaim](objs)
	checked := 0
	for _, o := range objs {
		cm, ok := o.obj.(*corev1.ConfigMap)
		if !ok {
			continue
		}
		keys := make([]string, 0, len(cm.Data))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			config := cm.Data[key]
			var parsed map[string]any
			if err := yaml.Unmarshal([]byte(config), &parsed); err != nil || parsed["service"] == nil || parsed["receivers"] == nil {
				continue // not a collector config
			}
			checked++
			t.Run(cm.Name+"/"+key, func(t *testing.T) {
				checkConfig(t, o.source, cm.Name, key, config, parsed, wls, claims, byKind[*corev1.ConfigMap](objs))
			})
		}
	}
	if checked == 0 {
		t.Fatal("no ConfigMap holds a collector config")
	}
}

func checkConfig(t *testing.T, source, cmName, key, config string, parsed map[string]any,
	wls []workload, claims map[string]*corev1.PersistentVolumeClaim, configMaps map[string]*corev1.ConfigMap) {
	mounted := 0
	for _, w := range wls {
		volumes := map[string]corev1.Volume{}
		cmVolume := ""
		for _, v := range w.pod.Spec.Volumes {
			volumes[v.Name] = v
			if v.ConfigMap != nil && v.ConfigMap.Name == cmName {
				cmVolume = v.Name
			}
		}
		if cmVolume == "" {
			continue
		}
		for _, c := range w.pod.Spec.Containers {
			configPath := ""
			persistent := []string{}
			for _, m := range c.VolumeMounts {
				if m.Name == cmVolume {
					configPath = filepath.Join(m.MountPath, key)
				}
				if v := volumes[m.Name]; v.PersistentVolumeClaim != nil && claims[v.PersistentVolumeClaim.ClaimName] != nil {
					persistent = append(persistent, m.MountPath)
				}
			}
			if configPath == "" {
				continue
			}
			names := func(path string) bool {
				return slices.ContainsFunc(append(c.Args, c.Command...), func(a string) bool { return strings.Contains(a, path) })
			}
			where := fmt.Sprintf("%s used by %s container %s", source, w.source, c.Name)
			if !names(configPath) {
				// A ConfigMap of several configs (the fleet's): this
				// container runs another of its keys.
				if slices.ContainsFunc(slices.Collect(maps.Keys(configMaps[cmName].Data)), func(k string) bool {
					return k != key && names(filepath.Join(filepath.Dir(configPath), k))
				}) {
					continue
				}
				t.Errorf("%s: the container's args do not name the mounted config %s", where, configPath)
			}
			mounted++

			// ${file:PATH} of a file the container mounts from a ConfigMap
			// (the fleet's shared slack.yaml) is that key, written where
			// validate can read it; its ${env:…} are checked below too.
			config, included := config, ""
			config = fileRef.ReplaceAllStringFunc(config, func(ref string) string {
				path := fileRef.FindStringSubmatch(ref)[1]
				for _, m := range c.VolumeMounts {
					v := volumes[m.Name]
					if v.ConfigMap == nil || configMaps[v.ConfigMap.Name] == nil {
						continue
					}
					rel, err := filepath.Rel(m.MountPath, path)
					content, ok := configMaps[v.ConfigMap.Name].Data[rel]
					if err != nil || !ok {
						continue
					}
					local := filepath.Join(t.TempDir(), rel)
					if err := os.WriteFile(local, []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
					included += content
					return "${file:" + local + "}"
				}
				t.Errorf("%s: %s names no file the container mounts from a ConfigMap", where, ref)
				return ref
			})

			env := map[string]string{}
			for _, e := range c.Env {
				switch {
				case e.ValueFrom == nil:
					env[e.Name] = e.Value
				case e.ValueFrom.FieldRef != nil && strings.HasSuffix(e.ValueFrom.FieldRef.FieldPath, "IP"):
					env[e.Name] = "127.0.0.1"
				case e.ValueFrom.SecretKeyRef != nil:
					env[e.Name] = "xoxb-dummy-" + strings.ToLower(e.Name)
				default:
					env[e.Name] = "dummy"
				}
			}
			for _, m := range envRef.FindAllStringSubmatch(config+included, -1) {
				if _, ok := env[m[1]]; !ok && m[2] == "" {
					t.Errorf("%s: the config uses ${env:%s}, which the container does not set", where, m[1])
				}
			}

			exts, _ := parsed["extensions"].(map[string]any)
			for name, ext := range exts {
				cfg, _ := ext.(map[string]any)
				switch {
				case name == "file_storage" || strings.HasPrefix(name, "file_storage/"):
					dir, _ := cfg["directory"].(string)
					if !slices.ContainsFunc(persistent, func(mp string) bool { return dir == mp || strings.HasPrefix(dir, mp+"/") }) {
						t.Errorf("%s: extension %s keeps its files in %q, not on a mounted PersistentVolumeClaim (%v): a restart would lose the queue", where, name, dir, persistent)
					}
				case name == "health_check" || strings.HasPrefix(name, "health_check/"):
					ep, _ := cfg["endpoint"].(string)
					_, port, _ := strings.Cut(os.Expand(strings.NewReplacer("${env:", "${").Replace(ep), func(k string) string { return env[k] }), ":")
					n, err := strconv.ParseInt(port, 10, 32)
					if err != nil {
						t.Errorf("%s: extension %s: endpoint %q has no port", where, name, ep)
						continue
					}
					for probeName, p := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
						if p == nil || p.HTTPGet == nil {
							continue // reported by TestManifestsAreConsistent
						}
						if got, _ := containerPort(c, p.HTTPGet.Port); got != int32(n) {
							t.Errorf("%s: %s probes port %d, health_check listens on %d", where, probeName, got, n)
						}
					}
				}
			}

			envList := make([]string, 0, len(env))
			for k, v := range env {
				envList = append(envList, k+"="+v)
			}
			res := harness.RunCollector(t, 60*time.Second, config, envList, "validate", "--config", "{config}")
			if res.TimedOut || res.ExitCode != 0 {
				t.Errorf("%s: otelcol-slack validate failed (exit %d):\n%s", where, res.ExitCode, harness.Tail(res.Output, 30))
			}
			for k, v := range env {
				if strings.HasPrefix(v, "xoxb-dummy-") && strings.Contains(res.Output, v) {
					t.Errorf("%s: validate printed the value of secret %s", where, k)
				}
			}
		}
	}
	if mounted == 0 {
		t.Errorf("%s: ConfigMap %s key %s is mounted by no workload's container", source, cmName, key)
	}
}

// TestImageConfigPassesValidate: the config the container image runs by
// default (Containerfile) passes `otelcol-slack validate` with only the
// variables its header says are required, and names every variable it uses
// in that header.
func TestImageConfigPassesValidate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(t), "deploy", "container", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	config := string(b)
	header, _, _ := strings.Cut(config, "\nextensions:")
	for _, m := range envRef.FindAllStringSubmatch(config, -1) {
		if !strings.Contains(header, m[1]) {
			t.Errorf("deploy/container/config.yaml uses ${env:%s} but its header does not say so", m[1])
		}
	}
	const token = "xoxb-dummy-image-token"
	res := harness.RunCollector(t, 60*time.Second, config, []string{"SLACK_BOT_TOKEN=" + token}, "validate", "--config", "{config}")
	if res.TimedOut || res.ExitCode != 0 {
		t.Errorf("otelcol-slack validate failed on deploy/container/config.yaml (exit %d):\n%s", res.ExitCode, harness.Tail(res.Output, 30))
	}
	if strings.Contains(res.Output, token) {
		t.Error("validate printed the token")
	}
}
