package envvars

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

func render(kvs []runtime.KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = kv.Key + "=" + kv.Value
	}
	return strings.Join(parts, " ")
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1",
			Labels: map[string]string{"app": "web", "tier": "a b"}, Annotations: map[string]string{"note": "x"}},
		Spec: corev1.PodSpec{NodeName: "n1", ServiceAccountName: "sa"},
	}
}

var yes = true

func TestResolve(t *testing.T) {
	cms := map[string]*corev1.ConfigMap{
		"cfg":     {Data: map[string]string{"A": "1", "B": "2", "bad=name": "x"}, BinaryData: map[string][]byte{"bin": []byte("raw")}},
		"missing": nil,
	}
	secrets := map[string]*corev1.Secret{"sec": {Data: map[string][]byte{"pw": []byte("hunter2")}}, "gone": nil}
	info := PodInfo{HostIP: "10.0.0.1", PodIPs: []string{"10.244.0.5", "fd00::5"},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")}}
	svcEnv := []runtime.KeyValue{{Key: "WEB_SERVICE_HOST", Value: "10.96.0.9"}}
	ref := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	res := func(r, div string) *corev1.EnvVarSource {
		s := &corev1.ResourceFieldSelector{Resource: r}
		if div != "" {
			s.Divisor = resource.MustParse(div)
		}
		return &corev1.EnvVarSource{ResourceFieldRef: s}
	}
	tests := []struct {
		name    string
		c       corev1.Container
		want    string
		wantCmd string
		wantErr string
	}{
		{name: "literal and expansion",
			c: corev1.Container{Env: []corev1.EnvVar{{Name: "X", Value: "a"}, {Name: "Y", Value: "$(X)-$(WEB_SERVICE_HOST)-$(NOPE)-$$(X)"}},
				Command: []string{"echo", "$(Y)"}, Args: []string{"$(X)$$"}},
			want: "X=a Y=a-10.96.0.9-$(NOPE)-$(X) WEB_SERVICE_HOST=10.96.0.9", wantCmd: "echo a-10.96.0.9-$(NOPE)-$(X) | a$"},
		{name: "later env refers only to earlier",
			c:    corev1.Container{Env: []corev1.EnvVar{{Name: "A", Value: "$(B)"}, {Name: "B", Value: "b"}}},
			want: "A=$(B) B=b WEB_SERVICE_HOST=10.96.0.9"},
		{name: "envFrom with prefix, env overrides",
			c: corev1.Container{EnvFrom: []corev1.EnvFromSource{{Prefix: "P_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}}},
				Env: []corev1.EnvVar{{Name: "P_A", Value: "over"}, {Name: "WEB_SERVICE_HOST", Value: "mine"}}},
			want: "P_A=over P_B=2 pw=hunter2 WEB_SERVICE_HOST=mine"},
		{name: "keyRefs",
			c: corev1.Container{Env: []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "A"}}},
				{Name: "BIN", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "bin"}}},
				{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "pw"}}},
				{Name: "OPT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Key: "pw", Optional: &yes}}},
				{Name: "OPTKEY", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "zz", Optional: &yes}}},
			}},
			want: "A=1 BIN=raw PW=hunter2 WEB_SERVICE_HOST=10.96.0.9"},
		{name: "missing configmap",
			c:       corev1.Container{Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "A"}}}}},
			wantErr: `configmap "missing" not found`},
		{name: "missing key",
			c:       corev1.Container{Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "Q"}}}}},
			wantErr: `couldn't find key Q in ConfigMap ns/cfg`},
		{name: "missing secret in envFrom",
			c:       corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}}}},
			wantErr: `secret "gone" not found`},
		{name: "optional missing envFrom",
			c:    corev1.Container{EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: &yes}}}},
			want: "WEB_SERVICE_HOST=10.96.0.9"},
		{name: "field refs",
			c: corev1.Container{Env: []corev1.EnvVar{
				{Name: "N", ValueFrom: ref("metadata.name")}, {Name: "NS", ValueFrom: ref("metadata.namespace")},
				{Name: "U", ValueFrom: ref("metadata.uid")}, {Name: "L", ValueFrom: ref("metadata.labels['app']")},
				{Name: "AN", ValueFrom: ref("metadata.annotations['note']")}, {Name: "NODE", ValueFrom: ref("spec.nodeName")},
				{Name: "SA", ValueFrom: ref("spec.serviceAccountName")}, {Name: "H", ValueFrom: ref("status.hostIP")},
				{Name: "IP", ValueFrom: ref("status.podIP")}, {Name: "IPS", ValueFrom: ref("status.podIPs")},
			}},
			want: "N=p NS=ns U=u1 L=web AN=x NODE=n1 SA=sa H=10.0.0.1 IP=10.244.0.5 IPS=10.244.0.5,fd00::5 WEB_SERVICE_HOST=10.96.0.9"},
		{name: "resource refs",
			c: corev1.Container{
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
				Env: []corev1.EnvVar{
					{Name: "LC", ValueFrom: res("limits.cpu", "")}, {Name: "RC", ValueFrom: res("requests.cpu", "1m")},
					{Name: "RC1", ValueFrom: res("requests.cpu", "")}, {Name: "LM", ValueFrom: res("limits.memory", "1Mi")},
					{Name: "LMD", ValueFrom: res("limits.memory", "")}, {Name: "RM", ValueFrom: res("requests.memory", "")},
				}},
			want: "LC=4 RC=250 RC1=1 LM=128 LMD=134217728 RM=0 WEB_SERVICE_HOST=10.96.0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(testPod(), &tt.c, Inputs{ConfigMaps: cms, Secrets: secrets, ServiceEnv: svcEnv, Info: info})
			if tt.wantErr != "" {
				var ce *ConfigError
				if err == nil || err.Error() != tt.wantErr || !asConfig(err, &ce) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := render(got.Env); r != tt.want {
				t.Errorf("env\n got %s\nwant %s", r, tt.want)
			}
			if tt.wantCmd != "" {
				if c := strings.Join(got.Command, " ") + " | " + strings.Join(got.Args, " "); c != tt.wantCmd {
					t.Errorf("command %q, want %q", c, tt.wantCmd)
				}
			}
		})
	}
}

