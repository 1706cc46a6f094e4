package replicaset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newRS(name string, replicas int32) *appsv1.ReplicaSet {
	lbl := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 2},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

// newPod is a running, ready pod of owner (nil: an orphan) on node n1.
func newPod(name string, owner metav1.Object, gvk schema.GroupVersionKind, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": "web", "tier": "web"}, CreationTimestamp: metav1.NewTime(testNow.Add(-time.Hour))},
		Spec: corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(testNow.Add(-time.Hour)),
		}}},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{kit.ControllerRef(owner, gvk)}
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }

func on(node string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.NodeName = node } }

var rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

type fixture struct {
	client   *fake.Clientset
	c        *Controller
	recorder *record.FakeRecorder
	creates  atomic.Int32
}

// newFixture preloads objs into both the fake API and the caches.
func newFixture(t *testing.T, rc bool, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100)}
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s%d", p.GenerateName, f.creates.Add(1))
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(f.client, 0)
	cfg := Config{Client: f.client, Pods: factory.Core().V1().Pods(), Recorder: f.recorder, Now: func() time.Time { return testNow }}
	var err error
	if rc {
		cfg.ReplicationControllers = factory.Core().V1().ReplicationControllers()
		f.c, err = NewForReplicationControllers(cfg)
	} else {
		cfg.ReplicaSets = factory.Apps().V1().ReplicaSets()
		f.c, err = New(cfg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.c.queue.ShutDown)
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			err = factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.ReplicationController:
			err = factory.Core().V1().ReplicationControllers().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.client.ClearActions()
	return f
}

// verbs lists the client's actions as "verb resource[/sub]".
func verbs(actions []clienttesting.Action) string {
	var out []string
	for _, a := range actions {
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		out = append(out, a.GetVerb()+" "+r)
	}
	return strings.Join(out, ", ")
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func wantVerbs(t *testing.T, got []clienttesting.Action, want ...string) {
	t.Helper()
	if g, w := verbs(got), strings.Join(want, ", "); g != w {
		t.Errorf("actions:\n got  %s\n want %s", g, w)
	}
}

func rsStatus(t *testing.T, actions []clienttesting.Action) appsv1.ReplicaSetStatus {
	t.Helper()
	for _, a := range actions {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			return a.(clienttesting.UpdateAction).GetObject().(*appsv1.ReplicaSet).Status
		}
	}
	t.Fatalf("no status update in %s", verbs(actions))
	return appsv1.ReplicaSetStatus{}
}

func events(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestSyncScalesUpAndExpectsTheNewPods(t *testing.T) {
	rs := newRS("web", 3)
	f := newFixture(t, false, rs)
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, f.client.Actions(), append(repeat("create pods", 3), "update replicasets/status")...)
	for _, a := range f.client.Actions()[:3] {
		p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod)
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || p.Labels["tier"] != "web" || p.GenerateName != "web-" {
			t.Errorf("created pod %+v, want the template's labels, generateName web- and a controller ref to web", p.ObjectMeta)
		}
	}
	if st := rsStatus(t, f.client.Actions()); st.Replicas != 0 || st.ObservedGeneration != 2 {
		t.Errorf("status %+v, want 0 replicas observed at generation 2", st)
	}
	if ev := events(f.recorder); len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: web-") {
		t.Errorf("events %q, want 3 SuccessfulCreate", ev)
	}

	// The informer has not seen the pods: a second sync must not create
	// more (the cached status is stale, so it is written again).
	f.client.ClearActions()
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, f.client.Actions(), "update replicasets/status")
}

func TestSyncSlowStartStopsOnFailure(t *testing.T) {
	rs := newRS("web", 10)
	f := newFixture(t, false, rs)
	f.client.PrependReactor("create", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("exceeded quota"))
	})
	err := f.c.sync(context.Background(), "ns/web")
	if err == nil || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("sync error %v, want the quota error", err)
	}
	wantVerbs(t, f.client.Actions(), "create pods", "update replicasets/status")
	st := rsStatus(t, f.client.Actions())
	if len(st.Conditions) != 1 || st.Conditions[0].Type != appsv1.ReplicaSetReplicaFailure ||
		st.Conditions[0].Reason != "FailedCreate" || !strings.Contains(st.Conditions[0].Message, "exceeded quota") {
		t.Errorf("conditions %+v, want ReplicaFailure FailedCreate", st.Conditions)
	}
	if ev := events(f.recorder); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning FailedCreate Error creating:") {
		t.Errorf("events %q, want one FailedCreate", ev)
	}
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("failed and skipped creations still expected")
	}
}

