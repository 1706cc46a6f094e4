package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// msgTerminatingVictims follows "preemption:" while a nominated pod's
// victims terminate (upstream's wording).
const msgTerminatingVictims = "not eligible due to a terminating pod on the nominated node."

// Event reasons, as upstream names them.
const (
	ReasonScheduled        = "Scheduled"
	ReasonFailedScheduling = "FailedScheduling"
	ReasonPreempted        = "Preempted"
)

// scheduleOne runs one scheduling attempt for a popped pod.
func (s *Scheduler) scheduleOne(ctx context.Context, qp *QueuedPod) {
	pod := qp.Pod
	var (
		res placement.Result
		err error
	)
	s.state.read(func(snap *placement.Snapshot) {
		res, err = placement.Schedule(pod, snap, s.profileOf(pod).cfg, s.rnd)
	})
	if err != nil {
		s.failed(ctx, qp, err)
		return
	}
	s.state.assume(pod, res.Node)
	s.queue.Done(qp)
	s.binds.Add(1)
	s.bindSlots <- struct{}{}
	go func() {
		defer s.binds.Done()
		defer func() { <-s.bindSlots }()
		s.bind(ctx, pod, res.Node)
	}()
}

// bind binds pod to node, forgetting the assumption if that fails.
func (s *Scheduler) bind(ctx context.Context, pod *corev1.Pod, node string) {
	ctx, cancel := context.WithTimeout(ctx, bindTimeout)
	defer cancel()
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	err := s.client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{})
	if err == nil {
		s.profileOf(pod).recorder.Eventf(pod, corev1.EventTypeNormal, ReasonScheduled, "Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, node)
		return
	}
	s.logger.Info("binding failed", "pod", pod.Namespace+"/"+pod.Name, "node", node, "err", err)
	s.state.forgetAssumed(pod)
	s.queue.MoveAll()
	if apierrors.IsNotFound(err) || ctx.Err() != nil {
		return
	}
	// Schedule it again (the informer re-adds it while it stays pending).
	cur, gerr := s.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
	if gerr == nil && cur.UID == pod.UID && cur.Spec.NodeName == "" {
		s.queue.Add(s.withPriority(cur))
	}
}

// failed handles a pod that could not be placed: preemption, the
// PodScheduled condition, the event, and the queue.
func (s *Scheduler) failed(ctx context.Context, qp *QueuedPod, err error) {
	pod := qp.Pod
	var fit *placement.FitError
	if !errors.As(err, &fit) {
		msg := err.Error()
		if errors.Is(err, placement.ErrNoNodes) {
			msg = "0/0 nodes are available."
		}
		s.markUnschedulable(ctx, pod, msg, "")
		s.queue.Requeue(qp, true)
		return
	}
	nominated := ""
	msg := fit.Error()
	if node := s.state.awaitingVictims(pod); node != "" {
		// An earlier attempt preempted; its victims are leaving. Keep the
		// room and evict nothing more.
		nominated = node
		msg += " preemption: " + msgTerminatingVictims
	} else if victims, node, ok := s.preempt(pod); ok && len(victims) > 0 {
		nominated = node
		s.state.nominate(pod, node) // before the victims free the room
		s.evict(ctx, pod, node, victims)
		msg += " preemption: nominated node " + node + "."
	} else {
		msg += " " + fit.PreemptionMessage(pod)
	}
	// Until bound, the pod holds the nominated node's room against pods of
	// lower priority.
	s.state.nominate(pod, nominated)
	s.markUnschedulable(ctx, pod, msg, nominated)
	s.queue.Requeue(qp, nominated == "")
}

// preempt looks for lower-priority victims whose eviction lets pod fit.
func (s *Scheduler) preempt(pod *corev1.Pod) ([]*corev1.Pod, string, bool) {
	if p := pod.Spec.PreemptionPolicy; p != nil && *p == corev1.PreemptNever {
		return nil, "", false
	}
	pdbs, _ := s.pdbs.List(everything())
	var (
		node    string
		victims []*corev1.Pod
		ok      bool
	)
	s.state.read(func(snap *placement.Snapshot) {
		node, victims, ok = placement.Preempt(pod, snap, s.profileOf(pod).cfg, pdbs)
	})
	return victims, node, ok
}

// evict deletes the victims chosen for preemptor on node.
func (s *Scheduler) evict(ctx context.Context, preemptor *corev1.Pod, node string, victims []*corev1.Pod) {
	for _, v := range victims {
		err := s.client.CoreV1().Pods(v.Namespace).Delete(ctx, v.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &v.UID},
		})
		if err != nil && !apierrors.IsNotFound(err) {
			s.logger.Info("preemption: deleting a victim failed", "pod", v.Namespace+"/"+v.Name, "err", err)
			continue
		}
		s.profileOf(preemptor).recorder.Eventf(v, corev1.EventTypeNormal, ReasonPreempted, "Preempted by pod %s on node %s", preemptor.UID, node)
	}
}

// markUnschedulable sets PodScheduled=False (and nominatedNodeName) and
// records the FailedScheduling event.
func (s *Scheduler) markUnschedulable(ctx context.Context, pod *corev1.Pod, msg, nominated string) {
	s.profileOf(pod).recorder.Event(pod, corev1.EventTypeWarning, ReasonFailedScheduling, msg)
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: msg}
	if old := findCondition(pod, corev1.PodScheduled); old != nil && old.Status == cond.Status &&
		old.Reason == cond.Reason && old.Message == cond.Message && pod.Status.NominatedNodeName == nominated {
		return // nothing changed
	}
	cond.LastTransitionTime = metav1.Now()
	status := map[string]any{"conditions": []corev1.PodCondition{cond}}
	if nominated != "" || pod.Status.NominatedNodeName != "" {
		status["nominatedNodeName"] = nullIfEmpty(nominated)
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		s.logger.Info("updating the PodScheduled condition failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func findCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// nodeSchedulingChanged says whether a node update could make a pending pod
// fit: not a heartbeat, but labels, taints, unschedulable, allocatable or a
// condition's status.
func nodeSchedulingChanged(o, n *corev1.Node) bool {
	if !maps.Equal(o.Labels, n.Labels) || o.Spec.Unschedulable != n.Spec.Unschedulable ||
		!apiequality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) ||
		!apiequality.Semantic.DeepEqual(o.Status.Allocatable, n.Status.Allocatable) {
		return true
	}
	status := func(n *corev1.Node) []string {
		var out []string
		for _, c := range n.Status.Conditions {
			out = append(out, string(c.Type)+"="+string(c.Status))
		}
		return out
	}
	return !slices.Equal(status(o), status(n))
}

func everything() labels.Selector { return labels.Everything() }

// eventScheme is the scheme events use to reference objects.
func eventScheme() *runtime.Scheme { return scheme.Scheme }

// String is for logs.
func (q *QueuedPod) String() string { return fmt.Sprintf("%s (attempts %d)", q.key(), q.Attempts) }
