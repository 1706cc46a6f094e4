package disruption

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	policyinformers "k8s.io/client-go/informers/policy/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// Config is what the controller needs.
type Config struct {
	// Client writes budget status.
	Client kubernetes.Interface
	// Informers: the budgets, their pods and the scalable controllers.
	Budgets                policyinformers.PodDisruptionBudgetInformer
	Pods                   coreinformers.PodInformer
	ReplicaSets            appsinformers.ReplicaSetInformer
	Deployments            appsinformers.DeploymentInformer
	StatefulSets           appsinformers.StatefulSetInformer
	ReplicationControllers coreinformers.ReplicationControllerInformer
	// Recorder receives events; nil records none.
	Recorder record.EventRecorder
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Controller keeps PodDisruptionBudget status.
type Controller struct {
	// client writes status.
	client kubernetes.Interface
	// listers read the caches.
	budgets policylisters.PodDisruptionBudgetLister
	pods    corelisters.PodLister
	rs      appslisters.ReplicaSetLister
	deploy  appslisters.DeploymentLister
	sts     appslisters.StatefulSetLister
	rc      corelisters.ReplicationControllerLister
	// recorder and now: events and time.
	recorder record.EventRecorder
	now      func() time.Time
	// loop runs the workers over budget keys.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Budgets == nil || cfg.Pods == nil || cfg.ReplicaSets == nil || cfg.Deployments == nil || cfg.StatefulSets == nil || cfg.ReplicationControllers == nil {
		return nil, errors.New("disruption controller: client and informers are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &record.FakeRecorder{}
	}
	c := &Controller{
		client: cfg.Client, budgets: cfg.Budgets.Lister(), pods: cfg.Pods.Lister(),
		rs: cfg.ReplicaSets.Lister(), deploy: cfg.Deployments.Lister(), sts: cfg.StatefulSets.Lister(), rc: cfg.ReplicationControllers.Lister(),
		recorder: cfg.Recorder, now: cfg.Now,
	}
	c.loop = kit.Loop{
		Name: "disruption", Queue: kit.NewQueue("disruption"), Sync: c.sync, Logger: cfg.Logger,
		Synced: []cache.InformerSynced{cfg.Budgets.Informer().HasSynced, cfg.Pods.Informer().HasSynced, cfg.ReplicaSets.Informer().HasSynced,
			cfg.Deployments.Informer().HasSynced, cfg.StatefulSets.Informer().HasSynced, cfg.ReplicationControllers.Informer().HasSynced},
	}
	if _, err := cfg.Budgets.Informer().AddEventHandler(kit.Handlers(c.loop.Queue)); err != nil {
		return nil, fmt.Errorf("disruption controller: %w", err)
	}
	podChanged := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if p, ok := obj.(*corev1.Pod); ok {
			c.enqueueBudgetsOf(p)
		}
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: podChanged, UpdateFunc: func(_, obj any) { podChanged(obj) }, DeleteFunc: podChanged,
	}); err != nil {
		return nil, fmt.Errorf("disruption controller: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

func (c *Controller) enqueueBudgetsOf(p *corev1.Pod) {
	budgets, err := c.budgets.PodDisruptionBudgets(p.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, b := range budgets {
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(p.Labels)) {
			c.loop.Queue.Add(b.Namespace + "/" + b.Name)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pdb, err := c.budgets.PodDisruptionBudgets(ns).Get(name)
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && !sel.Empty() {
		if pods, err = c.pods.Pods(ns).List(sel); err != nil {
			return err
		}
	}
	expected := int32(len(pods))
	var failure error
	if NeedsScale(pdb) {
		expected, failure = c.expectedFromControllers(pods)
	}
	now := c.now()
	st, err := Status(pdb, pods, expected, now)
	if err == nil {
		err = failure
	}
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: %v", err)
		st.DisruptionsAllowed = 0
		setCondition(&st.Conditions, metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
			Reason: policyv1.SyncFailedReason, Message: err.Error(), ObservedGeneration: pdb.Generation}, now)
	}
	var requeue time.Duration
	for _, at := range st.DisruptedPods {
		if d := at.Add(DeletionTimeout).Sub(now); requeue == 0 || d < requeue {
			requeue = d
		}
	}
	if !equality.Semantic.DeepEqual(st, pdb.Status) {
		upd := pdb.DeepCopy()
		upd.Status = st
		if _, err := c.client.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating status of budget %s: %w", key, err)
		}
	}
	if requeue > 0 {
		return kit.RequeueAfter(requeue)
	}
	return nil
}

// expectedFromControllers sums the replicas of the topmost scalable
// controllers of the pods (a Deployment rather than its ReplicaSets).
func (c *Controller) expectedFromControllers(pods []*corev1.Pod) (int32, error) {
	seen := map[types.UID]bool{}
	var total int32
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil {
			return 0, fmt.Errorf("found no controller for pod %q", p.Name)
		}
		uid, replicas, err := c.scaleOf(p.Namespace, ref)
		if err != nil {
			return 0, err
		}
		if !seen[uid] {
			seen[uid] = true
			total += replicas
		}
	}
	return total, nil
}

func (c *Controller) scaleOf(ns string, ref *metav1.OwnerReference) (types.UID, int32, error) {
	replicas := func(p *int32) int32 {
		if p == nil {
			return 1
		}
		return *p
	}
	switch ref.Kind {
	case "ReplicaSet":
		rs, err := c.rs.ReplicaSets(ns).Get(ref.Name)
		if err != nil || rs.UID != ref.UID {
			return "", 0, fmt.Errorf("replicaset %s of a selected pod not found", ref.Name)
		}
		if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
			if d, err := c.deploy.Deployments(ns).Get(owner.Name); err == nil && d.UID == owner.UID {
				return d.UID, replicas(d.Spec.Replicas), nil
			}
		}
		return rs.UID, replicas(rs.Spec.Replicas), nil
	case "StatefulSet":
		s, err := c.sts.StatefulSets(ns).Get(ref.Name)
		if err != nil || s.UID != ref.UID {
			return "", 0, fmt.Errorf("statefulset %s of a selected pod not found", ref.Name)
		}
		return s.UID, replicas(s.Spec.Replicas), nil
	case "ReplicationController":
		rc, err := c.rc.ReplicationControllers(ns).Get(ref.Name)
		if err != nil || rc.UID != ref.UID {
			return "", 0, fmt.Errorf("replicationcontroller %s of a selected pod not found", ref.Name)
		}
		return rc.UID, replicas(rc.Spec.Replicas), nil
	}
	return "", 0, fmt.Errorf("pods controlled by a %s have no scale the budget can use", ref.Kind)
}
