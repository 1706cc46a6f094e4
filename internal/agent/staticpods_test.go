package agent

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: busybox
    resources: {limits: {cpu: "1", memory: 64Mi}}
`

func TestManifestPods(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		names   []string
		wantErr string
	}{
		{name: "yaml pod", data: podYAML, names: []string{"default/web-node-1"}},
		{name: "json pod", data: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j","namespace":"kube-system"},"spec":{"containers":[{"name":"c","image":"x:1"}]}}`,
			names: []string{"kube-system/j-node-1"}},
		{name: "multi-document yaml", data: podYAML + "---\n" + strings.Replace(podYAML, "name: web", "name: api", 1) + "---\n",
			names: []string{"default/web-node-1", "default/api-node-1"}},
		{name: "pod list", data: `{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"x"}]}},{"metadata":{"name":"b"},"spec":{"containers":[{"name":"c","image":"x"}]}}]}`,
			names: []string{"default/a-node-1", "default/b-node-1"}},
		{name: "not a pod", data: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", wantErr: "want a v1 Pod"},
		{name: "no name", data: "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: c, image: x}]}\n", wantErr: "no name"},
		{name: "no containers", data: "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", wantErr: "no containers"},
		{name: "empty", data: "\n---\n", wantErr: errNoPods.Error()},
		{name: "bad yaml", data: "apiVersion: v1\nkind: Pod\n  metadata: [", wantErr: "document 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pods, err := ManifestPods([]byte(tt.data), SourceFile, "/etc/m/web.yaml", "Node-1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range pods {
				names = append(names, p.Namespace+"/"+p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Errorf("pods %v, want %v", names, tt.names)
			}
		})
	}
}

func TestStaticPodIdentityAndDefaults(t *testing.T) {
	one := func(data, source, origin string) *corev1.Pod {
		t.Helper()
		pods, err := ManifestPods([]byte(data), source, origin, "node-1")
		if err != nil || len(pods) != 1 {
			t.Fatalf("ManifestPods: %v, %d pods", err, len(pods))
		}
		return pods[0]
	}
	p := one(podYAML, SourceFile, "/m/web.yaml")
	if len(p.UID) != 32 || p.Annotations[AnnotationConfigHash] != string(p.UID) || p.Annotations[AnnotationConfigSource] != SourceFile {
		t.Errorf("uid %q annotations %v", p.UID, p.Annotations)
	}
	if p.Spec.NodeName != "node-1" || p.Labels["app"] != "web" {
		t.Errorf("nodeName %q labels %v", p.Spec.NodeName, p.Labels)
	}
	c := p.Spec.Containers[0]
	if p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.DNSPolicy != corev1.DNSClusterFirst ||
		*p.Spec.TerminationGracePeriodSeconds != 30 || c.ImagePullPolicy != corev1.PullAlways ||
		c.TerminationMessagePath != "/dev/termination-log" || c.Resources.Requests.Memory().String() != "64Mi" {
		t.Errorf("defaults not applied: %+v", p.Spec)
	}
	if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("status %+v", p.Status)
	}
	if !toleratesAllNoExecute(p.Spec.Tolerations) || !isStatic(p) || isMirror(p) {
		t.Errorf("tolerations %v static %v mirror %v", p.Spec.Tolerations, isStatic(p), isMirror(p))
	}
	if again := one(podYAML, SourceFile, "/m/web.yaml"); again.UID != p.UID {
		t.Errorf("same manifest, different UID: %s %s", again.UID, p.UID)
	}
	for name, other := range map[string]*corev1.Pod{
		"other file":    one(podYAML, SourceFile, "/m/other.yaml"),
		"other source":  one(podYAML, SourceHTTP, "/m/web.yaml"),
		"other content": one(strings.Replace(podYAML, "busybox", "busybox:1.36", 1), SourceFile, "/m/web.yaml"),
	} {
		if other.UID == p.UID {
			t.Errorf("%s: same UID %s", name, p.UID)
		}
	}

	m := mirrorPod(p, "node-1", "node-uid")
	if m.UID != "" || m.Annotations[AnnotationConfigMirror] != string(p.UID) || !isMirror(m) || isStatic(m) ||
		len(m.OwnerReferences) != 1 || m.OwnerReferences[0].Kind != "Node" || m.OwnerReferences[0].UID != "node-uid" {
		t.Errorf("mirror %+v", m.ObjectMeta)
	}
	if _, ok := p.Annotations[AnnotationConfigMirror]; ok {
		t.Error("mirrorPod changed the static pod's annotations")
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"busybox":                    corev1.PullAlways,
		"busybox:latest":             corev1.PullAlways,
		"busybox:1.36":               corev1.PullIfNotPresent,
		"localhost:5000/busybox":     corev1.PullAlways,
		"localhost:5000/busybox:1":   corev1.PullIfNotPresent,
		"busybox@sha256:abcd":        corev1.PullIfNotPresent,
		"busybox:latest@sha256:abcd": corev1.PullAlways,
	} {
		if got := DefaultPullPolicy(image); got != want {
			t.Errorf("%s: %s, want %s", image, got, want)
		}
	}
}

func TestVisibleState(t *testing.T) {
	w := newWorld().sandbox("api", "sb-api", 0, true).sandbox("static", "sb-static", 0, true).sandbox("want", "sb-want", 0, true)
	w.sbs[1].Annotations = map[string]string{AnnotationConfigSource: SourceFile}
	observed := w.state()
	desired := []*corev1.Pod{testPod(func(p *corev1.Pod) { p.UID = "want" })}
	tests := []struct {
		apiKnown, staticKnown bool
		want                  string
	}{
		{true, true, "api,static,want"},
		{false, true, "static,want"},
		{true, false, "api,want"},
		{false, false, "want"},
	}
	for _, tt := range tests {
		got := visibleState(observed, desired, tt.apiKnown, tt.staticKnown)
		var uids []string
		for _, uid := range []types.UID{"api", "static", "want"} {
			if got.Pod(uid) != nil {
				uids = append(uids, string(uid))
			}
		}
		if strings.Join(uids, ",") != tt.want {
			t.Errorf("api %v static %v: %v, want %s", tt.apiKnown, tt.staticKnown, uids, tt.want)
		}
	}
}
