package deployment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/deployment"
	"github.com/skiffkube/skiff/internal/controller/replicaset"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// startControlPlane runs the API server alone plus the Deployment and
// ReplicaSet controllers and a stand-in kubelet for namespace ns.
func startControlPlane(t *testing.T, ns string) kubernetes.Interface {
	t.Helper()
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler, c.DisableControllerManager = true, true })
	cfg := srv.AdminConfig()
	cfg.QPS, cfg.Burst = 500, 1000 // client-go's default 5 QPS would pace the test
	cs := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactory(cs, 0)
	t.Cleanup(factory.Shutdown) // runs after the cancel below
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rsc, err := replicaset.New(replicaset.Config{Client: cs, Pods: factory.Core().V1().Pods(), ReplicaSets: factory.Apps().V1().ReplicaSets()})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := deployment.New(deployment.Config{Client: cs, Deployments: factory.Apps().V1().Deployments(),
		ReplicaSets: factory.Apps().V1().ReplicaSets(), Pods: factory.Core().V1().Pods()})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	for _, run := range []func(context.Context, int) error{rsc.Run, dc.Run} {
		wg.Go(func() {
			if err := run(ctx, 2); err != nil {
				t.Errorf("controller: %v", err)
			}
		})
	}
	wg.Go(func() { fakeKubelet(ctx, t, cs, ns) })
	return cs
}

// fakeKubelet plays the node: it binds new pods of ns to a node, marks
// them Running and Ready, and finishes graceful deletions at once.
func fakeKubelet(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "pods", ns, fields.Everything())
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw, ObjectType: &corev1.Pod{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { playPod(ctx, t, cs, obj.(*corev1.Pod)) },
			UpdateFunc: func(_, obj any) { playPod(ctx, t, cs, obj.(*corev1.Pod)) },
		},
	})
	informer.RunWithContext(ctx)
}

func playPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, p *corev1.Pod) {
	var err error
	pods := cs.CoreV1().Pods(p.Namespace)
	switch {
	case p.DeletionTimestamp != nil:
		err = pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &p.UID}})
	case p.Spec.NodeName == "":
		err = pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, UID: p.UID},
			Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}, metav1.CreateOptions{})
	case p.Status.Phase != corev1.PodRunning:
		now := metav1.Now()
		p = p.DeepCopy()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
	}
	if err != nil && ctx.Err() == nil {
		t.Logf("fake kubelet on %s: %v", p.Name, err)
	}
}

// rolledOut is kubectl rollout status's test: the controller saw the
// latest spec, every replica is updated and available, no old ones left.
func rolledOut(d *appsv1.Deployment) (bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
		}
	}
	n := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.UpdatedReplicas >= n && d.Status.Replicas <= d.Status.UpdatedReplicas &&
		d.Status.AvailableReplicas >= d.Status.UpdatedReplicas, nil
}

// waitRolledOut watches the Deployment as `kubectl rollout status` does.
func waitRolledOut(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name, what string) *appsv1.Deployment {
	t.Helper()
	lw := cache.NewListWatchFromClient(cs.AppsV1().RESTClient(), "deployments", ns, fields.OneTermEqualSelector("metadata.name", name))
	ev, err := watchtools.UntilWithSync(ctx, lw, &appsv1.Deployment{}, nil, func(e watch.Event) (bool, error) {
		d, ok := e.Object.(*appsv1.Deployment)
		if !ok {
			return false, nil
		}
		return rolledOut(d)
	})
	if err != nil {
		t.Fatalf("waiting for the rollout of %s (%s): %v", name, what, err)
	}
	return ev.Object.(*appsv1.Deployment)
}

// availabilityWatcher records the fewest ready, not terminating pods of
// app seen at any point, over every pod event from a starting list.
type availabilityWatcher struct {
	mu      sync.Mutex
	ready   map[types.UID]bool
	minimum int
	events  int
	done    chan struct{}
}

func watchAvailability(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, app string) *availabilityWatcher {
	t.Helper()
	sel := labels.Set{"app": app}.String()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	w := &availabilityWatcher{ready: map[types.UID]bool{}, done: make(chan struct{})}
	for i := range list.Items {
		w.observe(&list.Items[i], false)
	}
	w.minimum = w.count()
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		o.LabelSelector = sel
		return cs.CoreV1().Pods(ns).Watch(ctx, o)
	}}
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, lw)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer rw.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-rw.ResultChan():
				if !ok {
					return
				}
				if p, isPod := e.Object.(*corev1.Pod); isPod {
					w.observe(p, e.Type == watch.Deleted)
				}
			}
		}
	}()
	return w
}

func (w *availabilityWatcher) observe(p *corev1.Pod, deleted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ready := false
	for _, c := range p.Status.Conditions {
		ready = ready || c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	}
	w.ready[p.UID] = ready && !deleted && p.DeletionTimestamp == nil
	w.events++
	w.minimum = min(w.minimum, w.countLocked())
}

func (w *availabilityWatcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.countLocked()
}

func (w *availabilityWatcher) countLocked() int {
	n := 0
	for _, r := range w.ready {
		if r {
			n++
		}
	}
	return n
}

func webDeployment(ns string) *appsv1.Deployment {
	lbl := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns, Annotations: map[string]string{"kubernetes.io/change-cause": "v1"}},
		Spec: appsv1.DeploymentSpec{
			Replicas:        ptr.To[int32](3),
			MinReadySeconds: 1,
			Selector:        &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbl},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:v1"}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			}},
		},
	}
}

