package kit

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func pod(name string, mod func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "a"}}}
	p.Spec.NodeName = "n1"
	p.Status.Phase = corev1.PodRunning
	if mod != nil {
		mod(p)
	}
	return p
}

func ready(since time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}
	}
}

func TestSortForDeletion(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pods := []*corev1.Pod{
		pod("ready-old", ready(t0)),
		pod("ready-new", ready(t0.Add(time.Hour))),
		pod("running-not-ready", nil),
		pod("pending", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }),
		pod("unscheduled", func(p *corev1.Pod) { p.Spec.NodeName = ""; p.Status.Phase = corev1.PodPending }),
		pod("ready-cheap", func(p *corev1.Pod) {
			ready(t0)(p)
			p.Annotations = map[string]string{DeletionCostAnnotation: "-5"}
		}),
	}
	SortForDeletion(pods, nil)
	want := []string{"unscheduled", "pending", "running-not-ready", "ready-cheap", "ready-new", "ready-old"}
	for i, p := range pods {
		if p.Name != want[i] {
			t.Fatalf("order[%d] = %s, want %s (full want %v)", i, p.Name, want[i], want)
		}
	}
}

func TestIsPodAvailable(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := pod("p", ready(t0))
	for _, tc := range []struct {
		min  int32
		now  time.Time
		want bool
	}{
		{0, t0, true},
		{10, t0.Add(9 * time.Second), false},
		{10, t0.Add(10 * time.Second), true},
	} {
		if got := IsPodAvailable(p, tc.min, tc.now); got != tc.want {
			t.Errorf("IsPodAvailable(min=%d, now=%s) = %v, want %v", tc.min, tc.now, got, tc.want)
		}
	}
	if IsPodAvailable(pod("q", nil), 0, t0) {
		t.Error("a pod without Ready is available")
	}
}

func TestExpectations(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := NewExpectations(func() time.Time { return now })
	if !e.Satisfied("k") {
		t.Fatal("empty expectations not satisfied")
	}
	e.ExpectCreations("k", 2)
	e.ExpectDeletions("k", []string{"ns/a"})
	e.CreationObserved("k")
	e.CreationObserved("k")
	if e.Satisfied("k") {
		t.Fatal("satisfied with a deletion pending")
	}
	e.DeletionObserved("k", "ns/a")
	if !e.Satisfied("k") {
		t.Fatal("not satisfied after all observed")
	}
	e.ExpectCreations("k", 1)
	now = now.Add(ExpectationsTimeout + time.Second)
	if !e.Satisfied("k") {
		t.Fatal("expired expectations still block")
	}
}

func TestClaim(t *testing.T) {
	owner := &metav1.ObjectMeta{Name: "rs", Namespace: "ns", UID: "owner"}
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
	other := ControllerRef(&metav1.ObjectMeta{Name: "x", UID: "other"}, gvk)
	mine := ControllerRef(owner, gvk)
	pods := []*corev1.Pod{
		pod("orphan-match", nil),
		pod("orphan-nomatch", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "b"} }),
		pod("mine-match", func(p *corev1.Pod) { p.OwnerReferences = []metav1.OwnerReference{mine} }),
		pod("mine-nomatch", func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{mine}
			p.Labels = nil
		}),
		pod("theirs", func(p *corev1.Pod) { p.OwnerReferences = []metav1.OwnerReference{other} }),
	}
	client := fake.NewClientset()
	for _, p := range pods {
		if _, err := client.CoreV1().Pods("ns").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c := &Claimer{
		Owner: owner, GVK: gvk, Selector: labels.SelectorFromSet(labels.Set{"app": "a"}),
		Patch: func(ctx context.Context, ns, name string, patch []byte) error {
			_, err := client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}
	claimed, err := Claim(context.Background(), c, pods)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range claimed {
		names = append(names, p.Name)
	}
	if len(names) != 2 || names[0] != "mine-match" || names[1] != "orphan-match" {
		t.Fatalf("claimed %v, want [mine-match orphan-match] (name order)", names)
	}
	check := func(name string, wantOwner types.UID) {
		t.Helper()
		p, err := client.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got types.UID
		if ref := metav1.GetControllerOf(p); ref != nil {
			got = ref.UID
		}
		if got != wantOwner {
			t.Errorf("%s controller = %q, want %q", name, got, wantOwner)
		}
	}
	check("orphan-match", "owner")
	check("mine-nomatch", "")
	check("orphan-nomatch", "")
	check("theirs", "other")
}
