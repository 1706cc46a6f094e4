package kit

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

func TestOwnedPodHandlers(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	q := workqueue.NewTyped[string]()
	defer q.ShutDown()
	exp := NewExpectations(nil)
	h := OwnedPodHandlers(gvk, q, exp, func(p *corev1.Pod) []string { return []string{"ns/adopter"} })
	drain := func() []string {
		var keys []string
		for q.Len() > 0 {
			k, _ := q.Get()
			keys = append(keys, k)
			q.Done(k)
		}
		return keys
	}
	owned := pod("a", func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{ControllerRef(&metav1.ObjectMeta{Name: "ds", UID: "u"}, gvk)}
	})
	exp.ExpectCreations("ns/ds", 1)
	h.OnAdd(owned, false)
	if got := drain(); len(got) != 1 || got[0] != "ns/ds" || !exp.Satisfied("ns/ds") {
		t.Fatalf("owned add queued %v, satisfied %v", got, exp.Satisfied("ns/ds"))
	}
	h.OnAdd(pod("orphan", nil), false)
	if got := drain(); len(got) != 1 || got[0] != "ns/adopter" {
		t.Fatalf("orphan add queued %v", got)
	}
	exp.ExpectDeletions("ns/ds", []string{"ns/a"})
	gone := owned.DeepCopy()
	gone.ResourceVersion, gone.DeletionTimestamp = "2", &metav1.Time{}
	h.OnUpdate(owned, gone)
	if got := drain(); len(got) != 1 || !exp.Satisfied("ns/ds") {
		t.Fatalf("graceful deletion queued %v, satisfied %v", got, exp.Satisfied("ns/ds"))
	}
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/a", Obj: owned})
	if got := drain(); len(got) != 1 || got[0] != "ns/ds" {
		t.Fatalf("tombstone queued %v", got)
	}
}

func TestRecheckOwner(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "ds", Namespace: "ns", UID: "u1"}
	for _, tc := range []struct {
		name  string
		fresh *metav1.ObjectMeta
		want  string
	}{
		{"same", &metav1.ObjectMeta{UID: "u1"}, ""},
		{"replaced", &metav1.ObjectMeta{UID: "u2"}, "daemonset ns/ds was replaced"},
		{"deleting", &metav1.ObjectMeta{UID: "u1", DeletionTimestamp: &metav1.Time{}}, "daemonset ns/ds is being deleted"},
	} {
		check := RecheckOwner(owner, "DaemonSet", func(context.Context, string, string) (*metav1.ObjectMeta, error) { return tc.fresh, nil })
		err := check(context.Background())
		if got := fmt.Sprint(err); (tc.want == "" && err != nil) || (tc.want != "" && got != tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
