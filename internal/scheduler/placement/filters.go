package placement

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Reasons, worded as upstream words them so users and tools recognize them.
const (
	ReasonUnschedulable        = "node(s) were unschedulable"
	ReasonNodeName             = "node(s) didn't match the requested node name"
	ReasonNodeAffinity         = "node(s) didn't match Pod's node affinity/selector"
	ReasonHostPorts            = "node(s) didn't have free ports for the requested pod ports"
	ReasonTooManyPods          = "Too many pods"
	ReasonPodAffinity          = "node(s) didn't match pod affinity rules"
	ReasonPodAntiAffinity      = "node(s) didn't match pod anti-affinity rules"
	ReasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
	ReasonSpread               = "node(s) didn't match pod topology spread constraints"
	ReasonSpreadMissingLabel   = ReasonSpread + " (missing required label)"
	ReasonVolumeNodeAffinity   = "node(s) had volume node affinity conflict"
)

// Well-known taints.
const (
	taintUnschedulable = "node.kubernetes.io/unschedulable"
	taintNotReady      = "node.kubernetes.io/not-ready"
	taintUnreachable   = "node.kubernetes.io/unreachable"
)

// filter is one feasibility check: nil if the node fits, else the reasons.
type filter struct {
	name  string
	check func(c *cycle, n *NodeInfo) []string
}

// newFilters is the filter chain, in upstream's order; a node is rejected
// by the first filter that objects.
func newFilters() []filter {
	return []filter{
		{"NodeUnschedulable", checkUnschedulable}, // spec.unschedulable, unless tolerated
		{"NodeReady", checkReady},                 // not Ready acts as a not-ready/unreachable NoSchedule taint
		{"NodeName", checkNodeName},               // spec.nodeName pins the pod to one node
		{"TaintToleration", checkTaints},          // NoSchedule and NoExecute taints must be tolerated
		{"NodeAffinity", checkNodeAffinity},       // nodeSelector and required node affinity
		{"NodePorts", checkHostPorts},             // requested host ports must be free
		{"NodeResourcesFit", checkResources},      // requests fit in allocatable minus requested
		{"VolumeBinding", checkVolumes},           // bound PersistentVolumes' node affinity
		{"PodTopologySpread", checkSpread},        // DoNotSchedule spread constraints
		{"InterPodAffinity", checkInterPod},       // required pod (anti-)affinity, both ways
	}
}

func reason(s string) []string { return []string{s} }

func checkUnschedulable(c *cycle, n *NodeInfo) []string {
	if !n.Node.Spec.Unschedulable {
		return nil
	}
	t := corev1.Taint{Key: taintUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if tolerated(c.pod.Spec.Tolerations, &t) {
		return nil
	}
	return reason(ReasonUnschedulable)
}

// readinessTaint returns the taint the node lifecycle controller puts on a
// node that is not Ready (nil when Ready): not-ready when Ready is False,
// unreachable when it is Unknown or missing.
func readinessTaint(n *corev1.Node) *corev1.Taint {
	status := corev1.ConditionUnknown
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			status = n.Status.Conditions[i].Status
		}
	}
	switch status {
	case corev1.ConditionTrue:
		return nil
	case corev1.ConditionFalse:
		return &corev1.Taint{Key: taintNotReady, Effect: corev1.TaintEffectNoSchedule}
	default:
		return &corev1.Taint{Key: taintUnreachable, Effect: corev1.TaintEffectNoSchedule}
	}
}

func checkReady(c *cycle, n *NodeInfo) []string {
	t := readinessTaint(n.Node)
	if t == nil || tolerated(c.pod.Spec.Tolerations, t) {
		return nil
	}
	return reason(taintReason(t))
}

func taintReason(t *corev1.Taint) string {
	return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
}

func checkNodeName(c *cycle, n *NodeInfo) []string {
	if c.pod.Spec.NodeName == "" || c.pod.Spec.NodeName == n.Name() {
		return nil
	}
	return reason(ReasonNodeName)
}

// checkTaints reports the first NoSchedule/NoExecute taint not tolerated.
func checkTaints(c *cycle, n *NodeInfo) []string {
	taints := n.Node.Spec.Taints
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !tolerated(c.pod.Spec.Tolerations, t) {
			return reason(taintReason(t))
		}
	}
	return nil
}

// tolerated reports whether any toleration tolerates the taint.
func tolerated(tols []corev1.Toleration, t *corev1.Taint) bool {
	for i := range tols {
		if tolerates(&tols[i], t) {
			return true
		}
	}
	return false
}

// tolerates matches one toleration against one taint: the effect (empty
// means all), the key (empty with Exists means all) and the value by the
// operator (Equal, the default; Exists; or the numeric Gt and Lt).
func tolerates(tol *corev1.Toleration, t *corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case "", corev1.TolerationOpEqual:
		return tol.Value == t.Value
	case corev1.TolerationOpExists:
		return true
	case "Gt", "Lt":
		tv, err1 := strconv.ParseInt(tol.Value, 10, 64)
		nv, err2 := strconv.ParseInt(t.Value, 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if tol.Operator == "Gt" {
			return nv > tv
		}
		return nv < tv
	}
	return false
}

func checkNodeAffinity(c *cycle, n *NodeInfo) []string {
	if c.nodeAffinity.matches(n.Node) {
		return nil
	}
	return reason(ReasonNodeAffinity)
}

func checkHostPorts(c *cycle, n *NodeInfo) []string {
	for _, want := range c.pi.ports {
		for _, used := range n.ports {
			if want.conflicts(used) {
				return reason(ReasonHostPorts)
			}
		}
	}
	return nil
}

// checkResources reports every resource the node lacks (upstream lists them
// all): pods count, cpu, memory, ephemeral-storage, then extended resources.
func checkResources(c *cycle, n *NodeInfo) []string {
	var out []string
	req, alloc, used := &c.pi.req, &n.Allocatable, &n.Requested
	if int64(len(n.pods))+1 > alloc.Pods {
		out = append(out, ReasonTooManyPods)
	}
	if req.MilliCPU > 0 && req.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		out = append(out, "Insufficient cpu")
	}
	if req.Memory > 0 && req.Memory > alloc.Memory-used.Memory {
		out = append(out, "Insufficient memory")
	}
	if req.EphemeralStorage > 0 && req.EphemeralStorage > alloc.EphemeralStorage-used.EphemeralStorage {
		out = append(out, "Insufficient ephemeral-storage")
	}
	for _, name := range c.scalarNames {
		q := req.Scalar[name]
		if q > 0 && q > alloc.Scalar[name]-used.Scalar[name] {
			out = append(out, "Insufficient "+string(name))
		}
	}
	return out
}

// sortedScalars returns the extended resources a pod requests, sorted.
func sortedScalars(r Resources) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(r.Scalar))
	for name := range r.Scalar {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