func TestSlowStart(t *testing.T) {
	for _, tc := range []struct {
		count, failAt   int // failAt: 1-based call that fails, 0 none
		wantCalls, want int
	}{
		{count: 0, wantCalls: 0, want: 0},
		{count: 10, wantCalls: 10, want: 10},
		{count: 10, failAt: 1, wantCalls: 1, want: 1},
		{count: 10, failAt: 2, wantCalls: 3, want: 3},
		{count: 10, failAt: 5, wantCalls: 7, want: 7},
		{count: 5, failAt: 5, wantCalls: 5, want: 5},
	} {
		var calls atomic.Int32
		got, err := slowStart(tc.count, 1, func() error {
			if n := calls.Add(1); int(n) == tc.failAt {
				return errors.New("boom")
			}
			return nil
		})
		if got != tc.want || int(calls.Load()) != tc.wantCalls || (err != nil) != (tc.failAt > 0) {
			t.Errorf("count %d failAt %d: done %d calls %d err %v, want %d, %d", tc.count, tc.failAt, got, calls.Load(), err, tc.want, tc.wantCalls)
		}
	}
}

func TestSyncScalesDownLeastValuableFirst(t *testing.T) {
	rs := newRS("web", 2)
	rs.Spec.Selector.MatchLabels = map[string]string{"app": "web"}
	pods := []runtime.Object{
		newPod("ready-a", rs, rsKind, on("n1")),
		newPod("ready-b", rs, rsKind, on("n2")),
		newPod("ready-c", rs, rsKind, on("n2")),
		newPod("not-ready", rs, rsKind, notReady, on("n3")),
		newPod("pending", rs, rsKind, notReady, func(p *corev1.Pod) { p.Spec.NodeName = ""; p.Status.Phase = corev1.PodPending }),
	}
	f := newFixture(t, false, append(pods, rs)...)
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "delete" {
			deleted = append(deleted, a.(clienttesting.DeleteAction).GetName())
		}
	}
	// pending and not-ready first, then one of the two pods sharing n2.
	if len(deleted) != 3 || !contains(deleted, "pending") || !contains(deleted, "not-ready") ||
		!(contains(deleted, "ready-b") || contains(deleted, "ready-c")) {
		t.Errorf("deleted %v, want pending, not-ready and one of ready-b/ready-c", deleted)
	}
	if f.c.expectations.Satisfied("ns/web") {
		t.Error("deletions not expected")
	}
	if st := rsStatus(t, f.client.Actions()); st.Replicas != 5 || st.ReadyReplicas != 3 || st.FullyLabeledReplicas != 5 {
		t.Errorf("status %+v, want replicas 5 ready 3", st)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSyncAdoptsAndReleases(t *testing.T) {
	rs := newRS("web", 2)
	rs.Spec.Selector.MatchLabels = map[string]string{"app": "web"}
	other := newRS("other", 1)
	pods := []runtime.Object{
		newPod("orphan", nil, rsKind),
		newPod("mine-unmatched", rs, rsKind, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "x"} }),
		newPod("theirs", other, rsKind),
		newPod("mine", rs, rsKind),
	}
	f := newFixture(t, false, append(pods, rs, other)...)
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	// In name order: release mine-unmatched, check the owner, adopt orphan.
	wantVerbs(t, f.client.Actions(), "patch pods", "get replicasets", "patch pods", "update replicasets/status")
	patched := map[string]string{}
	for _, a := range f.client.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			patched[p.GetName()] = string(p.GetPatch())
		}
	}
	if !strings.Contains(patched["orphan"], `"uid":"uid-web"`) || !strings.Contains(patched["mine-unmatched"], `"$patch":"delete"`) {
		t.Errorf("patches %v, want orphan adopted and mine-unmatched released", patched)
	}
	if st := rsStatus(t, f.client.Actions()); st.Replicas != 2 || st.AvailableReplicas != 2 {
		t.Errorf("status %+v, want 2 replicas (orphan + mine)", st)
	}
}

