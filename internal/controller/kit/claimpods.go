package kit

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// RecheckOwner returns a Claimer.CanAdopt that re-reads owner with get
// (uncached) and fails if it is gone, replaced (another UID) or being
// deleted.
func RecheckOwner[T metav1.Object](owner metav1.Object, kind string, get func(ctx context.Context, ns, name string) (T, error)) func(context.Context) error {
	what := strings.ToLower(kind)
	return func(ctx context.Context) error {
		fresh, err := get(ctx, owner.GetNamespace(), owner.GetName())
		if err != nil {
			return fmt.Errorf("re-reading %s: %w", what, err)
		}
		if fresh.GetUID() != owner.GetUID() {
			return fmt.Errorf("%s %s/%s was replaced", what, owner.GetNamespace(), owner.GetName())
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s %s/%s is being deleted", what, owner.GetNamespace(), owner.GetName())
		}
		return nil
	}
}

// ClaimPods claims, for owner of kind gvk, the pods among all that sel
// selects (adopting orphans, releasing pods it no longer selects), writing
// owner references with strategic-merge patches through client.
func ClaimPods(ctx context.Context, client kubernetes.Interface, owner metav1.Object, gvk schema.GroupVersionKind, sel labels.Selector, canAdopt func(context.Context) error, all []*corev1.Pod) ([]*corev1.Pod, error) {
	claimer := &Claimer{Owner: owner, GVK: gvk, Selector: sel, CanAdopt: canAdopt,
		Patch: func(ctx context.Context, ns, name string, patch []byte) error {
			_, err := client.CoreV1().Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		}}
	return Claim(ctx, claimer, all)
}
