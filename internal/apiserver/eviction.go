package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// Upstream's wording for evictions a budget refuses.
const (
	evictionRefused       = "Cannot evict pod as it would violate the pod's disruption budget."
	causeDisruptionBudget = "DisruptionBudget"
)

// admitEviction checks the pod's PodDisruptionBudget before an eviction
// and, when the budget allows it, records the disruption in the budget's
// status (disruptionsAllowed - 1, the pod in disruptedPods) so that
// concurrent evictions cannot overdraw it. Pods that are not running
// (pending, finished, already being deleted) disrupt nothing and are
// always allowed, as upstream.
func (s *Server) admitEviction(ctx context.Context, pod *corev1.Pod, dryRun bool) error {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning {
		return nil
	}
	budgets := s.stores[schema.GroupVersionResource{Group: policyv1.GroupName, Version: "v1", Resource: "poddisruptionbudgets"}]
	if budgets == nil {
		return nil
	}
	list, err := budgets.cache.List(ctx, cacher.ListOptions{KeyPrefix: budgets.keyPrefix(pod.Namespace)})
	if err != nil {
		return err
	}
	var matching []*policyv1.PodDisruptionBudget
	for _, obj := range list.Items {
		pdb := obj.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || pdb.Spec.Selector == nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		matching = append(matching, pdb)
	}
	switch len(matching) {
	case 0:
		return nil
	case 1:
	default:
		return apierrors.NewInternalError(fmt.Errorf("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."))
	}
	name := matching[0].Name
	_, _, err = budgets.update(ctx, pod.Namespace, name, func(old runtime.Object) (runtime.Object, error) {
		pdb := old.(*policyv1.PodDisruptionBudget)
		if pdb.Status.ObservedGeneration < pdb.Generation {
			return nil, tooManyRequests(evictionRefused, fmt.Sprintf("The disruption budget %s is still being processed by the server.", name))
		}
		if pdb.Status.DisruptionsAllowed <= 0 {
			return nil, tooManyRequests(evictionRefused, fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently",
				name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy))
		}
		pdb.Status.DisruptionsAllowed--
		if pdb.Status.DisruptedPods == nil {
			pdb.Status.DisruptedPods = map[string]metav1.Time{}
		}
		pdb.Status.DisruptedPods[pod.Name] = budgets.now()
		return pdb, nil
	}, nil, writeOptions{DryRun: dryRun, Subresource: "status", Internal: true})
	return err
}

// tooManyRequests is the 429 an eviction gets when a budget refuses it.
func tooManyRequests(message, cause string) error {
	err := apierrors.NewTooManyRequests(message, 0) // no Retry-After: clients such as kubectl drain retry on their own
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: causeDisruptionBudget, Message: cause})
	return err
}
