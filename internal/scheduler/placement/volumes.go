package placement

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// volumeAffinities returns the node affinity of each bound PersistentVolume
// the pod's claims (and generic ephemeral volumes) name, or a pre-filter
// message when a claim is missing or being deleted. Unbound claims are left
// to the volume binder and do not restrict placement here.
func volumeAffinities(pod *corev1.Pod, snap *Snapshot) ([]*corev1.NodeSelector, string) {
	var out []*corev1.NodeSelector
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var claimName string
		switch {
		case v.PersistentVolumeClaim != nil:
			claimName = v.PersistentVolumeClaim.ClaimName
		case v.Ephemeral != nil:
			claimName = pod.Name + "-" + v.Name
		default:
			continue
		}
		claim := snap.pvcs[pod.Namespace+"/"+claimName]
		if claim == nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q not found", claimName)
		}
		if claim.DeletionTimestamp != nil {
			return nil, fmt.Sprintf("persistentvolumeclaim %q is being deleted", claimName)
		}
		if claim.Spec.VolumeName == "" {
			continue
		}
		pv := snap.pvs[claim.Spec.VolumeName]
		if pv == nil || pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
			continue
		}
		out = append(out, pv.Spec.NodeAffinity.Required)
	}
	return out, ""
}

func checkVolumes(c *cycle, n *NodeInfo) []string {
	for _, ns := range c.volumeAffinity {
		if !nodeSelectorMatches(ns, n.Node) {
			return reason(ReasonVolumeNodeAffinity)
		}
	}
	return nil
}
