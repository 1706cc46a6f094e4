package endpoints

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// sliceWriter turns desired slice contents into EndpointSlice writes for
// one Service, reusing existing slices where it can.
type sliceWriter struct {
	client       kubernetes.Interface
	managedBy    string
	expectations *kit.Expectations
}

// reconcile makes svc's slices managed by w.managedBy hold desired:
// existing slices with the same address type and ports are rewritten in
// place (unchanged ones left alone), missing ones created, extra ones
// deleted.
func (w *sliceWriter) reconcile(ctx context.Context, svc *corev1.Service, existing []*discoveryv1.EndpointSlice, desired []SliceContent) error {
	key := svc.Namespace + "/" + svc.Name
	labels := serviceLabels(svc)
	labels[discoveryv1.LabelServiceName] = svc.Name
	labels[discoveryv1.LabelManagedBy] = w.managedBy
	pool := map[string][]*discoveryv1.EndpointSlice{}
	slices.SortFunc(existing, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range existing {
		k := SliceContent{AddressType: s.AddressType, Ports: s.Ports}.key()
		pool[k] = append(pool[k], s)
	}
	api := w.client.DiscoveryV1().EndpointSlices(svc.Namespace)
	var errs []error
	var creates []*discoveryv1.EndpointSlice
	for _, d := range desired {
		k := d.key()
		if len(pool[k]) == 0 {
			creates = append(creates, w.newSlice(svc, labels, d))
			continue
		}
		cur := pool[k][0]
		pool[k] = pool[k][1:]
		if equality.Semantic.DeepEqual(cur.Endpoints, d.Endpoints) && maps.Equal(cur.Labels, labels) {
			continue
		}
		upd := cur.DeepCopy()
		upd.Labels, upd.Endpoints, upd.Ports = labels, d.Endpoints, d.Ports
		if _, err := api.Update(ctx, upd, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("updating EndpointSlice %s/%s: %w", upd.Namespace, upd.Name, err))
		}
	}
	var deletes []string
	for _, rest := range pool {
		for _, s := range rest {
			deletes = append(deletes, s.Namespace+"/"+s.Name)
		}
	}
	w.expectations.ExpectCreations(key, len(creates))
	w.expectations.ExpectDeletions(key, deletes)
	for _, s := range creates {
		if _, err := api.Create(ctx, s, metav1.CreateOptions{}); err != nil {
			w.expectations.CreationObserved(key)
			if !(apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause)) {
				errs = append(errs, fmt.Errorf("creating EndpointSlice for %s: %w", key, err))
			}
		}
	}
	for _, k := range deletes {
		name := k[len(svc.Namespace)+1:]
		if err := api.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			w.expectations.DeletionObserved(key, k)
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting EndpointSlice %s: %w", k, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (w *sliceWriter) newSlice(svc *corev1.Service, labels map[string]string, d SliceContent) *discoveryv1.EndpointSlice {
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    svc.Name + "-",
			Namespace:       svc.Namespace,
			Labels:          maps.Clone(labels),
			OwnerReferences: []metav1.OwnerReference{kit.ControllerRef(svc, gvk)},
		},
		AddressType: d.AddressType,
		Ports:       d.Ports,
		Endpoints:   d.Endpoints,
	}
}

// deleteAll removes every slice given (a Service that lost its selector
// or its mirrored Endpoints).
func (w *sliceWriter) deleteAll(ctx context.Context, key string, existing []*discoveryv1.EndpointSlice) error {
	var errs []error
	for _, s := range existing {
		w.expectations.ExpectDeletions(key, []string{s.Namespace + "/" + s.Name})
		if err := w.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil {
			w.expectations.DeletionObserved(key, s.Namespace+"/"+s.Name)
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting EndpointSlice %s/%s: %w", s.Namespace, s.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}
