package deployment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newDeployment is a RollingUpdate Deployment of image with surge 1,
// unavailable 0 and a 600s progress deadline.
func newDeployment(replicas int32, image string) *appsv1.Deployment {
	lbl := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-web", Generation: 1, ResourceVersion: "1"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbl},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			}},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}
}

// rsFor is the ReplicaSet d would have for image at revision rev, with
// spec and available replicas; created age minutes ago.
func rsFor(t *testing.T, d *appsv1.Deployment, image string, rev string, spec, available int32, age int) *appsv1.ReplicaSet {
	t.Helper()
	dd := d.DeepCopy()
	dd.Spec.Template.Spec.Containers[0].Image = image
	rs, err := newReplicaSetFor(dd, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	rs.UID = types.UID("uid-" + rs.Name)
	rs.CreationTimestamp = metav1.NewTime(testNow.Add(-time.Duration(age) * time.Minute))
	rs.Annotations[revisionAnnotation] = rev
	rs.Annotations[desiredReplicasAnnotation] = "3"
	rs.Annotations[maxReplicasAnnotation] = "4"
	rs.Spec.Replicas = ptr.To(spec)
	rs.Status = appsv1.ReplicaSetStatus{Replicas: spec, ReadyReplicas: available, AvailableReplicas: available, TerminatingReplicas: ptr.To[int32](0)}
	return rs
}

type fixture struct {
	client   *fake.Clientset
	c        *Controller
	recorder *record.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100)}
	factory := informers.NewSharedInformerFactory(f.client, 0)
	c, err := New(Config{Client: f.client, Deployments: factory.Apps().V1().Deployments(), ReplicaSets: factory.Apps().V1().ReplicaSets(),
		Pods: factory.Core().V1().Pods(), Recorder: f.recorder, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *appsv1.Deployment:
			err = factory.Apps().V1().Deployments().Informer().GetIndexer().Add(o)
		case *appsv1.ReplicaSet:
			err = factory.Apps().V1().ReplicaSets().Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = factory.Core().V1().Pods().Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	f.c = c
	f.client.ClearActions()
	return f
}

func (f *fixture) sync(t *testing.T) error {
	t.Helper()
	err := f.c.sync(context.Background(), "ns/web")
	var after kit.RequeueAfter
	if errors.As(err, &after) {
		return nil
	}
	return err
}

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

func wantVerbs(t *testing.T, got []clienttesting.Action, want ...string) {
	t.Helper()
	if g, w := verbs(got), strings.Join(want, ", "); g != w {
		t.Errorf("actions:\n got  %s\n want %s", g, w)
	}
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

// written returns the ReplicaSets created or updated, by name.
func written(actions []clienttesting.Action) map[string]*appsv1.ReplicaSet {
	out := map[string]*appsv1.ReplicaSet{}
	for _, a := range actions {
		if o, ok := a.(interface{ GetObject() runtime.Object }); ok {
			if rs, ok := o.GetObject().(*appsv1.ReplicaSet); ok {
				out[rs.Name] = rs
			}
		}
	}
	return out
}

// lastStatus is the last Deployment status written.
func lastStatus(t *testing.T, actions []clienttesting.Action) appsv1.DeploymentStatus {
	t.Helper()
	for i := len(actions) - 1; i >= 0; i-- {
		if a, ok := actions[i].(clienttesting.UpdateAction); ok && a.GetSubresource() == "status" {
			return a.GetObject().(*appsv1.Deployment).Status
		}
	}
	t.Fatalf("no status written in %s", verbs(actions))
	return appsv1.DeploymentStatus{}
}

func condition(st appsv1.DeploymentStatus, ct appsv1.DeploymentConditionType) appsv1.DeploymentCondition {
	if c := getCondition(&st, ct); c != nil {
		return *c
	}
	return appsv1.DeploymentCondition{}
}

func TestSyncCreatesFirstReplicaSet(t *testing.T) {
	d := newDeployment(3, "v1")
	f := newFixture(t, d)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, f.client.Actions(), "create replicasets", "patch deployments/status", "update deployments/status", "update deployments/status")
	var rs *appsv1.ReplicaSet
	for _, r := range written(f.client.Actions()) {
		rs = r
	}
	hash, _ := templateHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash || rs.Labels[hashLabel] != hash || rs.Spec.Selector.MatchLabels[hashLabel] != hash ||
		rs.Spec.Template.Labels[hashLabel] != hash || rs.Spec.Template.Labels["app"] != "web" {
		t.Errorf("ReplicaSet %s labels %v selector %v template labels %v, want the hash %s everywhere", rs.Name, rs.Labels, rs.Spec.Selector, rs.Spec.Template.Labels, hash)
	}
	if specReplicas(rs) != 3 || rs.Annotations[revisionAnnotation] != "1" || rs.Annotations[desiredReplicasAnnotation] != "3" || rs.Annotations[maxReplicasAnnotation] != "4" {
		t.Errorf("ReplicaSet replicas %d annotations %v, want 3 replicas, revision 1, desired 3, max 4", specReplicas(rs), rs.Annotations)
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Errorf("ReplicaSet owner %+v", rs.OwnerReferences)
	}
	patch := string(f.client.Actions()[1].(clienttesting.PatchAction).GetPatch())
	if !strings.Contains(patch, `"deployment.kubernetes.io/revision":"1"`) {
		t.Errorf("deployment patch %s, want revision 1", patch)
	}
	st := lastStatus(t, f.client.Actions())
	if c := condition(st, appsv1.DeploymentProgressing); c.Reason != reasonNewRSCreated || c.Status != corev1.ConditionTrue {
		t.Errorf("Progressing %+v, want True NewReplicaSetCreated", c)
	}
	if c := condition(st, appsv1.DeploymentAvailable); c.Reason != reasonMinUnavailable || c.Status != corev1.ConditionFalse {
		t.Errorf("Available %+v, want False MinimumReplicasUnavailable", c)
	}
	if st.ObservedGeneration != 1 || st.UnavailableReplicas != 3 {
		t.Errorf("status %+v", st)
	}
	if ev := events(f.recorder); len(ev) != 1 || ev[0] != "Normal ScalingReplicaSet Scaled up replica set "+rs.Name+" from 0 to 3" {
		t.Errorf("events %q", ev)
	}
}

func TestRollingUpdateSteps(t *testing.T) {
	for _, tc := range []struct {
		name            string
		surge, unavail  intstr.IntOrString
		newSpec, newAv  int32 // -1: no new ReplicaSet yet
		oldSpec, oldAv  int32
		wantNew, wantOl int32
		wantEvent       string
	}{
		{"surge creates one new", intstr.FromInt32(1), intstr.FromInt32(0), -1, 0, 3, 3, 1, 3, "Scaled up replica set web-NEW from 0 to 1"},
		{"new not available: wait", intstr.FromInt32(1), intstr.FromInt32(0), 1, 0, 3, 3, 1, 3, ""},
		{"new available: old down one", intstr.FromInt32(1), intstr.FromInt32(0), 1, 1, 3, 3, 1, 2, "Scaled down replica set web-OLD from 3 to 2"},
		{"room again: new up one", intstr.FromInt32(1), intstr.FromInt32(0), 1, 1, 2, 2, 2, 2, "Scaled up replica set web-NEW from 1 to 2"},
		{"unavailable 1 lets old go first", intstr.FromInt32(0), intstr.FromInt32(1), -1, 0, 3, 3, 0, 2, "Scaled down replica set web-OLD from 3 to 2"},
		{"unavailable 1 scales old down", intstr.FromInt32(0), intstr.FromInt32(1), 0, 0, 3, 3, 0, 2, "Scaled down replica set web-OLD from 3 to 2"},
		{"new unavailable blocks cleanup", intstr.FromInt32(1), intstr.FromInt32(0), 1, 0, 3, 1, 1, 3, ""},
		{"unhealthy old pods go first", intstr.FromInt32(1), intstr.FromInt32(0), 1, 1, 3, 1, 1, 2, "Scaled down replica set web-OLD from 3 to 2"},
		{"unhealthy cleanup then available", intstr.FromInt32(1), intstr.FromInt32(2), 1, 1, 3, 2, 1, 0, "Scaled down replica set web-OLD from 3 to 2|Scaled down replica set web-OLD from 2 to 0"},
		{"percentages: 50% surge of 3 is 2", intstr.FromString("50%"), intstr.FromString("0%"), -1, 0, 3, 3, 2, 3, "Scaled up replica set web-NEW from 0 to 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeployment(3, "v2")
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &tc.surge, MaxUnavailable: &tc.unavail}
			old := rsFor(t, d, "v1", "1", tc.oldSpec, tc.oldAv, 10)
			objs := []runtime.Object{d, old}
			newName := ""
			if tc.newSpec >= 0 {
				n := rsFor(t, d, "v2", "2", tc.newSpec, tc.newAv, 1)
				objs, newName = append(objs, n), n.Name
			} else {
				hash, _ := templateHash(&d.Spec.Template, nil)
				newName = "web-" + hash
			}
			f := newFixture(t, objs...)
			if err := f.sync(t); err != nil {
				t.Fatal(err)
			}
			w := written(f.client.Actions())
			size := func(name string, def int32) int32 {
				if rs, ok := w[name]; ok {
					return specReplicas(rs)
				}
				return def
			}
			if got := size(newName, max(tc.newSpec, 0)); got != tc.wantNew {
				t.Errorf("new ReplicaSet size %d, want %d", got, tc.wantNew)
			}
			if got := size(old.Name, tc.oldSpec); got != tc.wantOl {
				t.Errorf("old ReplicaSet size %d, want %d", got, tc.wantOl)
			}
			var scaling []string
			for _, e := range events(f.recorder) {
				if strings.Contains(e, "ScalingReplicaSet") {
					scaling = append(scaling, e)
				}
			}
			var want []string
			if tc.wantEvent != "" {
				for _, e := range strings.Split(tc.wantEvent, "|") {
					want = append(want, "Normal ScalingReplicaSet "+strings.NewReplacer("web-NEW", newName, "web-OLD", old.Name).Replace(e))
				}
			}
			if strings.Join(scaling, "|") != strings.Join(want, "|") {
				t.Errorf("events %q, want %q", scaling, want)
			}
		})
	}
}

