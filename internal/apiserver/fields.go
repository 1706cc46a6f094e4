package apiserver

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
)

// fieldSet returns the type-specific fields a field selector may name
// (metadata.name and metadata.namespace are added by the caller), as
// upstream supports them per type.
func fieldSet(obj runtime.Object) fields.Set {
	switch o := obj.(type) {
	case *corev1.Pod:
		ips := make([]string, 0, len(o.Status.PodIPs))
		for _, ip := range o.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return fields.Set{
			"spec.nodeName":            o.Spec.NodeName,
			"spec.restartPolicy":       string(o.Spec.RestartPolicy),
			"spec.schedulerName":       o.Spec.SchedulerName,
			"spec.serviceAccountName":  o.Spec.ServiceAccountName,
			"spec.hostNetwork":         fmt.Sprint(o.Spec.HostNetwork),
			"status.phase":             string(o.Status.Phase),
			"status.podIP":             o.Status.PodIP,
			"status.podIPs":            strings.Join(ips, ","),
			"status.nominatedNodeName": o.Status.NominatedNodeName,
		}
	case *corev1.Node:
		return fields.Set{"spec.unschedulable": fmt.Sprint(o.Spec.Unschedulable)}
	case *corev1.Namespace:
		return fields.Set{"status.phase": string(o.Status.Phase)}
	case *corev1.Secret:
		return fields.Set{"type": string(o.Type)}
	case *corev1.Service:
		return fields.Set{"spec.clusterIP": o.Spec.ClusterIP, "spec.type": string(o.Spec.Type)}
	case *corev1.ReplicationController:
		return fields.Set{"status.replicas": fmt.Sprint(o.Status.Replicas)}
	case *appsv1.ReplicaSet:
		return fields.Set{"status.replicas": fmt.Sprint(o.Status.Replicas)}
	case *batchv1.Job:
		return fields.Set{"status.successful": fmt.Sprint(o.Status.Succeeded)}
	case *corev1.Event:
		return fields.Set{
			"involvedObject.kind":            o.InvolvedObject.Kind,
			"involvedObject.namespace":       o.InvolvedObject.Namespace,
			"involvedObject.name":            o.InvolvedObject.Name,
			"involvedObject.uid":             string(o.InvolvedObject.UID),
			"involvedObject.apiVersion":      o.InvolvedObject.APIVersion,
			"involvedObject.resourceVersion": o.InvolvedObject.ResourceVersion,
			"involvedObject.fieldPath":       o.InvolvedObject.FieldPath,
			"reason":                         o.Reason,
			"reportingComponent":             o.ReportingController,
			"source":                         o.Source.Component,
			"type":                           o.Type,
		}
	}
	return fields.Set{}
}

// checkFieldSelector refuses selectors on fields the type does not support,
// with upstream's message.
func checkFieldSelector(sel fields.Selector, sample runtime.Object, namespaced bool) error {
	if sel == nil || sel.Empty() {
		return nil
	}
	supported := fieldSet(sample)
	supported["metadata.name"] = ""
	if namespaced {
		supported["metadata.namespace"] = ""
	}
	for _, req := range sel.Requirements() {
		if _, ok := supported[req.Field]; !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

// fieldsAnd adds field=value to a selector.
func fieldsAnd(sel fields.Selector, field, value string) fields.Selector {
	one := fields.OneTermEqualSelector(field, value)
	if sel == nil || sel.Empty() {
		return one
	}
	return fields.AndSelectors(sel, one)
}