// replicaSetsByRevision lists the Deployment's ReplicaSets.
func replicaSetsByRevision(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) map[string]appsv1.ReplicaSet {
	t.Helper()
	list, err := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]appsv1.ReplicaSet{}
	for _, rs := range list.Items {
		out[rs.Annotations["deployment.kubernetes.io/revision"]] = rs
	}
	return out
}

// podImages counts the live pods of app by image.
func podImages(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) map[string]int {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Spec.Containers[0].Image]++
		}
	}
	return out
}

// undo does what kubectl rollout undo --to-revision does: copy that
// revision's template (without the hash label) and annotations back into
// the Deployment with a JSON patch.
func undo(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, rs appsv1.ReplicaSet) {
	t.Helper()
	tmpl := rs.Spec.Template.DeepCopy()
	delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	annotations := map[string]string{}
	for k, v := range rs.Annotations {
		switch k {
		case "deployment.kubernetes.io/revision", "deployment.kubernetes.io/revision-history",
			"deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas", corev1.LastAppliedConfigAnnotation:
			continue
		}
		annotations[k] = v
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "replace", "path": "/spec/template", "value": tmpl},
		{"op": "replace", "path": "/metadata/annotations", "value": annotations},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatalf("undo patch: %v", err)
	}
}

func TestDeploymentRolloutUndoRestartScale(t *testing.T) {
	const ns = "deploy-test"
	cs := startControlPlane(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, webDeployment(ns), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := waitRolledOut(ctx, t, cs, ns, "web", "first rollout")
	if got := podImages(ctx, t, cs, ns); got["web:v1"] != 3 || len(got) != 1 {
		t.Fatalf("pods %v, want 3 of web:v1", got)
	}
	if d.Annotations["deployment.kubernetes.io/revision"] != "1" {
		t.Errorf("deployment revision %q, want 1", d.Annotations["deployment.kubernetes.io/revision"])
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	w := watchAvailability(watchCtx, t, cs, ns, "web")

	// Roll out v2.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := cs.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		cur.Spec.Template.Spec.Containers[0].Image = "web:v2"
		cur.Annotations["kubernetes.io/change-cause"] = "v2"
		_, err = cs.AppsV1().Deployments(ns).Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, cs, ns, "web", "v2")
	if got := podImages(ctx, t, cs, ns); got["web:v2"] != 3 || len(got) != 1 {
		t.Fatalf("pods after the v2 rollout %v, want 3 of web:v2", got)
	}
	revs := replicaSetsByRevision(ctx, t, cs, ns)
	if len(revs) != 2 || ptr.Deref(revs["1"].Spec.Replicas, -1) != 0 || ptr.Deref(revs["2"].Spec.Replicas, -1) != 3 ||
		revs["2"].Spec.Template.Spec.Containers[0].Image != "web:v2" {
		t.Fatalf("ReplicaSets by revision %v, want revision 1 at 0 and revision 2 (v2) at 3", revs)
	}

	// kubectl rollout undo: back to revision 1's template.
	undo(ctx, t, cs, ns, revs["1"])
	d = waitRolledOut(ctx, t, cs, ns, "web", "undo")
	stopWatch()
	<-w.done
	if w.minimum < 3 || w.events < 12 {
		t.Errorf("availability watcher saw at least %d ready pods over %d events, want never below 3 (and events)", w.minimum, w.events)
	}
	if got := podImages(ctx, t, cs, ns); got["web:v1"] != 3 || len(got) != 1 {
		t.Fatalf("pods after undo %v, want 3 of web:v1", got)
	}
	revs = replicaSetsByRevision(ctx, t, cs, ns)
	if rs, ok := revs["3"]; !ok || len(revs) != 2 || rs.Spec.Template.Spec.Containers[0].Image != "web:v1" ||
		rs.Annotations["deployment.kubernetes.io/revision-history"] != "1" || rs.Annotations["kubernetes.io/change-cause"] != "v1" {
		t.Fatalf("ReplicaSets after undo %v, want the v1 ReplicaSet reused as revision 3 (history 1)", revs)
	}
	if d.Annotations["deployment.kubernetes.io/revision"] != "3" || d.Spec.Template.Spec.Containers[0].Image != "web:v1" {
		t.Errorf("deployment after undo: revision %q image %s", d.Annotations["deployment.kubernetes.io/revision"], d.Spec.Template.Spec.Containers[0].Image)
	}

	// kubectl rollout restart: a template annotation makes a new ReplicaSet.
	restart := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339))
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(restart), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, cs, ns, "web", "restart")
	revs = replicaSetsByRevision(ctx, t, cs, ns)
	if rs, ok := revs["4"]; !ok || len(revs) != 3 || ptr.Deref(rs.Spec.Replicas, 0) != 3 {
		t.Fatalf("ReplicaSets after restart %v, want a fourth revision running 3", revs)
	}

	// kubectl scale.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := cs.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = 5
		_, err = cs.AppsV1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d = waitRolledOut(ctx, t, cs, ns, "web", "scale to 5")
	if d.Status.Replicas != 5 || d.Status.AvailableReplicas != 5 || d.Status.UpdatedReplicas != 5 {
		t.Errorf("status after scaling %+v", d.Status)
	}
	for _, c := range d.Status.Conditions {
		want := map[appsv1.DeploymentConditionType]string{appsv1.DeploymentAvailable: "MinimumReplicasAvailable", appsv1.DeploymentProgressing: "NewReplicaSetAvailable"}
		if c.Status != corev1.ConditionTrue || c.Reason != want[c.Type] {
			t.Errorf("condition %s = %s (%s), want True %s", c.Type, c.Status, c.Reason, want[c.Type])
		}
	}
}
