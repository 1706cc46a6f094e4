package apiserver

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/admission/podsecurity"
)

// The PodSecurity admission plugin, as upstream's: a namespace's
// pod-security.kubernetes.io labels choose a level for each mode. Pods
// violating the enforce level are refused; violations of the warn level
// come back as warnings and those of the audit level as audit
// annotations. Workloads with a pod template get warnings and audit
// annotations only.
const (
	auditEnforcePolicy   = "pod-security.kubernetes.io/enforce-policy"
	auditAuditViolations = "pod-security.kubernetes.io/audit-violations"
)

// admitPodSecurity evaluates a pod or workload being created.
func (s *Server) admitPodSecurity(ctx context.Context, rs *resourceStore, obj runtime.Object) error {
	if ns, ok := obj.(*corev1.Namespace); ok {
		return validatePodSecurityLabels(rs, ns)
	}
	meta, spec := podTemplateOf(obj)
	if spec == nil {
		return nil
	}
	policy, err := s.podSecurityPolicy(ctx, objectMeta(obj).GetNamespace())
	if err != nil {
		return err
	}
	_, isPod := obj.(*corev1.Pod)
	return evaluatePodSecurity(ctx, rs, objectMeta(obj).GetName(), policy, meta, spec, isPod)
}

// evaluatePodSecurity applies a namespace's policy to one pod spec:
// enforce (pods only), then audit, then warn.
func evaluatePodSecurity(ctx context.Context, rs *resourceStore, name string, policy podsecurity.Policy,
	meta *metav1.ObjectMeta, spec *corev1.PodSpec, isPod bool) error {
	var enforced []podsecurity.Violation
	if isPod {
		addAuditAnnotation(ctx, auditEnforcePolicy, policy.Enforce.String())
		enforced = podsecurity.Evaluate(policy.Enforce, meta, spec)
		if len(enforced) > 0 {
			return apierrors.NewForbidden(rs.gr, name, fmt.Errorf("violates PodSecurity %q: %s",
				policy.Enforce.String(), podsecurity.Details(enforced)))
		}
	}
	if v := podsecurity.Evaluate(policy.Audit, meta, spec); len(v) > 0 {
		addAuditAnnotation(ctx, auditAuditViolations, fmt.Sprintf("would violate PodSecurity %q: %s",
			policy.Audit.String(), podsecurity.Details(v)))
	}
	if isPod && policy.Warn == policy.Enforce {
		return nil
	}
	if v := podsecurity.Evaluate(policy.Warn, meta, spec); len(v) > 0 {
		addAdmissionWarning(ctx, fmt.Sprintf("would violate PodSecurity %q: %s", policy.Warn.String(), podsecurity.Details(v)))
	}
	return nil
}

// podSecurityPolicy reads a namespace's policy from its labels.
func (s *Server) podSecurityPolicy(ctx context.Context, name string) (podsecurity.Policy, error) {
	nsStore := s.namespaces
	cached, err := nsStore.cache.Get(ctx, nsStore.key("", name), "0")
	if err != nil || cached == nil {
		fresh, _, err := nsStore.get(ctx, "", name)
		if err != nil {
			return podsecurity.Policy{}, err
		}
		cached = fresh
	}
	policy, _ := podsecurity.PolicyFromLabels(cached.(*corev1.Namespace).Labels)
	return policy, nil
}

// podTemplateOf returns the pod metadata and spec an object runs: a pod's
// own, or a workload's template.
func podTemplateOf(obj runtime.Object) (*metav1.ObjectMeta, *corev1.PodSpec) {
	var t *corev1.PodTemplateSpec
	switch o := obj.(type) {
	case *corev1.Pod:
		return &o.ObjectMeta, &o.Spec
	case *corev1.PodTemplate:
		t = &o.Template
	case *corev1.ReplicationController:
		t = o.Spec.Template
	case *appsv1.Deployment:
		t = &o.Spec.Template
	case *appsv1.ReplicaSet:
		t = &o.Spec.Template
	case *appsv1.StatefulSet:
		t = &o.Spec.Template
	case *appsv1.DaemonSet:
		t = &o.Spec.Template
	case *batchv1.Job:
		t = &o.Spec.Template
	case *batchv1.CronJob:
		t = &o.Spec.JobTemplate.Spec.Template
	}
	if t == nil {
		return nil, nil
	}
	return &t.ObjectMeta, &t.Spec
}

// validatePodSecurityLabels refuses invalid policy labels on a namespace.
func validatePodSecurityLabels(rs *resourceStore, ns *corev1.Namespace) error {
	_, errs := podsecurity.PolicyFromLabels(ns.Labels)
	if len(errs) == 0 {
		return nil
	}
	var list field.ErrorList
	for _, e := range errs {
		list = append(list, field.Invalid(field.NewPath("metadata", "labels").Key(e.Key), e.Value, e.Reason))
	}
	return apierrors.NewInvalid(rs.gvk.GroupKind(), ns.Name, list)
}

