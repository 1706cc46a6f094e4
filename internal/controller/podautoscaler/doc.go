// Package podautoscaler is the HorizontalPodAutoscaler (autoscaling/v2)
// controller: every sync period it reads the target's scale subresource,
// the pods its selector matches and their CPU and memory usage from a
// MetricsClient (metrics.k8s.io in a cluster), computes the desired replica
// count, applies the HPA's behavior (stabilization windows and scaling
// policies) and its min/max bounds, writes the new scale and the HPA's
// status (current metrics, replicas and the AbleToScale, ScalingActive and
// ScalingLimited conditions) and records SuccessfulRescale events.
//
// The replica computation (replicas.go) and the behavior (behavior.go) are
// pure functions tested with tables; the controller around them is thin.
//
// Simplifications against upstream, on purpose:
//   - Only Resource and ContainerResource metrics (cpu, memory) are
//     supported; Pods, Object and External metrics make the metric invalid
//     (ScalingActive=False) since Skiff serves no custom or external
//     metrics API.
//   - Pod readiness for CPU: a pod counts as not yet ready when it is
//     Pending or its Ready condition is not True. Upstream additionally
//     looks at the CPU initialization period and the metric window around
//     the last readiness transition.
//   - Requests are summed over the pods that are not ignored (deleting or
//     failed); a pod without a request for the resource makes the metric
//     invalid, as upstream.
package podautoscaler
