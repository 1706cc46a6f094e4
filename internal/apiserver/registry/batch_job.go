package registry

import (
	"fmt"
	"math"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Limits upstream puts on Indexed Jobs.
const (
	maxParallelismIndexedJob = 100000
	maxFailedIndexesLimit    = 100000
)

// Unprefixed labels the server still puts on the pods of jobs with a
// generated selector, next to batch.kubernetes.io/job-name and
// batch.kubernetes.io/controller-uid.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// jobStrategy is the strategy of batch/v1 Jobs.
func jobStrategy() Strategy {
	return Typed[*batchv1.Job]{
		DefaultFunc:          defaultJob,
		PrepareForCreateFunc: prepareJobForCreate,
		ValidateFunc: func(j *batchv1.Job) field.ErrorList {
			return validateJob(j, true)
		},
		ValidateUpdateFunc: validateJobUpdate,
	}
}

// defaultJob applies the batch/v1 defaults.
func defaultJob(j *batchv1.Job) {
	defaultJobSpec(&j.Spec)
	// A Job without labels takes those of its pod template.
	if j.Spec.Template.Labels != nil && len(j.Labels) == 0 {
		j.Labels = j.Spec.Template.Labels
	}
}

// defaultJobSpec defaults a Job's spec: completions and parallelism are 1
// when both are unset and parallelism is 1 when only it is unset; 6
// retries (unlimited per-job retries when a per-index limit is set);
// NonIndexed completion; not suspended; replacement of failed pods only when
// a pod failure policy is set, else of terminating or failed pods.
func defaultJobSpec(s *batchv1.JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr.To[int32](1)
		s.Parallelism = ptr.To[int32](1)
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr.To[int32](1)
	}
	if s.BackoffLimit == nil {
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr.To[int32](math.MaxInt32)
		} else {
			s.BackoffLimit = ptr.To[int32](6)
		}
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr.To(false)
	}
	if s.PodFailurePolicy != nil {
		for i := range s.PodFailurePolicy.Rules {
			for j := range s.PodFailurePolicy.Rules[i].OnPodConditions {
				c := &s.PodFailurePolicy.Rules[i].OnPodConditions[j]
				if c.Status == "" {
					c.Status = corev1.ConditionTrue
				}
			}
		}
	}
	if s.PodReplacementPolicy == nil {
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = ptr.To(batchv1.Failed)
		} else {
			s.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
	}
	defaultPodTemplateSpec(&s.Template)
}

