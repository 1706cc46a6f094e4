package registry

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// maxCronJobNameLength leaves room for the 11-character suffix the CronJob
// controller appends to job names, which are at most 63 characters.
const maxCronJobNameLength = 63 - 11

// cronJobStrategy is the strategy of batch/v1 CronJobs.
func cronJobStrategy() Strategy {
	return Typed[*batchv1.CronJob]{
		DefaultFunc: defaultCronJob,
		ValidateFunc: func(cj *batchv1.CronJob) field.ErrorList {
			errs := validateCronJobSpec(&cj.Spec, nil, field.NewPath("spec"))
			if len(cj.Name) > maxCronJobNameLength {
				errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name,
					fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
			}
			return errs
		},
		// The name length is not checked on update so that older, longer
		// names can still be changed and deleted.
		ValidateUpdateFunc: func(cj, old *batchv1.CronJob) field.ErrorList {
			return validateCronJobSpec(&cj.Spec, &old.Spec, field.NewPath("spec"))
		},
	}
}

// defaultCronJob applies the batch/v1 defaults: concurrency Allow, not
// suspended, 3 successful and 1 failed jobs kept, and the pod template
// defaults of the job template.
func defaultCronJob(cj *batchv1.CronJob) {
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr.To(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr.To[int32](1)
	}
	defaultPodTemplateSpec(&s.JobTemplate.Spec.Template)
}

// validateCronJobSpec checks a CronJob's spec; old is nil on create.
func validateCronJobSpec(s, old *batchv1.CronJobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Schedule == "" {
		errs = append(errs, field.Required(p.Child("schedule"), ""))
	} else {
		// A TZ in the schedule is tolerated on update of objects that
		// already had one.
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		errs = append(errs, validateCronSchedule(s.Schedule, allowTZ, s.TimeZone, p.Child("schedule"))...)
	}
	if s.StartingDeadlineSeconds != nil {
		errs = append(errs, validateNonNegative(*s.StartingDeadlineSeconds, p.Child("startingDeadlineSeconds"))...)
	}
	if old == nil || !ptr.Equal(old.TimeZone, s.TimeZone) {
		errs = append(errs, validateTimeZone(s.TimeZone, p.Child("timeZone"))...)
	}
	switch s.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(p.Child("concurrencyPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(p.Child("concurrencyPolicy"), s.ConcurrencyPolicy, []string{
			string(batchv1.AllowConcurrent), string(batchv1.ForbidConcurrent), string(batchv1.ReplaceConcurrent)}))
	}
	errs = append(errs, validateJobTemplate(&s.JobTemplate, p.Child("jobTemplate"))...)
	errs = append(errs, validateOptionalNonNegative(s.SuccessfulJobsHistoryLimit, p.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, validateOptionalNonNegative(s.FailedJobsHistoryLimit, p.Child("failedJobsHistoryLimit"))...)
	return errs
}

// validateCronSchedule parses the schedule and rejects time zones set in
// it (the timeZone field is the supported way).
func validateCronSchedule(schedule string, allowTZ bool, timeZone *string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := parseCronSchedule(schedule); err != nil {
		errs = append(errs, field.Invalid(fldPath, schedule, err.Error()))
	}
	switch {
	case timeZone != nil && strings.Contains(schedule, "TZ"):
		errs = append(errs, field.Invalid(fldPath, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
	case !allowTZ && strings.Contains(schedule, "TZ"):
		errs = append(errs, field.Invalid(fldPath, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return errs
}

// validateTimeZone accepts nil or an IANA time zone name the server knows.
func validateTimeZone(tz *string, fldPath *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(fldPath, *tz, "timeZone must be nil or non-empty string")}
	}
	validPart := regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validPart.MatchString(part) {
			return field.ErrorList{field.Invalid(fldPath, *tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return field.ErrorList{field.Invalid(fldPath, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(fldPath, *tz, err.Error())}
	}
	return nil
}

// validateJobTemplate checks a CronJob's job template: the job spec rules,
// and no selector, since the selector of each job is generated.
func validateJobTemplate(t *batchv1.JobTemplateSpec, p *field.Path) field.ErrorList {
	sp := p.Child("spec")
	errs := validateTemplateMeta(&t.ObjectMeta, p.Child("metadata"))
	errs = append(errs, validateJobSpec(&t.Spec, sp)...)
	if t.Spec.Selector != nil {
		errs = append(errs, field.Invalid(sp.Child("selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
		errs = append(errs, field.NotSupported(sp.Child("manualSelector"), *t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return errs
}
