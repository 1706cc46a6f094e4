package registry

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// statefulSetStrategy is the strategy of apps/v1 StatefulSets.
func statefulSetStrategy() Strategy {
	return Typed[*appsv1.StatefulSet]{
		DefaultFunc:        defaultStatefulSet,
		ValidateFunc:       validateStatefulSet,
		ValidateUpdateFunc: validateStatefulSetUpdate,
	}
}

// defaultStatefulSet applies the apps/v1 defaults: one replica,
// OrderedReady pod management, rolling updates from partition 0, 10
// revisions kept and PVCs retained on deletion and scale-down.
func defaultStatefulSet(sts *appsv1.StatefulSet) {
	s := &sts.Spec
	if s.Replicas == nil {
		s.Replicas = ptr.To[int32](1)
	}
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
		if s.UpdateStrategy.RollingUpdate.Partition == nil {
			s.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0)
		}
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	rp := s.PersistentVolumeClaimRetentionPolicy
	if rp.WhenDeleted == "" {
		rp.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if rp.WhenScaled == "" {
		rp.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To[int32](10)
	}
	defaultPodTemplateSpec(&s.Template)
	for i := range s.VolumeClaimTemplates {
		defaultPVCSpec(&s.VolumeClaimTemplates[i].Spec)
	}
}

// validateStatefulSet checks a StatefulSet's spec.
func validateStatefulSet(sts *appsv1.StatefulSet) field.ErrorList {
	s := &sts.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	switch s.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(p.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(p.Child("podManagementPolicy"), s.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&s.UpdateStrategy, p.Child("updateStrategy"))...)
	errs = append(errs, validatePVCRetentionPolicy(s.PersistentVolumeClaimRetentionPolicy, p.Child("persistentVolumeClaimRetentionPolicy"))...)
	if s.ServiceName != "" {
		for _, msg := range validation.IsDNS1123Label(s.ServiceName) {
			errs = append(errs, field.Invalid(p.Child("serviceName"), s.ServiceName, msg))
		}
	}
	if s.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*s.Replicas), p.Child("replicas"))...)
	}
	if s.Ordinals != nil {
		errs = append(errs, validateNonNegative(int64(s.Ordinals.Start), p.Child("ordinals", "start"))...)
	}
	errs = append(errs, validateNonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateOptionalNonNegative(s.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	sel, selErrs := validateRequiredSelector(s.Selector, "statefulset", p.Child("selector"))
	errs = append(errs, selErrs...)
	errs = append(errs, validateSelectorMatchesTemplate(sel, s.Template.Labels, p.Child("template"))...)
	errs = append(errs, validateAlwaysRestartTemplate(statefulSetPodTemplate(s), "StatefulSet", p.Child("template"))...)
	for i := range s.VolumeClaimTemplates {
		ct := &s.VolumeClaimTemplates[i]
		cp := p.Child("volumeClaimTemplates").Index(i)
		errs = append(errs, validateTemplateMeta(&ct.ObjectMeta, cp.Child("metadata"))...)
		errs = append(errs, validatePVCSpec(&ct.Spec, cp.Child("spec"))...)
	}
	return errs
}

// statefulSetPodTemplate returns the pod template as the controller will
// realise it: every volume claim template becomes a volume of the same
// name, so mounts of claim volumes validate.
func statefulSetPodTemplate(s *appsv1.StatefulSetSpec) *corev1.PodTemplateSpec {
	if len(s.VolumeClaimTemplates) == 0 {
		return &s.Template
	}
	t := s.Template.DeepCopy()
	have := map[string]bool{}
	for _, v := range t.Spec.Volumes {
		have[v.Name] = true
	}
	for _, ct := range s.VolumeClaimTemplates {
		if have[ct.Name] || ct.Name == "" {
			continue
		}
		t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{Name: ct.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ct.Name},
		}})
	}
	return t
}

func validateStatefulSetUpdateStrategy(st *appsv1.StatefulSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch st.Type {
	case "":
		errs = append(errs, field.Required(fldPath, ""))
	case appsv1.OnDeleteStatefulSetStrategyType:
		if st.RollingUpdate != nil {
			errs = append(errs, field.Invalid(fldPath.Child("rollingUpdate"), st.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType)))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := st.RollingUpdate; ru != nil {
			rp := fldPath.Child("rollingUpdate")
			if ru.Partition != nil {
				errs = append(errs, validateNonNegative(int64(*ru.Partition), rp.Child("partition"))...)
			}
			if ru.MaxUnavailable != nil {
				mp := rp.Child("maxUnavailable")
				errs = append(errs, validateIntOrPercent(*ru.MaxUnavailable, mp)...)
				if intOrPercentValue(*ru.MaxUnavailable) == 0 {
					errs = append(errs, field.Invalid(mp, *ru.MaxUnavailable, "cannot be 0"))
				}
				errs = append(errs, validateAtMost100Percent(*ru.MaxUnavailable, mp)...)
			}
		}
	default:
		errs = append(errs, field.Invalid(fldPath, st,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)))
	}
	return errs
}

func validatePVCRetentionPolicy(rp *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy, fldPath *field.Path) field.ErrorList {
	if rp == nil {
		return nil
	}
	valid := []string{string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType), string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)}
	var errs field.ErrorList
	check := func(v appsv1.PersistentVolumeClaimRetentionPolicyType, p *field.Path) {
		switch v {
		case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		default:
			errs = append(errs, field.NotSupported(p, v, valid))
		}
	}
	check(rp.WhenDeleted, fldPath.Child("whenDeleted"))
	check(rp.WhenScaled, fldPath.Child("whenScaled"))
	return errs
}

// validateStatefulSetUpdate validates the new object and forbids changes
// outside the fields upstream lets an update touch.
func validateStatefulSetUpdate(sts, old *appsv1.StatefulSet) field.ErrorList {
	errs := validateStatefulSet(sts)
	rest := sts.Spec.DeepCopy()
	rest.Replicas = old.Spec.Replicas
	rest.Ordinals = old.Spec.Ordinals
	rest.Template = old.Spec.Template
	rest.UpdateStrategy = old.Spec.UpdateStrategy
	rest.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	rest.PersistentVolumeClaimRetentionPolicy = old.Spec.PersistentVolumeClaimRetentionPolicy
	rest.MinReadySeconds = old.Spec.MinReadySeconds
	if !equality.Semantic.DeepEqual(*rest, old.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than "+
			"'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "+
			"'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return errs
}
