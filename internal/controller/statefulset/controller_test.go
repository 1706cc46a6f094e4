package statefulset

import (
	"context"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// spod is pod <set>-<ordinal> of set "web" at revision rev, Running and
// Ready unless mods say otherwise.
func spod(ordinal int, rev string, mods ...func(*corev1.Pod)) *corev1.Pod {
	name := "web-" + string(rune('0'+ordinal))
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": "web", appsv1.StatefulSetRevisionLabel: rev}}}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(testNow.Add(-time.Hour))}}
	for _, m := range mods {
		m(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions = nil }
func failed(p *corev1.Pod)   { p.Status.Phase = corev1.PodFailed }
func terminating(p *corev1.Pod) {
	ts := metav1.NewTime(testNow)
	p.DeletionTimestamp = &ts
}

func byOrdinal(pods ...*corev1.Pod) map[int]*corev1.Pod {
	out := map[int]*corev1.Pod{}
	for _, p := range pods {
		out[int(p.Name[len(p.Name)-1]-'0')] = p
	}
	return out
}

func podNames(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestDecide(t *testing.T) {
	ordered := func(n int, pods ...*corev1.Pod) view {
		return view{replicas: n, monotonic: true, rolling: true, maxUnavailable: 1, updateRev: "r2", now: testNow, pods: byOrdinal(pods...)}
	}
	parallel := func(n int, pods ...*corev1.Pod) view {
		v := ordered(n, pods...)
		v.monotonic = false
		return v
	}
	withPartition := func(v view, p int) view { v.partition = p; return v }
	withStart := func(v view, s int) view { v.start = s; return v }
	withMaxUnavailable := func(v view, m int) view { v.maxUnavailable = m; return v }
	for _, tc := range []struct {
		name       string
		v          view
		wantCreate []int
		wantDelete []string
	}{
		{"ordered: first pod only", ordered(3), []int{0}, nil},
		{"ordered: waits for web-0 to be ready", ordered(3, spod(0, "r2", notReady)), nil, nil},
		{"ordered: next once web-0 is ready", ordered(3, spod(0, "r2")), []int{1}, nil},
		{"ordered: waits for a terminating pod", ordered(3, spod(0, "r2", terminating)), nil, nil},
		{"ordered: failed pod deleted to be recreated", ordered(2, spod(0, "r2", failed)), nil, []string{"web-0"}},
		{"ordered: gap filled first", ordered(3, spod(0, "r2"), spod(2, "r2")), []int{1}, nil},
		{"ordered: start ordinal", withStart(ordered(2), 3), []int{3}, nil},
		{"ordered: scale down highest first", ordered(1, spod(0, "r2"), spod(1, "r2"), spod(2, "r2")), nil, []string{"web-2"}},
		{"ordered: scale down waits for the highest to go", ordered(1, spod(0, "r2"), spod(1, "r2"), spod(2, "r2", terminating)), nil, nil},
		{"ordered: no scale down while a pod is unready", ordered(1, spod(0, "r2", notReady), spod(1, "r2")), nil, nil},
		{"parallel: all at once", parallel(3), []int{0, 1, 2}, nil},
		{"parallel: scale down all at once", parallel(1, spod(0, "r2", notReady), spod(1, "r2"), spod(2, "r2")), nil, []string{"web-2", "web-1"}},
		{"rolling: highest outdated first", ordered(3, spod(0, "r1"), spod(1, "r1"), spod(2, "r1")), nil, []string{"web-2"}},
		{"rolling: next below the updated", ordered(3, spod(0, "r1"), spod(1, "r1"), spod(2, "r2")), nil, []string{"web-1"}},
		{"rolling: partition spares lower ordinals", withPartition(ordered(3, spod(0, "r1"), spod(1, "r1"), spod(2, "r2")), 2), nil, nil},
		{"rolling: maxUnavailable 2", withMaxUnavailable(parallel(3, spod(0, "r1"), spod(1, "r1"), spod(2, "r1")), 2), nil, []string{"web-2", "web-1"}},
		{"rolling: budget spent by an unready pod", parallel(3, spod(0, "r1"), spod(1, "r1"), spod(2, "r2", notReady)), nil, nil},
		{"OnDelete: outdated pods stay", view{replicas: 1, monotonic: true, updateRev: "r2", now: testNow, pods: byOrdinal(spod(0, "r1"))}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := decide(tc.v)
			if !slices.Equal(st.create, tc.wantCreate) {
				t.Errorf("create = %v, want %v", st.create, tc.wantCreate)
			}
			if got := podNames(st.delete); !slices.Equal(got, append([]string{}, tc.wantDelete...)) {
				t.Errorf("delete = %v, want %v", got, tc.wantDelete)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	v := view{replicas: 3, updateRev: "r2", minReadySeconds: 30, now: testNow, pods: byOrdinal(
		spod(0, "r1"),
		spod(1, "r2", func(p *corev1.Pod) { p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(testNow) }),
		spod(2, "r2", notReady),
		spod(3, "r2", terminating),
	)}
	got := counts(v, "r1")
	want := appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 1, CurrentReplicas: 1, UpdatedReplicas: 2}
	if got.Replicas != want.Replicas || got.ReadyReplicas != want.ReadyReplicas || got.AvailableReplicas != want.AvailableReplicas ||
		got.CurrentReplicas != want.CurrentReplicas || got.UpdatedReplicas != want.UpdatedReplicas {
		t.Errorf("counts = %+v\nwant %+v", got, want)
	}
}

func testSet() *appsv1.StatefulSet {
	lbls := map[string]string{"app": "web"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "set-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](2),
			ServiceName: "nginx",
			Selector:    &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}},
					Volumes: []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "www", Labels: map[string]string{"tier": "data"}}}},
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
}

func TestIdentity(t *testing.T) {
	set := testSet()
	pod := newPod(set, &set.Spec.Template, "web-abc", 4)
	if pod.Name != "web-4" || pod.Spec.Hostname != "web-4" || pod.Spec.Subdomain != "nginx" {
		t.Errorf("name %q hostname %q subdomain %q", pod.Name, pod.Spec.Hostname, pod.Spec.Subdomain)
	}
	for k, v := range map[string]string{appsv1.StatefulSetPodNameLabel: "web-4", appsv1.PodIndexLabel: "4",
		appsv1.StatefulSetRevisionLabel: "web-abc", "app": "web"} {
		if pod.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, pod.Labels[k], v)
		}
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].PersistentVolumeClaim == nil || pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "www-web-4" {
		t.Errorf("volumes %+v, want www replaced by claim www-web-4", pod.Spec.Volumes)
	}
	if set.Spec.Template.Spec.Volumes[0].EmptyDir == nil {
		t.Error("template mutated")
	}
	claims := newClaims(set, "web-4")
	if len(claims) != 1 || claims[0].Name != "www-web-4" || claims[0].Labels["tier"] != "data" || claims[0].Labels["app"] != "web" {
		t.Errorf("claims %+v", claims)
	}
	for name, want := range map[string]int{"web-0": 0, "web-12": 12, "web-01": -1, "web-": -1, "web-x": -1, "webby-1": -1, "web-1-2": -1} {
		o, ok := ordinalOf(set, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}})
		if !ok {
			o = -1
		}
		if o != want {
			t.Errorf("ordinalOf(%s) = %d, want %d", name, o, want)
		}
	}
}

