package registry

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestConfigMapValidation(t *testing.T) {
	s := configMapStrategy()
	for _, tt := range []struct {
		name string
		cm   corev1.ConfigMap
		want []string
	}{
		{"valid", corev1.ConfigMap{Data: map[string]string{"app.conf": "x", "_KEY-1": "y"}, BinaryData: map[string][]byte{"blob": {1}}}, nil},
		{"bad key", corev1.ConfigMap{Data: map[string]string{"a b": "x"}}, []string{"Invalid data[a b]"}},
		{"dot-dot key", corev1.ConfigMap{Data: map[string]string{"..": "x"}}, []string{"Invalid data[..]"}},
		{"key in both", corev1.ConfigMap{Data: map[string]string{"k": "x"}, BinaryData: map[string][]byte{"k": {1}}}, []string{"Invalid binaryData[k]"}},
		{"exactly 1 MiB of values", corev1.ConfigMap{Data: map[string]string{"k": strings.Repeat("x", corev1.MaxSecretSize)}}, nil},
		{"too large", corev1.ConfigMap{Data: map[string]string{"k": strings.Repeat("x", corev1.MaxSecretSize)}, BinaryData: map[string][]byte{"b": {1}}}, []string{"TooLong []"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cm := tt.cm
			cm.ObjectMeta = metav1.ObjectMeta{Name: "c", Namespace: "default"}
			coreExpectErrs(t, s.Validate(&cm), tt.want...)
		})
	}
}

func TestConfigMapImmutable(t *testing.T) {
	s := configMapStrategy()
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"a": "1"}, Immutable: ptr.To(true)}
	for _, tt := range []struct {
		name   string
		mutate func(*corev1.ConfigMap)
		want   []string
	}{
		{"labels only", func(c *corev1.ConfigMap) { c.Labels = map[string]string{"x": "y"} }, nil},
		{"data change", func(c *corev1.ConfigMap) { c.Data["a"] = "2" }, []string{"Forbidden data"}},
		{"binaryData added", func(c *corev1.ConfigMap) { c.BinaryData = map[string][]byte{"b": {1}} }, []string{"Forbidden binaryData"}},
		{"unset immutable", func(c *corev1.ConfigMap) { c.Immutable = nil }, []string{"Forbidden immutable"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cm := old.DeepCopy()
			tt.mutate(cm)
			coreExpectErrs(t, s.ValidateUpdate(cm, old), tt.want...)
		})
	}
	mutable := old.DeepCopy()
	mutable.Immutable = nil
	changed := mutable.DeepCopy()
	changed.Data["a"] = "2"
	changed.Immutable = ptr.To(true)
	coreExpectErrs(t, s.ValidateUpdate(changed, mutable))
}

func TestSecretDefaults(t *testing.T) {
	s := secretStrategy()
	sec := &corev1.Secret{Data: map[string][]byte{"a": []byte("old"), "b": []byte("b")}, StringData: map[string]string{"a": "new", "c": "c"}}
	s.Default(sec)
	if sec.Type != corev1.SecretTypeOpaque {
		t.Errorf("type = %q, want Opaque", sec.Type)
	}
	if string(sec.Data["a"]) != "new" || string(sec.Data["b"]) != "b" || string(sec.Data["c"]) != "c" || sec.StringData != nil {
		t.Errorf("data = %q stringData = %v, want stringData merged over data", sec.Data, sec.StringData)
	}
}

func TestSecretValidation(t *testing.T) {
	s := secretStrategy()
	for _, tt := range []struct {
		name string
		sec  corev1.Secret
		want []string
	}{
		{"opaque", corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": nil}}, nil},
		{"bad key", corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a/b": nil}}, []string{"Invalid data[a/b]"}},
		{"too large", corev1.Secret{Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": make([]byte, corev1.MaxSecretSize+1)}}, []string{"TooLong data"}},
		{"tls", corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}}, nil},
		{"tls without keys", corev1.Secret{Type: corev1.SecretTypeTLS}, []string{"Required data[tls.crt]", "Required data[tls.key]"}},
		{"dockerconfigjson", corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}}, nil},
		{"dockerconfigjson bad json", corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte(`{`)}}, []string{"Invalid data[.dockerconfigjson]"}},
		{"dockerconfigjson missing", corev1.Secret{Type: corev1.SecretTypeDockerConfigJson}, []string{"Required data[.dockerconfigjson]"}},
		{"basic auth empty", corev1.Secret{Type: corev1.SecretTypeBasicAuth}, []string{"Required data[password]", "Required data[username]"}},
		{"ssh auth", corev1.Secret{Type: corev1.SecretTypeSSHAuth}, []string{"Required data[ssh-privatekey]"}},
		{"sa token without annotation", corev1.Secret{Type: corev1.SecretTypeServiceAccountToken}, []string{"Required metadata.annotations[kubernetes.io/service-account.name]"}},
		{"custom type", corev1.Secret{Type: "example.com/custom"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sec := tt.sec
			sec.ObjectMeta = metav1.ObjectMeta{Name: "s", Namespace: "default"}
			coreExpectErrs(t, s.Validate(&sec), tt.want...)
		})
	}
}

func TestSecretUpdate(t *testing.T) {
	s := secretStrategy()
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": []byte("1")}}
	sec := old.DeepCopy()
	sec.Type = corev1.SecretTypeTLS
	sec.Data = map[string][]byte{"tls.crt": nil, "tls.key": nil}
	coreExpectErrs(t, s.ValidateUpdate(sec, old), "Invalid type")

	old.Immutable = ptr.To(true)
	sec = old.DeepCopy()
	sec.Data["a"] = []byte("2")
	coreExpectErrs(t, s.ValidateUpdate(sec, old), "Forbidden data")
}
