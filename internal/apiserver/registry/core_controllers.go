package registry

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func replicationControllerStrategy() Strategy {
	return Typed[*corev1.ReplicationController]{
		DefaultFunc: defaultReplicationController,
		PrepareForCreateFunc: func(rc *corev1.ReplicationController) {
			rc.Status = corev1.ReplicationControllerStatus{}
		},
		ValidateFunc: validateReplicationController,
		ValidateUpdateFunc: func(rc, _ *corev1.ReplicationController) field.ErrorList {
			return validateReplicationController(rc)
		},
	}
}

// defaultReplicationController: selector and object labels default to the
// template's labels, replicas to 1.
func defaultReplicationController(rc *corev1.ReplicationController) {
	if t := rc.Spec.Template; t != nil {
		if len(rc.Spec.Selector) == 0 && len(t.Labels) > 0 {
			rc.Spec.Selector = copyLabels(t.Labels)
		}
		if len(rc.Labels) == 0 && len(t.Labels) > 0 {
			rc.Labels = copyLabels(t.Labels)
		}
		defaultPodTemplateSpec(t)
	}
	if rc.Spec.Replicas == nil {
		rc.Spec.Replicas = ptr.To(int32(1))
	}
}

func copyLabels(in map[string]string) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func validateReplicationController(rc *corev1.ReplicationController) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if rc.Spec.Replicas != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*rc.Spec.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(rc.Spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	}
	errs = append(errs, validateLabelsField(rc.Spec.Selector, p.Child("selector"))...)
	t := rc.Spec.Template
	if t == nil {
		return append(errs, field.Required(p.Child("template"), ""))
	}
	tp := p.Child("template")
	if len(rc.Spec.Selector) > 0 && !labels.SelectorFromSet(rc.Spec.Selector).Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, validatePodTemplateSpec(t, tp)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}

func podTemplateStrategy() Strategy {
	return Typed[*corev1.PodTemplate]{
		DefaultFunc: func(pt *corev1.PodTemplate) { defaultPodTemplateSpec(&pt.Template) },
		ValidateFunc: func(pt *corev1.PodTemplate) field.ErrorList {
			return validatePodTemplateSpec(&pt.Template, field.NewPath("template"))
		},
		ValidateUpdateFunc: func(pt, _ *corev1.PodTemplate) field.ErrorList {
			return validatePodTemplateSpec(&pt.Template, field.NewPath("template"))
		},
	}
}