func TestClaimOwners(t *testing.T) {
	pod := spod(2, "r")
	other := metav1.OwnerReference{Kind: "Thing", Name: "t", UID: "thing"}
	for _, tc := range []struct {
		name        string
		deleted     appsv1.PersistentVolumeClaimRetentionPolicyType
		scaled      appsv1.PersistentVolumeClaimRetentionPolicyType
		condemned   bool
		have        []metav1.OwnerReference
		wantOwnerBy []types.UID
	}{
		{"retain: no owners", appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType, true, nil, nil},
		{"delete with set", appsv1.DeletePersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType, false, nil, []types.UID{"set-uid"}},
		{"delete when scaled: only condemned pods own", appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType, false, nil, nil},
		{"delete when scaled: condemned", appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType, true, nil, []types.UID{"uid-web-2"}},
		{"scaled back up: pod owner dropped, others kept", appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType, false,
			[]metav1.OwnerReference{other, {Kind: "Pod", Name: "web-2", UID: "older-web-2"}}, []types.UID{"thing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := testSet()
			set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: tc.deleted, WhenScaled: tc.scaled}
			var got []types.UID
			for _, r := range claimOwners(set, pod, tc.condemned, tc.have) {
				got = append(got, r.UID)
			}
			if !slices.Equal(got, tc.wantOwnerBy) {
				t.Errorf("owners %v, want %v", got, tc.wantOwnerBy)
			}
		})
	}
}

