package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// limitRangerAnnotation records which defaults LimitRanger set on a pod.
const limitRangerAnnotation = "kubernetes.io/limit-ranger"

// admitLimitRanger is the LimitRanger plugin for pods: the namespace's
// LimitRanges of type Container default the containers' requests and
// limits, then bound them (min, max, maxLimitRequestRatio).
func (s *Server) admitLimitRanger(ctx context.Context, rs *resourceStore, obj runtime.Object) error {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	items, err := listNamespace(ctx, s.stores[limitRangesGVR], pod.Namespace)
	if err != nil || len(items) == 0 {
		return err
	}
	// The pod's own defaulting (requests from limits) comes first, as
	// upstream decodes (and defaults) before admission.
	rs.res.Strategy.Default(pod)
	var errs []error
	for _, item := range items {
		lr := item.(*corev1.LimitRange)
		applyLimitRangeDefaults(pod, lr)
		errs = append(errs, validateLimitRange(pod, lr)...)
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewForbidden(rs.gr, pod.Name, aggregate(errs))
}

// containerLimits are a LimitRange's Container items with the defaults
// upstream's LimitRange defaulting fills (default from max, defaultRequest
// from default, then from min).
func containerLimits(lr *corev1.LimitRange) []corev1.LimitRangeItem {
	var out []corev1.LimitRangeItem
	for _, it := range lr.Spec.Limits {
		if it.Type != corev1.LimitTypeContainer {
			continue
		}
		it = *it.DeepCopy()
		fill := func(dst *corev1.ResourceList, src corev1.ResourceList) {
			for k, v := range src {
				if _, ok := (*dst)[k]; ok {
					continue
				}
				if *dst == nil {
					*dst = corev1.ResourceList{}
				}
				(*dst)[k] = v.DeepCopy()
			}
		}
		fill(&it.Default, it.Max)
		fill(&it.DefaultRequest, it.Default)
		fill(&it.DefaultRequest, it.Min)
		out = append(out, it)
	}
	return out
}

// applyLimitRangeDefaults sets the missing requests and limits of every
// container from lr and records what it set in the pod's annotation.
func applyLimitRangeDefaults(pod *corev1.Pod, lr *corev1.LimitRange) {
	var notes []string
	for _, it := range containerLimits(lr) {
		for i := range pod.Spec.Containers {
			notes = append(notes, mergeDefaults(&pod.Spec.Containers[i], it, "container")...)
		}
		for i := range pod.Spec.InitContainers {
			notes = append(notes, mergeDefaults(&pod.Spec.InitContainers[i], it, "init container")...)
		}
	}
	if len(notes) == 0 {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[limitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
}

func mergeDefaults(c *corev1.Container, it corev1.LimitRangeItem, kind string) []string {
	set := func(dst *corev1.ResourceList, src corev1.ResourceList) []string {
		var names []string
		for k, v := range src {
			if _, ok := (*dst)[k]; ok {
				continue
			}
			if *dst == nil {
				*dst = corev1.ResourceList{}
			}
			(*dst)[k] = v.DeepCopy()
			names = append(names, string(k))
		}
		slices.Sort(names)
		return names
	}
	var notes []string
	if names := set(&c.Resources.Requests, it.DefaultRequest); len(names) > 0 {
		notes = append(notes, fmt.Sprintf("%s request for %s %s", strings.Join(names, ", "), kind, c.Name))
	}
	if names := set(&c.Resources.Limits, it.Default); len(names) > 0 {
		notes = append(notes, fmt.Sprintf("%s limit for %s %s", strings.Join(names, ", "), kind, c.Name))
	}
	return notes
}

// validateLimitRange checks every container against lr's Container items,
// with upstream's messages.
func validateLimitRange(pod *corev1.Pod, lr *corev1.LimitRange) []error {
	var errs []error
	for _, it := range containerLimits(lr) {
		for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
			for i := range cs {
				errs = append(errs, checkContainerLimits(&cs[i], it)...)
			}
		}
	}
	return errs
}

func checkContainerLimits(c *corev1.Container, it corev1.LimitRangeItem) []error {
	const kind = "Container"
	req, lim := c.Resources.Requests, c.Resources.Limits
	var errs []error
	for _, k := range sortedResourceNames(it.Min) {
		min := it.Min[k]
		r, hasR := req[k]
		l, hasL := lim[k]
		switch {
		case !hasR:
			errs = append(errs, fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", k, kind, min.String()))
		case r.Cmp(min) < 0:
			errs = append(errs, fmt.Errorf("minimum %s usage per %s is %s, but request is %s", k, kind, min.String(), r.String()))
		case hasL && l.Cmp(min) < 0:
			errs = append(errs, fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", k, kind, min.String(), l.String()))
		}
	}
	for _, k := range sortedResourceNames(it.Max) {
		max := it.Max[k]
		r, hasR := req[k]
		l, hasL := lim[k]
		switch {
		case !hasL:
			errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", k, kind, max.String()))
		case l.Cmp(max) > 0:
			errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", k, kind, max.String(), l.String()))
		case hasR && r.Cmp(max) > 0:
			errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s, but request is %s", k, kind, max.String(), r.String()))
		}
	}
	for _, k := range sortedResourceNames(it.MaxLimitRequestRatio) {
		ratio := it.MaxLimitRequestRatio[k]
		r, hasR := req[k]
		l, hasL := lim[k]
		switch {
		case !hasL:
			errs = append(errs, fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified", k, kind, ratio.String()))
		case !hasR || r.IsZero():
			errs = append(errs, fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", k, kind, ratio.String()))
		default:
			got := float64(l.MilliValue()) / float64(r.MilliValue())
			if got > float64(ratio.MilliValue())/1000 {
				errs = append(errs, fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", k, kind, ratio.String(), got))
			}
		}
	}
	return errs
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// aggregate joins errors as upstream's aggregate prints them: one error
// alone, several in brackets.
func aggregate(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New("[" + strings.Join(msgs, ", ") + "]")
}