func TestFenceposts(t *testing.T) {
	for _, tc := range []struct {
		replicas              int32
		surge, unavail        *intstr.IntOrString
		wantSurge, wantUnavai int32
	}{
		{10, nil, nil, 3, 2}, // defaults 25%/25%: surge rounds up, unavailable down
		{3, ptr.To(intstr.FromInt32(0)), ptr.To(intstr.FromInt32(0)), 0, 1},
		{3, ptr.To(intstr.FromString("50%")), ptr.To(intstr.FromString("50%")), 2, 1},
		{4, ptr.To(intstr.FromInt32(2)), ptr.To(intstr.FromInt32(9)), 2, 4}, // unavailable capped at replicas
	} {
		d := newDeployment(tc.replicas, "v1")
		d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: tc.surge, MaxUnavailable: tc.unavail}
		if s, u := maxSurge(d), maxUnavailable(d); s != tc.wantSurge || u != tc.wantUnavai {
			t.Errorf("%d replicas, surge %v unavailable %v: got %d/%d, want %d/%d", tc.replicas, tc.surge, tc.unavail, s, u, tc.wantSurge, tc.wantUnavai)
		}
	}
	d := newDeployment(3, "v1")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	if maxSurge(d) != 0 || maxUnavailable(d) != 0 {
		t.Error("Recreate has surge or unavailable")
	}
}