// fixture is a controller over a fake clientset with preloaded caches.
type fixture struct {
	client *fake.Clientset
	c      *Controller
}

func newFixture(t *testing.T, set *appsv1.StatefulSet, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(append([]runtime.Object{set}, objs...)...)
	factory := informers.NewSharedInformerFactory(client, 0)
	setInf, podInf, pvcInf, revInf := factory.Apps().V1().StatefulSets(), factory.Core().V1().Pods(),
		factory.Core().V1().PersistentVolumeClaims(), factory.Apps().V1().ControllerRevisions()
	c, err := New(Config{Client: client, StatefulSets: setInf, Pods: podInf, Claims: pvcInf, Revisions: revInf, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	for _, o := range append([]runtime.Object{set}, objs...) {
		var err error
		switch o := o.(type) {
		case *appsv1.StatefulSet:
			err = setInf.Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = podInf.Informer().GetIndexer().Add(o)
		case *corev1.PersistentVolumeClaim:
			err = pvcInf.Informer().GetIndexer().Add(o)
		case *appsv1.ControllerRevision:
			err = revInf.Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	client.ClearActions()
	return &fixture{client: client, c: c}
}

// actions summarizes the client's writes as "verb resource[/sub] name".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		switch a := a.(type) {
		case clienttesting.CreateActionImpl:
			s += " " + a.GetObject().(metav1.Object).GetName()
		case clienttesting.UpdateActionImpl:
			s += " " + a.GetObject().(metav1.Object).GetName()
		case clienttesting.DeleteActionImpl:
			s += " " + a.GetName()
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}

// revisionOf is the revision the controller makes for the set's template.
func revisionOf(t *testing.T, set *appsv1.StatefulSet, n int64) *appsv1.ControllerRevision {
	t.Helper()
	data, err := kit.TemplatePatch(&set.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	return kit.NewRevision(set, kind(), set.Spec.Template.Labels, data, n, ptr.To[int32](0))
}

func TestSyncCreatesFirstClaimAndPod(t *testing.T) {
	set := testSet()
	f := newFixture(t, set)
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	rev := revisionOf(t, set, 1)
	want := []string{"create controllerrevisions " + rev.Name, "create persistentvolumeclaims www-web-0", "create pods web-0", "update statefulsets/status web"}
	if got := f.actions(); !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant %v", got, want)
	}
	pod, err := f.client.CoreV1().Pods("ns").Get(context.Background(), "web-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Labels[appsv1.StatefulSetRevisionLabel] != rev.Name {
		t.Errorf("pod revision %q, want %q", pod.Labels[appsv1.StatefulSetRevisionLabel], rev.Name)
	}
	cur, err := f.client.AppsV1().StatefulSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status.UpdateRevision != rev.Name || cur.Status.CurrentRevision != rev.Name || cur.Status.ObservedGeneration != 1 {
		t.Errorf("status %+v", cur.Status)
	}
}

func TestSyncRollsHighestOutdatedPod(t *testing.T) {
	set := testSet()
	old := revisionOf(t, set, 1)
	set.Spec.Template.Spec.Containers[0].Image = "i2"
	set.Status.CurrentRevision = old.Name
	owned := func(p *corev1.Pod) { p.OwnerReferences = []metav1.OwnerReference{kit.ControllerRef(set, kind())} }
	claim := func(name string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
	}
	f := newFixture(t, set, old, spod(0, old.Name, owned), spod(1, old.Name, owned), claim("www-web-0"), claim("www-web-1"))
	if err := f.c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
	upd := revisionOf(t, set, 2)
	want := []string{"create controllerrevisions " + upd.Name, "delete pods web-1", "update statefulsets/status web"}
	if got := f.actions(); !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant %v", got, want)
	}
	cur, err := f.client.AppsV1().StatefulSets("ns").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := cur.Status; s.CurrentRevision != old.Name || s.UpdateRevision != upd.Name || s.CurrentReplicas != 2 || s.UpdatedReplicas != 0 || s.ReadyReplicas != 2 {
		t.Errorf("status %+v", s)
	}
}
