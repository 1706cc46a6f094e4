package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNamespaceCreate(t *testing.T) {
	s := namespaceStrategy()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{corev1.LabelMetadataName: "spoofed", "env": "dev"}}}
	s.Default(ns)
	s.PrepareForCreate(ns)
	if got := ns.Labels[corev1.LabelMetadataName]; got != "team-a" || ns.Labels["env"] != "dev" {
		t.Errorf("labels = %v, want metadata.name label forced to team-a", ns.Labels)
	}
	if ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("phase = %q, want Active", ns.Status.Phase)
	}
	if len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
		t.Errorf("finalizers = %v, want [kubernetes]", ns.Spec.Finalizers)
	}
	coreExpectErrs(t, s.Validate(ns))
}

func TestNamespaceValidation(t *testing.T) {
	s := namespaceStrategy()
	for _, tt := range []struct {
		name       string
		finalizers []corev1.FinalizerName
		want       []string
	}{
		{"standard", []corev1.FinalizerName{"kubernetes"}, nil},
		{"qualified", []corev1.FinalizerName{"example.com/cleanup"}, nil},
		{"unqualified", []corev1.FinalizerName{"cleanup"}, []string{"Invalid spec.finalizers[0]"}},
		{"bad chars", []corev1.FinalizerName{"example.com/a b"}, []string{"Invalid spec.finalizers[0]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: corev1.NamespaceSpec{Finalizers: tt.finalizers}}
			coreExpectErrs(t, s.Validate(ns), tt.want...)
		})
	}
}

func TestNamespaceUpdateKeepsFinalizers(t *testing.T) {
	s := namespaceStrategy()
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}}}
	ns := old.DeepCopy()
	ns.Spec.Finalizers = nil
	ns.Labels = nil
	s.Default(ns)
	s.PrepareForUpdate(ns, old)
	if len(ns.Spec.Finalizers) != 1 || ns.Labels[corev1.LabelMetadataName] != "a" {
		t.Errorf("finalizers %v labels %v, want kept finalizers and forced label", ns.Spec.Finalizers, ns.Labels)
	}
}