func TestProportionalScaling(t *testing.T) {
	d := newDeployment(20, "v3")
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptr.To(intstr.FromInt32(3)), MaxUnavailable: ptr.To(intstr.FromInt32(2))}
	old := rsFor(t, d, "v1", "1", 8, 8, 10)
	mid := rsFor(t, d, "v2", "2", 5, 0, 5)
	for _, rs := range []*appsv1.ReplicaSet{old, mid} {
		rs.Annotations[desiredReplicasAnnotation], rs.Annotations[maxReplicasAnnotation] = "10", "13"
	}
	sizes := proportionalSizes(d, []*appsv1.ReplicaSet{old, mid})
	// 23 allowed, 13 held: 8*23/13 = 14.2 -> 14, 5*23/13 = 8.8 -> 9.
	if sizes[old.Name] != 14 || sizes[mid.Name] != 9 {
		t.Errorf("sizes %v, want 14 and 9", sizes)
	}
	d.Spec.Replicas = ptr.To[int32](5) // 8 allowed: 8*8/13 = 4.9 -> 5, 5*8/13 = 3.1 -> 3
	sizes = proportionalSizes(d, []*appsv1.ReplicaSet{old, mid})
	if sizes[old.Name]+sizes[mid.Name] != 8 || sizes[old.Name] != 5 {
		t.Errorf("sizes %v, want 5 and 3", sizes)
	}

	// Through sync: a scaling event (desired-replicas differs) in mid-rollout.
	d.Spec.Replicas = ptr.To[int32](20)
	d.Spec.Template.Spec.Containers[0].Image = "v2"
	f := newFixture(t, d, old, mid)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	w := written(f.client.Actions())
	if specReplicas(w[old.Name]) != 14 || specReplicas(w[mid.Name]) != 9 || w[mid.Name].Annotations[desiredReplicasAnnotation] != "20" {
		t.Errorf("scaled to %d and %d (%v), want 14 and 9 with desired 20", specReplicas(w[old.Name]), specReplicas(w[mid.Name]), w[mid.Name].Annotations)
	}
}