// prepareJobForCreate generates the selector and pod labels unless the user
// asked to manage the selector (spec.manualSelector: true). The handler has
// already set metadata.uid.
func prepareJobForCreate(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	t := &j.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	// Labels the user set are kept; a conflict is caught by validation.
	for key, value := range map[string]string{
		legacyJobNameLabel:         j.Name,
		batchv1.JobNameLabel:       j.Name,
		legacyControllerUIDLabel:   string(j.UID),
		batchv1.ControllerUidLabel: string(j.UID),
	} {
		if _, ok := t.Labels[key]; !ok {
			t.Labels[key] = value
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(j.UID)
	}
}

// validateJob checks a Job. prefixedLabels requires the
// batch.kubernetes.io/ labels of a generated selector (always on create; on
// update only when the stored job had them).
func validateJob(j *batchv1.Job, prefixedLabels bool) field.ErrorList {
	errs := validateGeneratedSelector(j, prefixedLabels)
	p := field.NewPath("spec")
	if j.Spec.Selector == nil {
		errs = append(errs, field.Required(p.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(j.Spec.Selector, workloadSelectorOpts(), p.Child("selector"))...)
		if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(labels.Set(j.Spec.Template.Labels)) {
			errs = append(errs, field.Invalid(p.Child("template", "metadata", "labels"), j.Spec.Template.Labels, "`selector` does not match template `labels`"))
		}
	}
	return append(errs, validateJobSpec(&j.Spec, p)...)
}

// validateGeneratedSelector checks, for jobs whose selector the server
// generates, that the template carries the job's name and uid labels and
// that the selector selects by uid.
func validateGeneratedSelector(j *batchv1.Job, prefixedLabels bool) field.ErrorList {
	if (j.Spec.ManualSelector != nil && *j.Spec.ManualSelector) || j.Spec.Selector == nil {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	metaPath := field.NewPath("spec", "template", "metadata")
	want := map[string]string{legacyControllerUIDLabel: string(j.UID), legacyJobNameLabel: j.Name}
	if prefixedLabels {
		want[batchv1.ControllerUidLabel] = string(j.UID)
		want[batchv1.JobNameLabel] = j.Name
	}
	for _, key := range []string{legacyControllerUIDLabel, legacyJobNameLabel, batchv1.ControllerUidLabel, batchv1.JobNameLabel} {
		value, ok := want[key]
		if !ok {
			continue
		}
		errs = append(errs, validateHasLabel(j.Spec.Template.Labels, key, value, metaPath)...)
	}
	expected := labels.Set{legacyControllerUIDLabel: string(j.UID)}
	if prefixedLabels {
		expected[batchv1.ControllerUidLabel] = string(j.UID)
	}
	if sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil && !sel.Matches(expected) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

// validateHasLabel requires labels[key] == value.
func validateHasLabel(lbls map[string]string, key, value string, metaPath *field.Path) field.ErrorList {
	actual, ok := lbls[key]
	if !ok {
		return field.ErrorList{field.Required(metaPath.Child("labels").Key(key), "must be '"+value+"'")}
	}
	if actual != value {
		return field.ErrorList{field.Invalid(metaPath.Child("labels").Key(key), actual, "must be '"+value+"'")}
	}
	return nil
}

// validateJobSpec checks what Jobs and CronJob job templates share: counts,
// completion mode, replacement policy and the pod template, whose pods
// must not restart forever.
func validateJobSpec(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateOptionalNonNegative(s.Parallelism, p.Child("parallelism"))...)
	errs = append(errs, validateOptionalNonNegative(s.Completions, p.Child("completions"))...)
	if s.ActiveDeadlineSeconds != nil {
		errs = append(errs, validateNonNegative(*s.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	errs = append(errs, validateOptionalNonNegative(s.BackoffLimit, p.Child("backoffLimit"))...)
	errs = append(errs, validateOptionalNonNegative(s.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))...)
	errs = append(errs, validateJobCompletionMode(s, p)...)
	errs = append(errs, validatePodFailurePolicy(s, p.Child("podFailurePolicy"))...)
	if s.PodReplacementPolicy != nil {
		prp := p.Child("podReplacementPolicy")
		switch {
		case s.PodFailurePolicy != nil && *s.PodReplacementPolicy != batchv1.Failed:
			errs = append(errs, field.NotSupported(prp, *s.PodReplacementPolicy, []string{string(batchv1.Failed)}))
		case *s.PodReplacementPolicy != batchv1.Failed && *s.PodReplacementPolicy != batchv1.TerminatingOrFailed:
			errs = append(errs, field.NotSupported(prp, *s.PodReplacementPolicy, []string{string(batchv1.Failed), string(batchv1.TerminatingOrFailed)}))
		}
	}
	if s.ManagedBy != nil && len(*s.ManagedBy) > 63 {
		errs = append(errs, field.TooLongMaxLength(p.Child("managedBy"), *s.ManagedBy, 63))
	}
	tp := p.Child("template")
	errs = append(errs, validatePodTemplateSpec(&s.Template, tp)...)
	rp := s.Template.Spec.RestartPolicy
	switch {
	case rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever:
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), rp,
			[]string{string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	case rp == corev1.RestartPolicyOnFailure && s.PodFailurePolicy != nil:
		errs = append(errs, field.Invalid(tp.Child("spec", "restartPolicy"), rp, "only `Never` is supported when spec.podFailurePolicy is specified"))
	}
	return errs
}

// validateJobCompletionMode checks completionMode and the per-index fields
// that only Indexed jobs may use.
func validateJobCompletionMode(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if s.CompletionMode != nil && !indexed && *s.CompletionMode != batchv1.NonIndexedCompletion {
		errs = append(errs, field.NotSupported(p.Child("completionMode"), *s.CompletionMode,
			[]string{string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion)}))
	}
	if indexed {
		if s.Completions == nil {
			errs = append(errs, field.Required(p.Child("completions"), fmt.Sprintf("when completion mode is %s", batchv1.IndexedCompletion)))
		}
		if s.Parallelism != nil && *s.Parallelism > maxParallelismIndexedJob {
			errs = append(errs, field.Invalid(p.Child("parallelism"), *s.Parallelism,
				fmt.Sprintf("must be less than or equal to %d when completion mode is %s", maxParallelismIndexedJob, batchv1.IndexedCompletion)))
		}
	}
	if s.BackoffLimitPerIndex != nil {
		errs = append(errs, validateNonNegative(int64(*s.BackoffLimitPerIndex), p.Child("backoffLimitPerIndex"))...)
		if !indexed {
			errs = append(errs, field.Invalid(p.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
	}
	if mfi := s.MaxFailedIndexes; mfi != nil {
		mp := p.Child("maxFailedIndexes")
		errs = append(errs, validateNonNegative(int64(*mfi), mp)...)
		if s.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
		}
		if !indexed {
			errs = append(errs, field.Invalid(mp, *mfi, "requires indexed completion mode"))
		}
		if *mfi > maxFailedIndexesLimit {
			errs = append(errs, field.Invalid(mp, *mfi, fmt.Sprintf("must be less than or equal to %d", maxFailedIndexesLimit)))
		}
		if s.Completions != nil && *mfi > *s.Completions {
			errs = append(errs, field.Invalid(mp, *mfi, "must be less than or equal to completions"))
		}
	}
	if s.SuccessPolicy != nil && !indexed {
		errs = append(errs, field.Invalid(p.Child("successPolicy"), s.SuccessPolicy, "requires indexed completion mode"))
	} else {
		errs = append(errs, validateSuccessPolicy(s, p.Child("successPolicy"))...)
	}
	return errs
}

// validateJobUpdate validates the new Job and the fields an update may not
// change: selector, completion mode, failure and success policies, the
// per-index backoff limit, managedBy, completions (except an Indexed job
// scaled with parallelism in tandem) and the pod template (whose
// scheduling directives a suspended job that never started may change).
func validateJobUpdate(j, old *batchv1.Job) field.ErrorList {
	oldPrefixed := old.Spec.Template.Labels[batchv1.ControllerUidLabel] != ""
	errs := validateJob(j, oldPrefixed)
	p := field.NewPath("spec")
	s, os := &j.Spec, &old.Spec
	errs = append(errs, validateImmutable(s.Selector, os.Selector, p.Child("selector"))...)
	errs = append(errs, validateImmutable(s.CompletionMode, os.CompletionMode, p.Child("completionMode"))...)
	errs = append(errs, validateImmutable(s.PodFailurePolicy, os.PodFailurePolicy, p.Child("podFailurePolicy"))...)
	errs = append(errs, validateImmutable(s.BackoffLimitPerIndex, os.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	errs = append(errs, validateImmutable(s.ManagedBy, os.ManagedBy, p.Child("managedBy"))...)
	errs = append(errs, validateImmutable(s.SuccessPolicy, os.SuccessPolicy, p.Child("successPolicy"))...)
	errs = append(errs, validateJobCompletionsUpdate(s, os, p)...)
	mutableScheduling := os.Suspend != nil && *os.Suspend && old.Status.StartTime == nil
	return append(errs, validateJobTemplateUpdate(&s.Template, &os.Template, mutableScheduling, p.Child("template"))...)
}

// validateJobCompletionsUpdate keeps completions immutable, except for
// Indexed jobs that change completions and parallelism to the same value.
func validateJobCompletionsUpdate(s, os *batchv1.JobSpec, p *field.Path) field.ErrorList {
	indexed := s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
	if !indexed {
		return validateImmutable(s.Completions, os.Completions, p.Child("completions"))
	}
	if equality.Semantic.DeepEqual(s.Completions, os.Completions) || s.Completions == nil {
		return nil
	}
	if s.Parallelism == nil || *s.Completions != *s.Parallelism {
		return field.ErrorList{field.Invalid(p.Child("completions"), *s.Completions, "can only be modified in tandem with spec.parallelism")}
	}
	return nil
}

// validateJobTemplateUpdate keeps the pod template immutable. When
// mutableScheduling is set, node affinity, node selector, tolerations,
// scheduling gates, labels and annotations may change.
func validateJobTemplateUpdate(t, old *corev1.PodTemplateSpec, mutableScheduling bool, p *field.Path) field.ErrorList {
	if mutableScheduling {
		old = old.DeepCopy()
		switch {
		case t.Spec.Affinity == nil && old.Spec.Affinity != nil:
			old.Spec.Affinity.NodeAffinity = nil
			if equality.Semantic.DeepEqual(*old.Spec.Affinity, corev1.Affinity{}) {
				old.Spec.Affinity = nil
			}
		case t.Spec.Affinity != nil && old.Spec.Affinity == nil:
			old.Spec.Affinity = &corev1.Affinity{NodeAffinity: t.Spec.Affinity.NodeAffinity}
		case t.Spec.Affinity != nil && old.Spec.Affinity != nil:
			old.Spec.Affinity.NodeAffinity = t.Spec.Affinity.NodeAffinity
		}
		old.Spec.NodeSelector = t.Spec.NodeSelector
		old.Spec.Tolerations = t.Spec.Tolerations
		old.Spec.SchedulingGates = t.Spec.SchedulingGates
		old.Labels = t.Labels
		old.Annotations = t.Annotations
	}
	return validateImmutable(t, old, p)
}
