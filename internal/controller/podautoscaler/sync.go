package podautoscaler

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// specChanged returns the generations of an updated HPA.
func specChanged(old, obj any) (int64, int64, bool) {
	o, ok1 := old.(*autoscalingv2.HorizontalPodAutoscaler)
	n, ok2 := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return o.Generation, n.Generation, true
}

// sync reconciles one HPA, writes its status and requeues it after the
// sync period.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.hpas.HorizontalPodAutoscalers(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(cache.ExplicitKey(key))
		return nil
	}
	if err != nil {
		return err
	}
	hpa := cached.DeepCopy()
	failure := c.reconcile(ctx, key, hpa)
	if !equality.Semantic.DeepEqual(hpa.Status, cached.Status) {
		if _, err := c.client.AutoscalingV2().HorizontalPodAutoscalers(ns).UpdateStatus(ctx, hpa, metav1.UpdateOptions{}); err != nil {
			c.recorder.Event(hpa, corev1.EventTypeWarning, "FailedUpdateStatus", err.Error())
			return fmt.Errorf("updating status of autoscaler %s: %w", key, err)
		}
	}
	if failure != nil {
		return failure
	}
	return kit.RequeueAfter(c.period)
}

// reconcile computes the desired scale, rescales the target and fills
// hpa.Status. It returns an error when the HPA should be retried sooner
// than the sync period.
func (c *Controller) reconcile(ctx context.Context, key string, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	now := c.now()
	st := &hpa.Status
	st.ObservedGeneration = ptr.To(hpa.Generation)
	t, err := c.resolveTarget(hpa.Spec.ScaleTargetRef)
	var sc *autoscalingv1.Scale
	if err == nil {
		sc, err = c.getScale(ctx, hpa.Namespace, t)
	}
	if err != nil {
		c.recorder.Event(hpa, corev1.EventTypeWarning, "FailedGetScale", err.Error())
		setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale", now, "the HPA controller was unable to get the target's current scale: %v", err)
		return err
	}
	setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", now, "the HPA controller was able to get the target's current scale")
	current := sc.Spec.Replicas
	st.CurrentReplicas = sc.Status.Replicas
	minR, maxR := ptr.Deref(hpa.Spec.MinReplicas, 1), hpa.Spec.MaxReplicas

	var desired int32
	var reason string
	switch {
	case current == 0 && minR != 0:
		desired = 0
		st.CurrentMetrics = nil
		setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", now, "scaling is disabled since the replica count of the target is zero")
	case current > maxR:
		desired, reason = maxR, "Current number of replicas above Spec.MaxReplicas"
	case current < minR:
		desired, reason = minR, "Current number of replicas below Spec.MinReplicas"
	default:
		proposal, metricName, statuses, err := c.computeMetrics(ctx, hpa, sc, now)
		st.CurrentMetrics = statuses
		if err != nil {
			return err
		}
		setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", now, "the HPA was able to successfully calculate a replica count from %s", metricName)
		d, h := applyBehavior(now, current, proposal, minR, maxR, defaultBehavior(hpa.Spec.Behavior), c.history(key))
		c.setHistory(key, h)
		desired = d.replicas
		setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, d.ableReason, now, "%s", d.ableMessage)
		if d.limitReason != "" {
			setCondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, d.limitReason, now, "%s", d.limitMessage)
		} else {
			setCondition(st, autoscalingv2.ScalingLimited, corev1.ConditionFalse, "DesiredWithinRange", now, "the desired count is within the acceptable range")
		}
		reason = "All metrics below target"
		if desired > current {
			reason = metricName + " above target"
		}
	}
	st.DesiredReplicas = desired
	if desired == current {
		return nil
	}
	if err := c.updateScale(ctx, hpa.Namespace, t, sc, desired); err != nil {
		c.recorder.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err)
		setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale", now, "the HPA controller was unable to update the target scale: %v", err)
		return err
	}
	setCondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", now, "the HPA controller was able to update the target scale to %d", desired)
	c.recorder.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
	h := c.history(key)
	h.events = append(h.events, scaleEvent{at: now, change: desired - current})
	c.setHistory(key, h)
	st.LastScaleTime = ptr.To(metav1.NewTime(now))
	return nil
}

// selectorOf parses the label selector the target's scale reports.
func selectorOf(sc *autoscalingv1.Scale) (labels.Selector, error) {
	if sc.Status.Selector == "" {
		return nil, fmt.Errorf("the HPA target's scale is missing a selector")
	}
	sel, err := labels.Parse(sc.Status.Selector)
	if err != nil {
		return nil, fmt.Errorf("couldn't convert selector into a corresponding internal selector object: %w", err)
	}
	return sel, nil
}
