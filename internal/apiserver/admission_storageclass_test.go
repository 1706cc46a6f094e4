package apiserver

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestDefaultStorageClass(t *testing.T) {
	at := func(name string, sec int, def bool) *storagev1.StorageClass {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(int64(sec), 0))}}
		if def {
			sc.Annotations = map[string]string{defaultStorageClassAnnotation: "true"}
		}
		return sc
	}
	cases := []struct {
		name string
		objs []runtime.Object
		want string
	}{
		{"none", []runtime.Object{at("a", 1, false)}, ""},
		{"one default", []runtime.Object{at("a", 1, false), at("b", 2, true)}, "b"},
		{"newest default", []runtime.Object{at("new", 5, true), at("old", 1, true)}, "new"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if sc := defaultStorageClass(tc.objs); sc != nil {
				got = sc.Name
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTaintNewNode(t *testing.T) {
	node := &corev1.Node{}
	admitTaintNewNode(node)
	admitTaintNewNode(node) // idempotent
	want := []corev1.Taint{{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule}}
	if len(node.Spec.Taints) != 1 || node.Spec.Taints[0] != want[0] {
		t.Errorf("taints %v, want %v", node.Spec.Taints, want)
	}
	pod := &corev1.Pod{}
	admitTaintNewNode(pod) // other kinds untouched
}