func TestRecreate(t *testing.T) {
	d := newDeployment(3, "v2")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	old := rsFor(t, d, "v1", "1", 3, 3, 10)

	f := newFixture(t, d, old)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if w := written(f.client.Actions()); len(w) != 1 || specReplicas(w[old.Name]) != 0 {
		t.Fatalf("wrote %v, want only the old ReplicaSet scaled to 0", w)
	}

	// Scaled down but a pod still terminates: wait.
	old.Spec.Replicas, old.Status = ptr.To[int32](0), appsv1.ReplicaSetStatus{}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", DeletionTimestamp: ptr.To(metav1.NewTime(testNow)),
		OwnerReferences: []metav1.OwnerReference{kit.ControllerRef(old, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))}}}
	f = newFixture(t, d, old, pod)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	if w := written(f.client.Actions()); len(w) != 0 {
		t.Fatalf("wrote %v while an old pod runs", w)
	}

	f = newFixture(t, d, old)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	for name, rs := range written(f.client.Actions()) {
		if name == old.Name || specReplicas(rs) != 3 || rs.Spec.Template.Spec.Containers[0].Image != "v2" {
			t.Errorf("wrote %s with %d replicas, want the new ReplicaSet at 3", name, specReplicas(rs))
		}
	}
}

func TestPausedScalesButDoesNotRollOut(t *testing.T) {
	d := newDeployment(5, "v2")
	d.Spec.Paused = true
	old := rsFor(t, d, "v1", "1", 3, 3, 10)
	f := newFixture(t, d, old)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	w := written(f.client.Actions())
	if len(w) != 1 || specReplicas(w[old.Name]) != 5 {
		t.Errorf("wrote %v, want only the old ReplicaSet scaled to 5", w)
	}
	st := lastStatus(t, f.client.Actions())
	if c := condition(st, appsv1.DeploymentProgressing); c.Reason != reasonPaused || c.Status != corev1.ConditionUnknown {
		t.Errorf("Progressing %+v, want Unknown DeploymentPaused", c)
	}
}

func TestCompleteRolloutCleansHistory(t *testing.T) {
	d := newDeployment(3, "v4")
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
		Conditions: []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonRSUpdated, "", testNow.Add(-time.Minute))}}
	r1 := rsFor(t, d, "v1", "1", 0, 0, 30)
	r2 := rsFor(t, d, "v2", "2", 0, 0, 20)
	r3 := rsFor(t, d, "v3", "3", 0, 0, 10)
	cur := rsFor(t, d, "v4", "4", 3, 3, 1)
	cur.Annotations[desiredReplicasAnnotation] = "3"
	f := newFixture(t, d, r1, r2, r3, cur)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "delete" {
			deleted = append(deleted, a.(clienttesting.DeleteAction).GetName())
		}
	}
	if strings.Join(deleted, ",") != r1.Name+","+r2.Name {
		t.Errorf("deleted %v, want revisions 1 and 2 (%s, %s)", deleted, r1.Name, r2.Name)
	}
	st := lastStatus(t, f.client.Actions())
	if c := condition(st, appsv1.DeploymentProgressing); c.Reason != reasonNewRSAvailable || c.Status != corev1.ConditionTrue ||
		!strings.Contains(c.Message, cur.Name) {
		t.Errorf("Progressing %+v, want True NewReplicaSetAvailable", c)
	}
	if c := condition(st, appsv1.DeploymentAvailable); c.Reason != reasonMinAvailable || c.Status != corev1.ConditionTrue {
		t.Errorf("Available %+v, want True MinimumReplicasAvailable", c)
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	d := newDeployment(3, "v2")
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
	old := rsFor(t, d, "v1", "1", 3, 3, 10)
	n := rsFor(t, d, "v2", "2", 1, 0, 5)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3, TerminatingReplicas: ptr.To[int32](0),
		Conditions: []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonRSUpdated, "", testNow.Add(-2*time.Minute))}}

	// Still within the deadline: a requeue for when it passes.
	d.Status.Conditions[0].LastUpdateTime = metav1.NewTime(testNow.Add(-20 * time.Second))
	f := newFixture(t, d, old, n)
	err := f.c.sync(context.Background(), "ns/web")
	var after kit.RequeueAfter
	if !errors.As(err, &after) || time.Duration(after) < 40*time.Second || time.Duration(after) > 42*time.Second {
		t.Errorf("sync returned %v, want a requeue in about 40s", err)
	}

	d.Status.Conditions[0].LastUpdateTime = metav1.NewTime(testNow.Add(-2 * time.Minute))
	f = newFixture(t, d, old, n)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	st := lastStatus(t, f.client.Actions())
	if c := condition(st, appsv1.DeploymentProgressing); c.Reason != reasonTimedOut || c.Status != corev1.ConditionFalse ||
		c.Message != `ReplicaSet "`+n.Name+`" has timed out progressing.` {
		t.Errorf("Progressing %+v, want False ProgressDeadlineExceeded", c)
	}
}

