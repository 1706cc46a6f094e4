package cronjob

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/reference"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// nextSlack is added to the wait for the next scheduled time, so that the
// sync lands just after it.
const nextSlack = 100 * time.Millisecond

// sync reconciles one CronJob: it tracks its active Jobs, trims the
// history and starts the Job of the most recent due time.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.cronJobs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading cronjob %s from the cache: %w", key, err)
	}
	cj := cached.DeepCopy()
	jobs, err := c.ownedJobs(cj)
	if err != nil {
		return err
	}
	if err := c.syncActive(ctx, cj, jobs); err != nil {
		return err
	}
	requeue, runErr := c.run(ctx, cj, jobs)
	if !equality.Semantic.DeepEqual(cached.Status, cj.Status) {
		if _, err := c.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating the status of cronjob %s: %w", key, err)
		}
	}
	if runErr != nil {
		return runErr
	}
	if err := c.cleanupHistory(ctx, cj, jobs); err != nil {
		return err
	}
	if requeue > 0 {
		return kit.RequeueAfter(requeue)
	}
	return nil
}

// ownedJobs lists the Jobs the CronJob controls.
func (c *Controller) ownedJobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := c.jobs.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing jobs of cronjob %s/%s: %w", cj.Namespace, cj.Name, err)
	}
	return slices.DeleteFunc(all, func(j *batchv1.Job) bool {
		ref := metav1.GetControllerOfNoCopy(j)
		return ref == nil || ref.UID != cj.UID
	}), nil
}

// run starts the Job of the most recent due time if policy allows, and
// returns how long to wait for the next one.
func (c *Controller) run(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) (time.Duration, error) {
	if cj.DeletionTimestamp != nil || (cj.Spec.Suspend != nil && *cj.Spec.Suspend) {
		return 0, nil
	}
	sched, err := c.schedule(cj)
	if err != nil {
		return 0, nil // reported; a spec change requeues
	}
	now := c.clock.Now()
	var requeue time.Duration
	if next := sched.Next(now); !next.IsZero() {
		requeue = next.Sub(now) + nextSlack
	}
	scheduled, ok := c.due(cj, sched, now)
	if !ok {
		return requeue, nil
	}
	name := jobName(cj, scheduled)
	if slices.ContainsFunc(jobs, func(j *batchv1.Job) bool { return j.Name == name }) ||
		slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.Name == name }) {
		return requeue, nil // already started
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(cj.Status.Active) > 0 {
			c.recorder.Event(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return requeue, nil
		}
	case batchv1.ReplaceConcurrent:
		if err := c.replaceActive(ctx, cj); err != nil {
			return 0, err
		}
	}
	if err := c.startJob(ctx, cj, name, scheduled); err != nil {
		return 0, err
	}
	return requeue, nil
}

// schedule parses the CronJob's schedule in its time zone, reporting
// errors as events.
func (c *Controller) schedule(cj *batchv1.CronJob) (*Schedule, error) {
	loc := time.Local
	if tz := cj.Spec.TimeZone; tz != nil {
		l, err := time.LoadLocation(*tz)
		if err != nil {
			c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %v", *tz, err)
			return nil, err
		}
		loc = l
	}
	s, err := Parse(cj.Spec.Schedule, loc)
	if err != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %v", cj.Spec.Schedule, err)
		return nil, err
	}
	return s, nil
}

// due returns the most recent scheduled time not yet run, if it is still
// within the starting deadline.
func (c *Controller) due(cj *batchv1.CronJob, sched *Schedule, now time.Time) (time.Time, bool) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil {
		if w := now.Add(-time.Duration(*sds) * time.Second); w.After(earliest) {
			earliest = w
		}
	}
	scheduled, missed := mostRecent(sched, earliest, now)
	if missed > tooManyMissed {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)
	}
	if scheduled.IsZero() {
		return time.Time{}, false
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil && scheduled.Add(time.Duration(*sds)*time.Second).Before(now) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "MissedSchedule", "Missed scheduled time to start a job: %s", scheduled.Format(time.RFC1123Z))
		return time.Time{}, false
	}
	return scheduled, true
}

// jobName is the name of the Job for a scheduled time: the CronJob's name
// and the time in minutes since the epoch.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}

// startJob creates the Job of a scheduled time and records it as active.
func (c *Controller) startJob(ctx context.Context, cj *batchv1.CronJob, name string, scheduled time.Time) error {
	job := newJob(cj, name, scheduled)
	created, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, job, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil // seen on a later sync through the informer
	case err != nil:
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return fmt.Errorf("creating job %s/%s: %w", cj.Namespace, name, err)
	}
	c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", created.Name)
	c.logger.Debug("started job", "cronjob", cj.Namespace+"/"+cj.Name, "job", created.Name, "scheduled", scheduled)
	if ref, err := jobRef(created); err == nil {
		cj.Status.Active = append(cj.Status.Active, ref)
	}
	t := metav1.NewTime(scheduled)
	cj.Status.LastScheduleTime = &t
	return nil
}

// newJob builds the Job of a scheduled time from the CronJob's template.
func newJob(cj *batchv1.CronJob, name string, scheduled time.Time) *batchv1.Job {
	t := &cj.Spec.JobTemplate
	annotations := maps.Clone(t.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	loc := time.Local
	if cj.Spec.TimeZone != nil {
		if l, err := time.LoadLocation(*cj.Spec.TimeZone); err == nil {
			loc = l
		}
	}
	annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.In(loc).Format(time.RFC3339)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       cj.Namespace,
			Labels:          maps.Clone(t.Labels),
			Annotations:     annotations,
			OwnerReferences: []metav1.OwnerReference{kit.ControllerRef(cj, cronJobKind)},
		},
		Spec: *t.Spec.DeepCopy(),
	}
}

// jobRef is the object reference of a Job in status.active.
func jobRef(j *batchv1.Job) (corev1.ObjectReference, error) {
	j = j.DeepCopy()
	j.SetGroupVersionKind(batchv1.SchemeGroupVersion.WithKind("Job"))
	ref, err := reference.GetReference(nil, j)
	if err != nil {
		return corev1.ObjectReference{}, fmt.Errorf("referencing job %s: %w", j.Name, err)
	}
	return *ref, nil
}