func TestSyncStatusWaitsForMinReadySeconds(t *testing.T) {
	rs := newRS("web", 2)
	rs.Spec.Selector.MatchLabels = map[string]string{"app": "web"}
	rs.Spec.MinReadySeconds = 30
	fresh := func(p *corev1.Pod) {
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(testNow.Add(-10 * time.Second))
	}
	f := newFixture(t, false, rs, newPod("old", rs, rsKind), newPod("fresh", rs, rsKind, fresh),
		newPod("going", rs, rsKind, func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(testNow)) }))
	err := f.c.sync(context.Background(), "ns/web")
	var after kit.RequeueAfter
	if !errors.As(err, &after) || time.Duration(after) < 20*time.Second || time.Duration(after) > 21*time.Second {
		t.Fatalf("sync returned %v, want a requeue in about 20s", err)
	}
	st := rsStatus(t, f.client.Actions())
	if st.Replicas != 2 || st.ReadyReplicas != 2 || st.AvailableReplicas != 1 || st.TerminatingReplicas == nil || *st.TerminatingReplicas != 1 {
		t.Errorf("status %+v, want 2 replicas, 2 ready, 1 available, 1 terminating", st)
	}

	// Unchanged status: no write.
	rs2 := rs.DeepCopy()
	rs2.Status = st
	f = newFixture(t, false, rs2, newPod("old", rs, rsKind), newPod("fresh", rs, rsKind, fresh),
		newPod("going", rs, rsKind, func(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(testNow)) }))
	_ = f.c.sync(context.Background(), "ns/web")
	wantVerbs(t, f.client.Actions())
}

func TestSyncReplicationController(t *testing.T) {
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-rc", Generation: 3},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: ptr.To[int32](2),
			Selector: map[string]string{"app": "web"},
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
	rcKind := corev1.SchemeGroupVersion.WithKind("ReplicationController")
	f := newFixture(t, true, rc, newPod("existing", rc, rcKind))
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, f.client.Actions(), "create pods", "update replicationcontrollers/status")
	p := f.client.Actions()[0].(clienttesting.CreateAction).GetObject().(*corev1.Pod)
	if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "ReplicationController" || ref.APIVersion != "v1" || ref.UID != "uid-rc" {
		t.Errorf("created pod owner %+v, want the RC", p.OwnerReferences)
	}
	got := f.client.Actions()[1].(clienttesting.UpdateAction).GetObject().(*corev1.ReplicationController)
	if got.Status.Replicas != 1 || got.Status.ReadyReplicas != 1 || got.Status.ObservedGeneration != 3 || got.Spec.Selector["app"] != "web" {
		t.Errorf("RC written %+v, want status replicas 1 ready 1 generation 3 and the spec untouched", got)
	}
	if ev := events(f.recorder); len(ev) != 1 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate") {
		t.Errorf("events %q", ev)
	}
}

func TestPodEventsObserveExpectations(t *testing.T) {
	rs := newRS("web", 1)
	f := newFixture(t, false, rs)
	f.c.expectations.ExpectCreations("ns/web", 1)
	f.c.addPod(newPod("p", rs, rsKind))
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("creation not observed by addPod")
	}
	f.c.expectations.ExpectDeletions("ns/web", []string{"ns/p"})
	old := newPod("p", rs, rsKind)
	cur := old.DeepCopy()
	cur.ResourceVersion, cur.DeletionTimestamp = "2", ptr.To(metav1.NewTime(testNow))
	f.c.updatePod(old, cur)
	if !f.c.expectations.Satisfied("ns/web") {
		t.Error("deletion not observed on the deletion timestamp")
	}
	if f.c.queue.Len() != 1 {
		t.Errorf("queue length %d, want the owner queued once", f.c.queue.Len())
	}
	// A pod of another owner with the same name is not ours.
	f.c.expectations.ExpectCreations("ns/web", 1)
	f.c.addPod(newPod("q", &metav1.ObjectMeta{Name: "web", UID: "someone-else"}, rsKind))
	if f.c.expectations.Satisfied("ns/web") {
		t.Error("a pod of a replaced owner was counted")
	}
}
