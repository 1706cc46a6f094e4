package namespace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// contentReport is what one pass over a namespace's content found.
type contentReport struct {
	// discoveryErr is set when discovery failed, for some groups or all.
	discoveryErr error
	// parseErr is set when some discovered group versions did not parse.
	parseErr error
	// deleteErrs are the failures to list or delete one resource type.
	deleteErrs []error
	// remaining counts the objects left by group-resource
	// ("configmaps", "deployments.apps").
	remaining map[string]int
	// finalizers counts the remaining objects holding each finalizer.
	finalizers map[string]int
	// podWait is the longest graceful deletion left among remaining pods.
	podWait time.Duration
}

// err joins every failure of the pass; nil means the pass saw everything.
func (r contentReport) err() error {
	var errs []error
	if r.discoveryErr != nil {
		errs = append(errs, fmt.Errorf("discovering resources: %w", r.discoveryErr))
	}
	if r.parseErr != nil {
		errs = append(errs, fmt.Errorf("parsing discovery: %w", r.parseErr))
	}
	return errors.Join(append(errs, r.deleteErrs...)...)
}

// contentLeft reports whether objects remain in the namespace.
func (r contentReport) contentLeft() bool { return len(r.remaining) > 0 }

// contentResource is a namespaced resource type the controller empties.
type contentResource struct {
	gvr schema.GroupVersionResource
	// collection is true when the type supports deletecollection; other
	// types are deleted one object at a time.
	collection bool
}

// deletableResources picks, from discovery, the namespaced top-level
// resources that can be listed and deleted, in a stable order.
func deletableResources(lists []*metav1.APIResourceList) ([]contentResource, error) {
	var out []contentResource
	var errs []error
	for _, list := range lists {
		if list == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			errs = append(errs, fmt.Errorf("group version %q: %w", list.GroupVersion, err))
			continue
		}
		for _, r := range list.APIResources {
			if !r.Namespaced || strings.Contains(r.Name, "/") ||
				!slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") {
				continue
			}
			out = append(out, contentResource{gvr: gv.WithResource(r.Name), collection: slices.Contains(r.Verbs, "deletecollection")})
		}
	}
	slices.SortFunc(out, func(a, b contentResource) int { return strings.Compare(a.gvr.String(), b.gvr.String()) })
	return out, errors.Join(errs...)
}

// deleteContent deletes every object in the namespace and reports what
// is left.
func (c *Controller) deleteContent(ctx context.Context, ns string) contentReport {
	report := contentReport{remaining: map[string]int{}, finalizers: map[string]int{}}
	lists, err := c.discover()
	if err != nil {
		report.discoveryErr = err
	}
	resources, err := deletableResources(lists)
	if err != nil {
		report.parseErr = err
	}
	for _, r := range resources {
		if err := c.deleteResource(ctx, ns, r, &report); err != nil {
			report.deleteErrs = append(report.deleteErrs, err)
		}
	}
	return report
}

// deleteResource deletes the objects of one type in the namespace, with
// background propagation, and counts what remains into report.
func (c *Controller) deleteResource(ctx context.Context, ns string, r contentResource, report *contentReport) error {
	client := c.metadata.Resource(r.gvr).Namespace(ns)
	gr := r.gvr.GroupResource().String()
	list, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return nil // the type is gone or cannot be listed after all
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", gr, err)
	}
	if !slices.ContainsFunc(list.Items, func(o metav1.PartialObjectMetadata) bool { return o.DeletionTimestamp == nil }) {
		report.count(r.gvr.GroupResource(), list.Items, c.now())
		return nil
	}
	background := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &background}
	if r.collection {
		err = client.DeleteCollection(ctx, opts, metav1.ListOptions{})
	} else {
		for _, o := range list.Items {
			if e := client.Delete(ctx, o.Name, opts); e != nil && !apierrors.IsNotFound(e) {
				err = errors.Join(err, e)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %w", gr, err)
	}
	list, err = client.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing %s after deletion: %w", gr, err)
	}
	report.count(r.gvr.GroupResource(), list.Items, c.now())
	return nil
}

// count adds the remaining objects of one type to the report.
func (r *contentReport) count(gr schema.GroupResource, items []metav1.PartialObjectMetadata, now time.Time) {
	if len(items) == 0 {
		return
	}
	r.remaining[gr.String()] += len(items)
	for _, o := range items {
		for _, f := range o.Finalizers {
			r.finalizers[f]++
		}
		if gr == (schema.GroupResource{Resource: "pods"}) && o.DeletionTimestamp != nil {
			r.podWait = max(r.podWait, o.DeletionTimestamp.Sub(now))
		}
	}
}
