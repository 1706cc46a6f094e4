package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestNameRule(t *testing.T) {
	core := corev1.SchemeGroupVersion.WithKind
	rbac := schema.GroupVersionKind{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"}
	tests := []struct {
		gvk   schema.GroupVersionKind
		name  string
		valid bool
	}{
		{core("Namespace"), "team-a", true},
		{core("Namespace"), "team.a", false},
		{core("Namespace"), "Team", false},
		{core("Service"), "web", true},
		{core("Service"), "1web", false},
		{core("Service"), "web.v1", false},
		{core("Pod"), "web.v1", true},
		{core("Pod"), "1web", true},
		{core("ConfigMap"), "kube-root-ca.crt", true},
		{core("ConfigMap"), "Bad_Name", false},
		{rbac, "system:controller:job-controller", true},
		{rbac, "a/b", false},
	}
	for _, tt := range tests {
		if got := len(NameRule(tt.gvk)(tt.name, false)) == 0; got != tt.valid {
			t.Errorf("NameRule(%s)(%q) valid = %v, want %v", tt.gvk.Kind, tt.name, got, tt.valid)
		}
	}
}

func TestValidateObjectMeta(t *testing.T) {
	tests := []struct {
		name       string
		meta       metav1.ObjectMeta
		namespaced bool
		want       []string
	}{
		{"valid", metav1.ObjectMeta{Name: "a", Namespace: "default", Labels: map[string]string{"app": "a"}}, true, nil},
		{"no name", metav1.ObjectMeta{Namespace: "default"}, true, []string{"Required metadata.name"}},
		{"no namespace", metav1.ObjectMeta{Name: "a"}, true, []string{"Required metadata.namespace"}},
		{"namespace on cluster-scoped", metav1.ObjectMeta{Name: "a", Namespace: "x"}, false, []string{"Forbidden metadata.namespace"}},
		{"bad label", metav1.ObjectMeta{Name: "a", Namespace: "default", Labels: map[string]string{"a b": "c"}}, true, []string{"Invalid metadata.labels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := validateObjectMeta(&tt.meta, tt.namespaced, NameRule(corev1.SchemeGroupVersion.WithKind("Pod")), field.NewPath("metadata"))
			coreExpectErrs(t, errs, tt.want...)
		})
	}
	old := metav1.ObjectMeta{Name: "a", Namespace: "default", UID: "1", ResourceVersion: "1"}
	changed := old
	changed.Name = "b"
	coreExpectErrs(t, validateObjectMetaUpdate(&changed, &old, field.NewPath("metadata")), "Invalid metadata.name")
}
