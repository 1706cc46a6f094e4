package tables

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

func addBatch(r registry) {
	selectorDoc := batchv1.JobSpec{}.SwaggerDoc()["selector"]
	addCells(r, withTemplate([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "Status of the job."),
		column("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
		column("Duration", "string", "Time required to complete the job."),
		ageColumn(),
	}, selectorDoc), jobCells)

	spec, status := batchv1beta1.CronJobSpec{}.SwaggerDoc(), batchv1beta1.CronJobStatus{}.SwaggerDoc()
	addCells(r, withTemplate([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Schedule", "string", spec["schedule"]),
		column("Timezone", "string", spec["timeZone"]),
		column("Suspend", "boolean", spec["suspend"]),
		column("Active", "integer", status["active"]),
		column("Last Schedule", "string", status["lastScheduleTime"]),
		ageColumn(),
	}, selectorDoc), cronJobCells)
}

func jobCells(j *batchv1.Job, now time.Time) []any {
	names, images := containerCells(j.Spec.Template.Spec.Containers)
	return []any{j.Name, jobStatus(j), jobCompletions(j), jobDuration(j, now), age(now, j.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(j.Spec.Selector)}
}

// jobStatus picks the first of Complete, Failed, Terminating, Suspended,
// FailureTarget that applies, else Running.
func jobStatus(j *batchv1.Job) string {
	switch {
	case jobCondition(j, batchv1.JobComplete):
		return "Complete"
	case jobCondition(j, batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(j, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(j, batchv1.JobFailureTarget):
		return "FailureTarget"
	default:
		return "Running"
	}
}

func jobCondition(j *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == typ {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// jobCompletions is succeeded/completions; a job without completions
// shows "n/1", or "n/1 of p" when it runs several pods in parallel.
func jobCompletions(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	if j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

// jobDuration runs from the start to completion, or to now while running.
func jobDuration(j *batchv1.Job, now time.Time) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	default:
		return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
}

func cronJobCells(cj *batchv1.CronJob, now time.Time) []any {
	last := "<none>"
	if cj.Status.LastScheduleTime != nil {
		last = age(now, *cj.Status.LastScheduleTime)
	}
	tz := "<none>"
	if cj.Spec.TimeZone != nil {
		tz = *cj.Spec.TimeZone
	}
	tmpl := cj.Spec.JobTemplate.Spec
	names, images := containerCells(tmpl.Template.Spec.Containers)
	return []any{cj.Name, cj.Spec.Schedule, tz, boolPtr(cj.Spec.Suspend), int64(len(cj.Status.Active)), last,
		age(now, cj.CreationTimestamp), names, images, metav1.FormatLabelSelector(tmpl.Selector)}
}