func asConfig(err error, target **ConfigError) bool {
	ce, ok := err.(*ConfigError)
	*target = ce
	return ok
}

func TestSkippedEnvFromKeys(t *testing.T) {
	c := &corev1.Container{EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}}}
	got, err := Resolve(testPod(), c, Inputs{ConfigMaps: map[string]*corev1.ConfigMap{"cfg": {Data: map[string]string{"a=b": "1", "ok": "2"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if render(got.Env) != "ok=2" || fmt.Sprint(got.Skipped) != "[a=b]" {
		t.Errorf("env %s skipped %v", render(got.Env), got.Skipped)
	}
}

func TestNeeds(t *testing.T) {
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "a"}}}},
		Env: []corev1.EnvVar{
			{Name: "X", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "a"}}}},
			{Name: "Y", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "b"}}}},
			{Name: "Z", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}}}},
		},
	}
	cms, secs := Needs(c)
	if fmt.Sprint(cms, secs) != "[a b] [s]" {
		t.Errorf("needs %v %v", cms, secs)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for in, want := range map[string]string{
		"plain":         "plain",
		"$(A)":          "x",
		"$(A)$(A)":      "xx",
		"$$(A)":         "$(A)",
		"$$$(A)":        "$x",
		"$(B)":          "$(B)",
		"$(EMPTY)|":     "|",
		"$(A":           "$(A",
		"$A":            "$A",
		"cost $5":       "cost $5",
		"end$":          "end$",
		"$()":           "$()",
		"a $(A) b$(A)c": "a x bxc",
	} {
		if got := Expand(in, lookup); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServiceEnv(t *testing.T) {
	svc := func(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
	}
	services := []*corev1.Service{
		svc("default", "kubernetes", "10.96.0.1", corev1.ServicePort{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}),
		svc("ns", "my-db", "10.96.0.7", corev1.ServicePort{Port: 5432, Protocol: corev1.ProtocolTCP}, corev1.ServicePort{Name: "metrics", Port: 9000, Protocol: corev1.ProtocolUDP}),
		svc("ns", "headless", "None", corev1.ServicePort{Port: 80}),
		svc("other", "x", "10.96.0.8", corev1.ServicePort{Port: 80}),
	}
	got := render(ServiceEnv(testPod(), services))
	for _, want := range []string{
		"KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443", "KUBERNETES_SERVICE_PORT_HTTPS=443",
		"KUBERNETES_PORT=tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1",
		"MY_DB_SERVICE_HOST=10.96.0.7", "MY_DB_SERVICE_PORT=5432", "MY_DB_PORT=tcp://10.96.0.7:5432",
		"MY_DB_SERVICE_PORT_METRICS=9000", "MY_DB_PORT_9000_UDP=udp://10.96.0.7:9000", "MY_DB_PORT_9000_UDP_PROTO=udp",
	} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("missing %s in %s", want, got)
		}
	}
	if strings.Contains(got, "HEADLESS") || strings.Contains(got, "X_SERVICE") {
		t.Errorf("unexpected services in %s", got)
	}
	no := false
	p := testPod()
	p.Spec.EnableServiceLinks = &no
	if got := render(ServiceEnv(p, services)); strings.Contains(got, "MY_DB") || !strings.Contains(got, "KUBERNETES_SERVICE_HOST") {
		t.Errorf("links disabled: %s", got)
	}
}

func TestFieldValueMaps(t *testing.T) {
	got, err := FieldValue(testPod(), "metadata.labels", PodInfo{})
	if err != nil || got != "app=\"web\"\ntier=\"a b\"" {
		t.Errorf("labels = %q, %v", got, err)
	}
	if _, err := FieldValue(testPod(), "spec.bogus", PodInfo{}); err == nil {
		t.Error("bogus path accepted")
	}
}