func TestUndoReusesOldReplicaSet(t *testing.T) {
	// kubectl rollout undo copied revision 1's template back: its
	// ReplicaSet becomes the new one with revision 3.
	d := newDeployment(3, "v1")
	r1 := rsFor(t, d, "v1", "1", 0, 0, 20)
	r2 := rsFor(t, d, "v2", "2", 3, 3, 10)
	f := newFixture(t, d, r1, r2)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	w := written(f.client.Actions())
	got := w[r1.Name]
	if got == nil || got.Annotations[revisionAnnotation] != "3" || got.Annotations[revisionHistoryAnnotation] != "1" || specReplicas(got) != 1 {
		t.Fatalf("old ReplicaSet written as %+v, want revision 3, history 1, scaled to 1", got)
	}
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "create" {
			t.Errorf("created %v: the old ReplicaSet should be reused", a)
		}
	}
}

func TestRollbackToAnnotation(t *testing.T) {
	d := newDeployment(3, "v2")
	d.Annotations = map[string]string{rollbackToAnnotation: "0"}
	r1 := rsFor(t, d, "v1", "1", 0, 0, 20)
	r1.Annotations["kubernetes.io/change-cause"] = "first"
	r2 := rsFor(t, d, "v2", "2", 3, 3, 10)
	f := newFixture(t, d, r1, r2)
	if err := f.sync(t); err != nil {
		t.Fatal(err)
	}
	var updated *appsv1.Deployment
	for _, a := range f.client.Actions() {
		if u, ok := a.(clienttesting.UpdateAction); ok && u.GetSubresource() == "" {
			if dd, ok := u.GetObject().(*appsv1.Deployment); ok {
				updated = dd
			}
		}
	}
	if updated == nil {
		t.Fatalf("no deployment update in %s", verbs(f.client.Actions()))
	}
	if img := updated.Spec.Template.Spec.Containers[0].Image; img != "v1" || updated.Spec.Template.Labels[hashLabel] != "" {
		t.Errorf("rolled back template image %s labels %v, want v1 without the hash label", img, updated.Spec.Template.Labels)
	}
	if _, ok := updated.Annotations[rollbackToAnnotation]; ok || updated.Annotations["kubernetes.io/change-cause"] != "first" {
		t.Errorf("annotations %v, want the request gone and the change cause back", updated.Annotations)
	}
	found := false
	for _, e := range events(f.recorder) {
		found = found || e == `Normal DeploymentRollback Rolled back deployment "web" to revision 1`
	}
	if !found {
		t.Error("no DeploymentRollback event")
	}
}

func TestTemplateHash(t *testing.T) {
	d := newDeployment(3, "v1")
	h1, _ := templateHash(&d.Spec.Template, nil)
	h1again, _ := templateHash(d.DeepCopy().Spec.Template.DeepCopy(), nil)
	d2 := newDeployment(3, "v2")
	h2, _ := templateHash(&d2.Spec.Template, nil)
	hc, _ := templateHash(&d.Spec.Template, ptr.To[int32](1))
	if h1 != h1again || h1 == h2 || h1 == hc || h1 == "" {
		t.Errorf("hashes %q %q %q %q: want stable, and different for another template or collision count", h1, h1again, h2, hc)
	}
	if strings.ContainsAny(h1, "aeiou") {
		t.Errorf("hash %q has vowels", h1)
	}
	withHash := d.Spec.Template.DeepCopy()
	withHash.Labels[hashLabel] = h1
	if !equalIgnoreHash(withHash, &d.Spec.Template) || equalIgnoreHash(withHash, &d2.Spec.Template) {
		t.Error("equalIgnoreHash wrong")
	}
}
