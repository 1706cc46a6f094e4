package apiserver

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Priority admission plugin, as upstream's: a pod's
// priorityClassName (or the globalDefault class when it names none) sets
// spec.priority and spec.preemptionPolicy; a class that does not exist,
// or values in the pod that disagree with the class, are refused. Only
// one PriorityClass may be the global default.

var priorityClassesGVR = schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"}

func (s *Server) admitPriority(ctx context.Context, rs *resourceStore, obj runtime.Object) error {
	switch o := obj.(type) {
	case *corev1.Pod:
		classes, err := s.priorityClasses(ctx)
		if err != nil {
			return err
		}
		if name := o.Spec.PriorityClassName; name != "" && !slices.ContainsFunc(classes, func(c *schedulingv1.PriorityClass) bool { return c.Name == name }) {
			// The cache may lag a class created a moment ago.
			if fresh, _, err := s.stores[priorityClassesGVR].get(ctx, "", name); err == nil {
				classes = append(classes, fresh.(*schedulingv1.PriorityClass))
			}
		}
		return resolvePriority(rs, o, classes)
	case *schedulingv1.PriorityClass:
		classes, err := s.priorityClasses(ctx)
		if err != nil {
			return err
		}
		return checkSingleDefault(rs, o, classes)
	}
	return nil
}

// priorityClasses lists the PriorityClasses from the watch cache.
func (s *Server) priorityClasses(ctx context.Context) ([]*schedulingv1.PriorityClass, error) {
	objs, err := listNamespace(ctx, s.stores[priorityClassesGVR], "")
	if err != nil {
		return nil, fmt.Errorf("listing priority classes: %w", err)
	}
	out := make([]*schedulingv1.PriorityClass, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*schedulingv1.PriorityClass))
	}
	return out, nil
}

// resolvePriority sets a pod's priority from its class.
func resolvePriority(rs *resourceStore, pod *corev1.Pod, classes []*schedulingv1.PriorityClass) error {
	var class *schedulingv1.PriorityClass
	if pod.Spec.PriorityClassName == "" {
		class = defaultPriorityClass(classes)
		if class != nil {
			pod.Spec.PriorityClassName = class.Name
		}
	} else {
		for _, c := range classes {
			if c.Name == pod.Spec.PriorityClassName {
				class = c
			}
		}
		if class == nil {
			return apierrors.NewForbidden(rs.gr, pod.Name,
				fmt.Errorf("no PriorityClass with name %s was found", pod.Spec.PriorityClassName))
		}
	}
	var priority int32
	var policy *corev1.PreemptionPolicy
	if class != nil {
		priority, policy = class.Value, class.PreemptionPolicy
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return apierrors.NewForbidden(rs.gr, pod.Name, fmt.Errorf("the integer value of priority (%d) must not be provided in pod spec; "+
			"priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority))
	}
	pod.Spec.Priority = &priority
	if policy != nil {
		if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != *policy {
			return apierrors.NewForbidden(rs.gr, pod.Name, fmt.Errorf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; "+
				"priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, *policy))
		}
		p := *policy
		pod.Spec.PreemptionPolicy = &p
	}
	return nil
}

// defaultPriorityClass is the globalDefault class (the highest valued if
// several), or nil.
func defaultPriorityClass(classes []*schedulingv1.PriorityClass) *schedulingv1.PriorityClass {
	var def *schedulingv1.PriorityClass
	for _, c := range classes {
		if c.GlobalDefault && (def == nil || c.Value > def.Value) {
			def = c
		}
	}
	return def
}

// checkSingleDefault refuses a second global default class.
func checkSingleDefault(rs *resourceStore, pc *schedulingv1.PriorityClass, classes []*schedulingv1.PriorityClass) error {
	if !pc.GlobalDefault {
		return nil
	}
	for _, c := range classes {
		if c.GlobalDefault && c.Name != pc.Name {
			return apierrors.NewForbidden(rs.gr, pc.Name,
				fmt.Errorf("PriorityClass %v is already marked as default. Only one default can exist", c.Name))
		}
	}
	return nil
}

// installPriority checks PriorityClass updates for a second default.
func (s *Server) installPriority() {
	rs := s.stores[priorityClassesGVR]
	rs.hooks.beforeUpdate = chainUpdate(func(ctx context.Context, obj, _ runtime.Object, _ bool) (func(), error) {
		return func() {}, s.admitPriority(ctx, rs, obj)
	}, rs.hooks.beforeUpdate)
}