// installPodSecurity evaluates updates: pods whose spec changes and
// workloads whose template changes, and namespaces whose labels change.
func (s *Server) installPodSecurity() {
	for _, rs := range s.stores {
		if rs.gvk.Kind == "Namespace" {
			rs.hooks.beforeUpdate = chainUpdate(func(ctx context.Context, obj, old runtime.Object, _ bool) (func(), error) {
				return func() {}, s.admitNamespaceLabels(ctx, rs, obj.(*corev1.Namespace), old.(*corev1.Namespace))
			}, rs.hooks.beforeUpdate)
			continue
		}
		if _, spec := podTemplateOf(rs.newObject()); spec == nil {
			continue
		}
		rs.hooks.beforeUpdate = chainUpdate(func(ctx context.Context, obj, old runtime.Object, _ bool) (func(), error) {
			return func() {}, s.admitPodSecurityUpdate(ctx, rs, obj, old)
		}, rs.hooks.beforeUpdate)
	}
}

func (s *Server) admitPodSecurityUpdate(ctx context.Context, rs *resourceStore, obj, old runtime.Object) error {
	meta, spec := podTemplateOf(obj)
	oldMeta, oldSpec := podTemplateOf(old)
	if spec == nil || oldSpec == nil {
		return nil
	}
	// Upstream also ignores updates that leave what is checked as it was.
	if equality.Semantic.DeepEqual(spec, oldSpec) && equality.Semantic.DeepEqual(meta.Annotations, oldMeta.Annotations) {
		return nil
	}
	policy, err := s.podSecurityPolicy(ctx, objectMeta(obj).GetNamespace())
	if err != nil {
		return err
	}
	_, isPod := obj.(*corev1.Pod)
	return evaluatePodSecurity(ctx, rs, objectMeta(obj).GetName(), policy, meta, spec, isPod)
}

// admitNamespaceLabels validates a namespace's new policy labels and,
// when its enforce level changes, warns about the existing pods that
// would violate it.
func (s *Server) admitNamespaceLabels(ctx context.Context, rs *resourceStore, ns, old *corev1.Namespace) error {
	if err := validatePodSecurityLabels(rs, ns); err != nil {
		return err
	}
	policy, _ := podsecurity.PolicyFromLabels(ns.Labels)
	oldPolicy, _ := podsecurity.PolicyFromLabels(old.Labels)
	if policy.Enforce == oldPolicy.Enforce || policy.Enforce.Level == podsecurity.LevelPrivileged {
		return nil
	}
	pods, err := listNamespace(ctx, s.stores[podsGVR], ns.Name)
	if err != nil {
		return fmt.Errorf("listing pods of namespace %s: %w", ns.Name, err)
	}
	for _, w := range existingPodWarnings(ns.Name, policy.Enforce, pods) {
		addAdmissionWarning(ctx, w)
	}
	return nil
}

// existingPodWarnings words upstream's warnings about the pods of a
// namespace that violate its new enforce level: a header, then one line
// per distinct set of reasons naming a pod and how many others share it.
func existingPodWarnings(ns string, lv podsecurity.LevelVersion, objs []runtime.Object) []string {
	type group struct {
		first string
		count int
	}
	groups := map[string]*group{}
	var order []string
	names := make([]string, 0, len(objs))
	byName := map[string]*corev1.Pod{}
	for _, o := range objs {
		p, ok := o.(*corev1.Pod)
		if !ok {
			continue
		}
		names = append(names, p.Name)
		byName[p.Name] = p
	}
	slices.Sort(names)
	for _, n := range names {
		p := byName[n]
		v := podsecurity.Evaluate(lv, &p.ObjectMeta, &p.Spec)
		if len(v) == 0 {
			continue
		}
		reasons := podsecurity.Reasons(v)
		if g, ok := groups[reasons]; ok {
			g.count++
			continue
		}
		groups[reasons] = &group{first: n}
		order = append(order, reasons)
	}
	if len(order) == 0 {
		return nil
	}
	out := []string{fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", ns, lv.String())}
	for _, reasons := range order {
		g := groups[reasons]
		switch g.count {
		case 0:
			out = append(out, fmt.Sprintf("%s: %s", g.first, reasons))
		case 1:
			out = append(out, fmt.Sprintf("%s (and 1 other pod): %s", g.first, reasons))
		default:
			out = append(out, fmt.Sprintf("%s (and %d other pods): %s", g.first, g.count, reasons))
		}
	}
	return out
}
