package replicaset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// owner is one ReplicaSet or ReplicationController as the controller sees
// it: rs is a ReplicaSet view (the cache object itself for a ReplicaSet,
// a converted copy for a ReplicationController: never mutate it) and obj
// is the original, which events refer to.
type owner struct {
	rs  *appsv1.ReplicaSet
	obj runtime.Object
}

// kind hides the difference between ReplicaSets and ReplicationControllers.
type kind interface {
	// gvk is the owner's kind, for owner references.
	gvk() schema.GroupVersionKind
	// informer is the owners' shared informer.
	informer() cache.SharedIndexInformer
	// get reads one owner from the cache.
	get(namespace, name string) (owner, error)
	// list reads a namespace's owners from the cache.
	list(namespace string) ([]owner, error)
	// getLive reads one owner from the API, bypassing the cache.
	getLive(ctx context.Context, namespace, name string) (metav1.Object, error)
	// tracksTerminating reports whether the status has terminatingReplicas.
	tracksTerminating() bool
	// updateStatus writes st as the owner's status.
	updateStatus(ctx context.Context, o owner, st appsv1.ReplicaSetStatus) error
}

// replicaSets is the kind for apps/v1 ReplicaSets.
type replicaSets struct {
	client kubernetes.Interface
	inf    appsinformers.ReplicaSetInformer
	lister appslisters.ReplicaSetLister
}

func (k *replicaSets) gvk() schema.GroupVersionKind {
	return appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
}

func (k *replicaSets) tracksTerminating() bool { return true }

func (k *replicaSets) informer() cache.SharedIndexInformer { return k.inf.Informer() }

func (k *replicaSets) get(namespace, name string) (owner, error) {
	rs, err := k.lister.ReplicaSets(namespace).Get(name)
	if err != nil {
		return owner{}, err
	}
	return owner{rs: rs, obj: rs}, nil
}

func (k *replicaSets) list(namespace string) ([]owner, error) {
	all, err := k.lister.ReplicaSets(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]owner, len(all))
	for i, rs := range all {
		out[i] = owner{rs: rs, obj: rs}
	}
	return out, nil
}

func (k *replicaSets) getLive(ctx context.Context, namespace, name string) (metav1.Object, error) {
	return k.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (k *replicaSets) updateStatus(ctx context.Context, o owner, st appsv1.ReplicaSetStatus) error {
	rs := o.rs.DeepCopy()
	rs.Status = st
	_, err := k.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
	return err
}

// replicationControllers is the kind for core/v1 ReplicationControllers.
type replicationControllers struct {
	client kubernetes.Interface
	inf    coreinformers.ReplicationControllerInformer
	lister corelisters.ReplicationControllerLister
}

func (k *replicationControllers) gvk() schema.GroupVersionKind {
	return corev1.SchemeGroupVersion.WithKind("ReplicationController")
}

func (k *replicationControllers) tracksTerminating() bool { return false }

func (k *replicationControllers) informer() cache.SharedIndexInformer { return k.inf.Informer() }

func (k *replicationControllers) get(namespace, name string) (owner, error) {
	rc, err := k.lister.ReplicationControllers(namespace).Get(name)
	if err != nil {
		return owner{}, err
	}
	return owner{rs: rcToReplicaSet(rc), obj: rc}, nil
}

func (k *replicationControllers) list(namespace string) ([]owner, error) {
	all, err := k.lister.ReplicationControllers(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := make([]owner, len(all))
	for i, rc := range all {
		out[i] = owner{rs: rcToReplicaSet(rc), obj: rc}
	}
	return out, nil
}

func (k *replicationControllers) getLive(ctx context.Context, namespace, name string) (metav1.Object, error) {
	return k.client.CoreV1().ReplicationControllers(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (k *replicationControllers) updateStatus(ctx context.Context, o owner, st appsv1.ReplicaSetStatus) error {
	rc, ok := o.obj.(*corev1.ReplicationController)
	if !ok {
		return fmt.Errorf("replication controller %s/%s: unexpected object %T", o.rs.Namespace, o.rs.Name, o.obj)
	}
	rc = rc.DeepCopy()
	rc.Status = rcStatus(st)
	_, err := k.client.CoreV1().ReplicationControllers(rc.Namespace).UpdateStatus(ctx, rc, metav1.UpdateOptions{})
	return err
}

// rcToReplicaSet views a ReplicationController as a ReplicaSet: the map
// selector becomes matchLabels. The result shares nothing with rc.
func rcToReplicaSet(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rc = rc.DeepCopy()
	rs := &appsv1.ReplicaSet{
		ObjectMeta: rc.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        rc.Spec.Replicas,
			MinReadySeconds: rc.Spec.MinReadySeconds,
			Selector:        &metav1.LabelSelector{MatchLabels: rc.Spec.Selector},
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas:             rc.Status.Replicas,
			FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas:        rc.Status.ReadyReplicas,
			AvailableReplicas:    rc.Status.AvailableReplicas,
			ObservedGeneration:   rc.Status.ObservedGeneration,
		},
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rs
}

// rcStatus converts a ReplicaSet status back to a ReplicationController's
// (which has no terminatingReplicas).
func rcStatus(st appsv1.ReplicaSetStatus) corev1.ReplicationControllerStatus {
	out := corev1.ReplicationControllerStatus{
		Replicas:             st.Replicas,
		FullyLabeledReplicas: st.FullyLabeledReplicas,
		ReadyReplicas:        st.ReadyReplicas,
		AvailableReplicas:    st.AvailableReplicas,
		ObservedGeneration:   st.ObservedGeneration,
	}
	for _, c := range st.Conditions {
		out.Conditions = append(out.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return out
}
