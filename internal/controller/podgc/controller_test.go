package podgc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func pod(name, node string, phase corev1.PodPhase, age time.Duration) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(testNow.Add(-age))}}
	p.Spec.NodeName = node
	p.Status.Phase = phase
	return p
}

func name_(s string) string { return s }

func names(pods []*corev1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

func TestMakePlan(t *testing.T) {
	deleting := pod("deleting", "", corev1.PodPending, time.Minute)
	deleting.DeletionTimestamp = ptr.To(metav1.NewTime(testNow))
	pods := []*corev1.Pod{
		pod("new-done", "n1", corev1.PodSucceeded, time.Minute),
		pod("old-done", "n1", corev1.PodFailed, time.Hour),
		pod("mid-done", "n1", corev1.PodSucceeded, 30*time.Minute),
		pod("running", "n1", corev1.PodRunning, time.Hour),
		pod("orphan", "gone", corev1.PodRunning, time.Minute),
		deleting,
	}
	gone := func(n string) bool { return n == "gone" }
	for _, tc := range []struct {
		threshold                     int
		terminated, orphaned, unsched string
	}{
		{1, "old-done,mid-done", "orphan", "deleting"},
		{3, "", "orphan", "deleting"},
		{0, "old-done,mid-done,new-done", "orphan", "deleting"},
		{-1, "", "orphan", "deleting"},
	} {
		p := makePlan(pods, tc.threshold, gone)
		if names(p.terminated) != tc.terminated || names(p.orphaned) != tc.orphaned || names(p.unscheduledTerminating) != tc.unsched {
			t.Errorf("threshold %d: terminated %q orphaned %q unscheduled %q", tc.threshold, names(p.terminated), names(p.orphaned), names(p.unscheduledTerminating))
		}
	}
}

func TestCollectOrphansAfterGrace(t *testing.T) {
	orphan := pod("orphan", "gone", corev1.PodRunning, time.Minute)
	kept := pod("kept", "n1", corev1.PodRunning, time.Minute)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	client := fake.NewClientset([]runtime.Object{orphan, kept, node}...)
	factory := informers.NewSharedInformerFactory(client, 0)
	pods, nodes := factory.Core().V1().Pods(), factory.Core().V1().Nodes()
	for _, p := range []*corev1.Pod{orphan, kept} {
		if err := pods.Informer().GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := nodes.Informer().GetIndexer().Add(node); err != nil {
		t.Fatal(err)
	}
	clk := testingclock.NewFakeClock(testNow)
	c, err := New(Config{Client: client, Pods: pods, Nodes: nodes, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.collect(ctx); err != nil {
		t.Fatal(err)
	}
	if a := client.Actions(); len(a) != 0 {
		t.Fatalf("first pass acted before the grace: %v", a)
	}
	clk.Step(defaultOrphanGrace)
	if err := c.collect(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range client.Actions() {
		got = append(got, fmt.Sprintf("%s %s/%s", a.GetVerb(), a.GetResource().Resource, a.GetSubresource()))
	}
	want := []string{"get nodes/", "patch pods/status", "delete pods/"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	patch := string(client.Actions()[1].(clienttesting.PatchAction).GetPatch())
	if !strings.Contains(patch, `"DisruptionTarget"`) || !strings.Contains(patch, reasonDeletionByPodGC) || !strings.Contains(patch, `"phase":"Failed"`) {
		t.Errorf("status patch %s", patch)
	}
	del := client.Actions()[2].(clienttesting.DeleteAction)
	if del.GetName() != "orphan" || ptr.Deref(del.GetDeleteOptions().GracePeriodSeconds, -1) != 0 {
		t.Errorf("deleted %s with %+v", del.GetName(), del.GetDeleteOptions())
	}
}
