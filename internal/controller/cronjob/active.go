package cronjob

import (
	"context"
	"errors"
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// finishedType returns Complete or Failed for a finished Job, else "".
func finishedType(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

// syncActive brings status.active in line with the Jobs: running Jobs are
// listed, finished ones dropped (updating lastSuccessfulTime), and Jobs
// gone from the API forgotten.
func (c *Controller) syncActive(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	byUID := map[types.UID]*batchv1.Job{}
	for _, j := range jobs {
		byUID[j.UID] = j
		listed := slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == j.UID })
		ft := finishedType(j)
		switch {
		case ft == "" && !listed && j.DeletionTimestamp == nil:
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
			if ref, err := jobRef(j); err == nil {
				cj.Status.Active = append(cj.Status.Active, ref)
			}
		case ft != "" && listed:
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, ft)
			cj.Status.Active = slices.DeleteFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.UID == j.UID })
		}
		if ft == batchv1.JobComplete && j.Status.CompletionTime != nil &&
			(cj.Status.LastSuccessfulTime == nil || j.Status.CompletionTime.After(cj.Status.LastSuccessfulTime.Time)) {
			cj.Status.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
		}
	}
	var keep []corev1.ObjectReference
	for _, r := range cj.Status.Active {
		if _, ok := byUID[r.UID]; ok {
			keep = append(keep, r)
			continue
		}
		// Not in the cache: ask the API before forgetting it.
		j, err := c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case err == nil && j.UID == r.UID:
			keep = append(keep, r)
		case err == nil || apierrors.IsNotFound(err):
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", r.Name)
		default:
			return fmt.Errorf("checking active job %s/%s: %w", cj.Namespace, r.Name, err)
		}
	}
	cj.Status.Active = keep
	return nil
}

// replaceActive deletes the running Jobs (concurrencyPolicy Replace).
func (c *Controller) replaceActive(ctx context.Context, cj *batchv1.CronJob) error {
	for _, r := range cj.Status.Active {
		if err := c.deleteJob(ctx, cj, r.Name, r.UID); err != nil {
			return err
		}
	}
	cj.Status.Active = nil
	return nil
}

func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, name string, uid types.UID) error {
	err := c.client.BatchV1().Jobs(cj.Namespace).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
		return fmt.Errorf("deleting job %s/%s: %w", cj.Namespace, name, err)
	}
	c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", name)
	return nil
}

// cleanupHistory deletes the oldest finished Jobs beyond the successful
// and failed history limits.
func (c *Controller) cleanupHistory(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	var errs []error
	for _, kind := range []struct {
		ct    batchv1.JobConditionType
		limit *int32
	}{{batchv1.JobComplete, cj.Spec.SuccessfulJobsHistoryLimit}, {batchv1.JobFailed, cj.Spec.FailedJobsHistoryLimit}} {
		if kind.limit == nil {
			continue
		}
		var finished []*batchv1.Job
		for _, j := range jobs {
			if finishedType(j) == kind.ct && j.DeletionTimestamp == nil {
				finished = append(finished, j)
			}
		}
		for _, j := range oldestBeyond(finished, int(*kind.limit)) {
			if err := c.deleteJob(ctx, cj, j.Name, j.UID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// oldestBeyond returns the Jobs to delete to keep the newest limit ones,
// ordered by start time (Jobs never started first).
func oldestBeyond(jobs []*batchv1.Job, limit int) []*batchv1.Job {
	if len(jobs) <= limit {
		return nil
	}
	jobs = slices.Clone(jobs)
	slices.SortStableFunc(jobs, func(a, b *batchv1.Job) int {
		switch {
		case a.Status.StartTime == nil && b.Status.StartTime == nil:
			return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
		case a.Status.StartTime == nil:
			return -1
		case b.Status.StartTime == nil:
			return 1
		}
		return a.Status.StartTime.Compare(b.Status.StartTime.Time)
	})
	return jobs[:len(jobs)-limit]
}
