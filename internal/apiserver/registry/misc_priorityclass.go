package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Priorities of user-defined and system priority classes.
const (
	highestUserPriority       = 1000000000
	systemCriticalPriority    = 2 * highestUserPriority
	systemPriorityClassPrefix = "system-"
)

// knownSystemPriorityClasses are the classes whose names carry the reserved
// prefix, with their required values.
func knownSystemPriorityClasses() map[string]int32 {
	return map[string]int32{
		"system-node-critical":    systemCriticalPriority + 1000,
		"system-cluster-critical": systemCriticalPriority,
	}
}

// priorityClassStrategy is the strategy of scheduling.k8s.io/v1
// PriorityClasses.
func priorityClassStrategy() Strategy {
	return Typed[*schedulingv1.PriorityClass]{
		DefaultFunc: func(pc *schedulingv1.PriorityClass) {
			if pc.PreemptionPolicy == nil {
				pc.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
			}
		},
		ValidateFunc: validatePriorityClass,
		ValidateUpdateFunc: func(pc, old *schedulingv1.PriorityClass) field.ErrorList {
			errs := validatePriorityClass(pc)
			if pc.Value != old.Value {
				errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
			}
			return append(errs, validateImmutable(pc.PreemptionPolicy, old.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
		},
	}
}

// validatePriorityClass reserves the "system-" prefix for the built-in
// classes and caps user classes at one billion.
func validatePriorityClass(pc *schedulingv1.PriorityClass) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, systemPriorityClassPrefix) {
		if err := checkSystemPriorityClass(pc); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPriorityClassPrefix+"' prefix are reserved for system use only. error: "+err.Error()))
		}
	} else if pc.Value > highestUserPriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %d", highestUserPriority)))
	}
	if pc.PreemptionPolicy != nil {
		switch *pc.PreemptionPolicy {
		case corev1.PreemptLowerPriority, corev1.PreemptNever:
		default:
			errs = append(errs, field.NotSupported(field.NewPath("preemptionPolicy"), *pc.PreemptionPolicy,
				[]string{string(corev1.PreemptLowerPriority), string(corev1.PreemptNever)}))
		}
	}
	return errs
}

// checkSystemPriorityClass accepts only the known system classes with
// their values, never as the global default.
func checkSystemPriorityClass(pc *schedulingv1.PriorityClass) error {
	value, ok := knownSystemPriorityClasses()[pc.Name]
	switch {
	case !ok:
		return fmt.Errorf("%v is not a known system priority class", pc.Name)
	case value != pc.Value:
		return fmt.Errorf("value of %v PriorityClass must be %v", pc.Name, value)
	case pc.GlobalDefault:
		return fmt.Errorf("globalDefault of %v PriorityClass must be false", pc.Name)
	}
	return nil
}
