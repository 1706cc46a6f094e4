package tables

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// addWorkloads registers the apps/v1 types. Column descriptions come from
// the same API docs upstream uses, so they match byte for byte.
func addWorkloads(r registry) {
	addDeployments(r)
	addReplicaSets(r)
	addDaemonSets(r)
	addStatefulSets(r)
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Controller", "string", "Controller of the object"),
		column("Revision", "string", appsv1beta1.ControllerRevision{}.SwaggerDoc()["revision"]),
		ageColumn(),
	}, func(cr *appsv1.ControllerRevision, now time.Time) []any {
		return []any{cr.Name, controllerName(cr), cr.Revision, age(now, cr.CreationTimestamp)}
	})
}

// withTemplate appends the wide CONTAINERS, IMAGES and, when selector is
// not empty, SELECTOR columns.
func withTemplate(columns []metav1.TableColumnDefinition, selectorDoc string) []metav1.TableColumnDefinition {
	columns = append(columns, templateColumns()...)
	return append(columns, wide(column("Selector", "string", selectorDoc)))
}

func addDeployments(r registry) {
	status := extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()
	columns := withTemplate([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", "string", "Number of the pod with ready state"),
		column("Up-to-date", "string", status["updatedReplicas"]),
		column("Available", "string", status["availableReplicas"]),
		ageColumn(),
	}, extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"])
	addCells(r, columns, func(d *appsv1.Deployment, now time.Time) []any {
		names, images := containerCells(d.Spec.Template.Spec.Containers)
		selector := "<invalid>"
		if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
			selector = s.String()
		}
		return []any{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicasOr1(d.Spec.Replicas)),
			int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), age(now, d.CreationTimestamp),
			names, images, selector}
	})
}

func addReplicaSets(r registry) {
	spec, status := extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc(), extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()
	columns := withTemplate([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", "integer", spec["replicas"]),
		column("Current", "integer", status["replicas"]),
		column("Ready", "integer", status["readyReplicas"]),
		ageColumn(),
	}, spec["selector"])
	addCells(r, columns, func(rs *appsv1.ReplicaSet, now time.Time) []any {
		names, images := containerCells(rs.Spec.Template.Spec.Containers)
		return []any{rs.Name, replicasOr1(rs.Spec.Replicas), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas),
			age(now, rs.CreationTimestamp), names, images, metav1.FormatLabelSelector(rs.Spec.Selector)}
	})
}

func addDaemonSets(r registry) {
	status := extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()
	columns := withTemplate([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", "integer", status["desiredNumberScheduled"]),
		column("Current", "integer", status["currentNumberScheduled"]),
		column("Ready", "integer", status["numberReady"]),
		column("Up-to-date", "integer", status["updatedNumberScheduled"]),
		column("Available", "integer", status["numberAvailable"]),
		column("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
		ageColumn(),
	}, extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"])
	addCells(r, columns, func(ds *appsv1.DaemonSet, now time.Time) []any {
		st := ds.Status
		names, images := containerCells(ds.Spec.Template.Spec.Containers)
		return []any{ds.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled),
			int64(st.NumberReady), int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable),
			labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector), age(now, ds.CreationTimestamp),
			names, images, metav1.FormatLabelSelector(ds.Spec.Selector)}
	})
}

func addStatefulSets(r registry) {
	columns := append([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Ready", "string", "Number of the pod with ready state"),
		ageColumn(),
	}, templateColumns()...)
	addCells(r, columns, func(ss *appsv1.StatefulSet, now time.Time) []any {
		names, images := containerCells(ss.Spec.Template.Spec.Containers)
		return []any{ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicasOr1(ss.Spec.Replicas)),
			age(now, ss.CreationTimestamp), names, images}
	})
}

// controllerName is "kind.group/name" of the controlling owner, or <none>.
func controllerName(cr *appsv1.ControllerRevision) string {
	ref := metav1.GetControllerOf(cr)
	if ref == nil {
		return "<none>"
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return ref.Name
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: ref.Kind}
	if gk.Empty() {
		return ref.Name
	}
	return strings.ToLower(gk.String()) + "/" + ref.Name
}
