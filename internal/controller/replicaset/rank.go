package replicaset

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// podsToDelete picks the n pods to delete first. Among otherwise equal
// pods, those sharing a node with more related pods go first, so a
// scale-down spreads what remains.
func podsToDelete(pods, related []*corev1.Pod, n int) []*corev1.Pod {
	if n >= len(pods) {
		return pods
	}
	perNode := map[string]int{}
	for _, p := range related {
		if p.Spec.NodeName != "" && kit.IsPodActive(p) {
			perNode[p.Spec.NodeName]++
		}
	}
	ranks := make(map[string]int, len(pods))
	for _, p := range pods {
		if p.Spec.NodeName != "" {
			ranks[string(p.UID)] = perNode[p.Spec.NodeName]
		}
	}
	sorted := slices.Clone(pods)
	kit.SortForDeletion(sorted, ranks)
	return sorted[:n]
}

// relatedPods returns the pods of rs and of its siblings: the owners in
// its namespace with the same controller (a Deployment's ReplicaSets).
func relatedPods(rs *appsv1.ReplicaSet, k kind, all []*corev1.Pod) []*corev1.Pod {
	owners := map[types.UID]bool{rs.UID: true}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if siblings, err := k.list(rs.Namespace); err == nil {
			for _, s := range siblings {
				if sref := metav1.GetControllerOfNoCopy(s.rs); sref != nil && sref.UID == ref.UID {
					owners[s.rs.UID] = true
				}
			}
		}
	}
	var out []*corev1.Pod
	for _, p := range all {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && owners[ref.UID] {
			out = append(out, p)
		}
	}
	return out
}
