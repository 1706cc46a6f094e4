package registry

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// hpaV1Strategy is the strategy of autoscaling/v1 HPAs, a view of the
// stored autoscaling/v2 objects. Validation runs on the converted object,
// as upstream validates the internal form of either version.
func hpaV1Strategy() Strategy {
	return Typed[*autoscalingv1.HorizontalPodAutoscaler]{
		DefaultFunc: func(h *autoscalingv1.HorizontalPodAutoscaler) {
			if h.Spec.MinReplicas == nil {
				h.Spec.MinReplicas = ptr.To[int32](1)
			}
		},
		ValidateFunc: validateHPAV1,
		ValidateUpdateFunc: func(h, _ *autoscalingv1.HorizontalPodAutoscaler) field.ErrorList {
			return validateHPAV1(h)
		},
	}
}

func validateHPAV1(h *autoscalingv1.HorizontalPodAutoscaler) field.ErrorList {
	errs := ValidateHPAV1Annotations(h)
	return append(errs, validateHPA(HPAV1ToV2(h))...)
}

// ValidateHPAV1Annotations reports round-trip annotations of a v1 HPA that
// do not hold the JSON they should (the conversion drops them).
func ValidateHPAV1Annotations(h *autoscalingv1.HorizontalPodAutoscaler) field.ErrorList {
	targets := map[string]any{
		hpaMetricsAnnotation:        &[]autoscalingv1.MetricSpec{},
		hpaCurrentMetricsAnnotation: &[]autoscalingv1.MetricStatus{},
		hpaConditionsAnnotation:     &[]autoscalingv1.HorizontalPodAutoscalerCondition{},
		hpaBehaviorAnnotation:       &autoscalingv2.HorizontalPodAutoscalerBehavior{},
	}
	var errs field.ErrorList
	for _, key := range hpaRoundTripAnnotations() {
		raw, ok := h.Annotations[key]
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(raw), targets[key]); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "annotations").Key(key), raw, "must be valid JSON: "+err.Error()))
		}
	}
	return errs
}
