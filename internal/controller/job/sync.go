package job

import (
	"context"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// Reasons and messages of the Suspended condition.
const (
	reasonSuspended = "JobSuspended"
	reasonResumed   = "JobResumed"
)

// sync reconciles one Job: it counts finished pods, decides whether the
// Job succeeded or failed, creates or deletes pods and writes the status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // a malformed key cannot get better
	}
	cached, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		return c.releaseOrphans(ctx, key, ns, name, "")
	}
	if err != nil {
		return fmt.Errorf("reading job %s from the cache: %w", key, err)
	}
	if m := cached.Spec.ManagedBy; m != nil && *m != batchv1.JobControllerName {
		return nil // another controller's Job
	}
	job := cached.DeepCopy()
	// The expectations are read before the pods are listed: a pod whose
	// creation is observed after the listing would otherwise be missing
	// from a view the expectations vouch for, and be created twice.
	satisfied := c.expectations.Satisfied(key)
	if err := c.releaseOrphans(ctx, key, ns, name, job.UID); err != nil {
		return err
	}
	pods, err := c.claimPods(ctx, job)
	if err != nil {
		return err
	}
	if isFinished(job) {
		_, err := c.untrack(ctx, key, slices.DeleteFunc(pods, func(p *corev1.Pod) bool { return !hasTrackingFinalizer(p) }))
		return err
	}
	s := assess(job, pods, c.clock.Now(), c.untracked.pending(key))
	return c.reconcile(ctx, key, s, satisfied)
}

func (c *Controller) forget(key string) {
	c.expectations.Forget(key)
	c.untracked.forget(key)
	c.backoff.forget(key)
}

// claimPods returns the pods the Job controls, after adoption and release.
func (c *Controller) claimPods(ctx context.Context, job *batchv1.Job) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("job %s/%s has an invalid selector: %w", job.Namespace, job.Name, err)
	}
	all, err := c.pods.Pods(job.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pods of job %s/%s: %w", job.Namespace, job.Name, err)
	}
	canAdopt := kit.RecheckOwner(job, "Job", func(ctx context.Context, ns, name string) (*batchv1.Job, error) {
		return c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	})
	return kit.ClaimPods(ctx, c.client, job, jobKind, sel, canAdopt, all)
}

// reconcile acts on an assessed Job; satisfied tells whether the pods of
// s can be trusted for creations and deletions (see managePods).
func (c *Controller) reconcile(ctx context.Context, key string, s *jobState, satisfied bool) error {
	job := s.job
	old := job.Status.DeepCopy()
	verdict := interim(job)
	if verdict == nil && !isSuspended(job) {
		if verdict = s.verdict(); verdict != nil {
			c.markInterim(job, verdict, s.now)
		}
	}
	if verdict != nil && verdict.failed {
		// The pods still running are killed: they count as failed.
		for _, p := range s.active {
			if _, ok := s.tracked[p.UID]; ok {
				s.uncountedFailed.Insert(p.UID)
			}
		}
	}
	c.suspendCondition(job, s.now)
	c.fillStatus(job, s, nil)
	if !equality.Semantic.DeepEqual(old, &job.Status) {
		if err := c.writeStatus(ctx, job); err != nil {
			return err
		}
	}
	rec := c.backoff.record(key, s.newFailures, s.newSuccesses)

	deleted, requeue, manageErr := c.managePods(ctx, key, s, verdict, rec, satisfied)
	done, untrackErr := c.untrack(ctx, key, s.toUntrack())
	// before is the status as written above: everything that changes it
	// from here on, the terminal condition included, must be written.
	before := job.Status.DeepCopy()
	s.flush(done)
	if verdict != nil && s.finished(done, deleted) {
		c.markFinished(job, verdict, s.now)
	}
	c.fillStatus(job, s, deleted)
	if !equality.Semantic.DeepEqual(before, &job.Status) {
		if err := c.writeStatus(ctx, job); err != nil {
			return err
		}
	}
	if manageErr != nil {
		return manageErr
	}
	if untrackErr != nil {
		return untrackErr
	}
	if d := s.deadline(); verdict == nil && !d.IsZero() {
		requeue = minPositive(requeue, d.Sub(s.now))
	}
	if requeue > 0 {
		return kit.RequeueAfter(requeue)
	}
	return nil
}

// markInterim adds the FailureTarget or SuccessCriteriaMet condition.
func (c *Controller) markInterim(job *batchv1.Job, v *outcome, now time.Time) {
	ct := batchv1.JobSuccessCriteriaMet
	if v.failed {
		ct = batchv1.JobFailureTarget
		c.recorder.Event(job, corev1.EventTypeWarning, v.reason, v.message)
	}
	setCondition(job, ct, corev1.ConditionTrue, v.reason, v.message, metav1.NewTime(now))
}

// markFinished adds the terminal Complete or Failed condition.
func (c *Controller) markFinished(job *batchv1.Job, v *outcome, now time.Time) {
	t := metav1.NewTime(now)
	if v.failed {
		setCondition(job, batchv1.JobFailed, corev1.ConditionTrue, v.reason, v.message, t)
		return
	}
	setCondition(job, batchv1.JobComplete, corev1.ConditionTrue, v.reason, v.message, t)
	job.Status.CompletionTime = &t
	c.recorder.Event(job, corev1.EventTypeNormal, "Completed", "Job completed")
}

// suspendCondition keeps the Suspended condition and startTime in line
// with spec.suspend.
func (c *Controller) suspendCondition(job *batchv1.Job, now time.Time) {
	t := metav1.NewTime(now)
	switch {
	case isSuspended(job):
		job.Status.StartTime = nil
		if setCondition(job, batchv1.JobSuspended, corev1.ConditionTrue, reasonSuspended, "Job suspended", t) {
			c.recorder.Event(job, corev1.EventTypeNormal, "Suspended", "Job suspended")
		}
	case hasCondition(job, batchv1.JobSuspended):
		setCondition(job, batchv1.JobSuspended, corev1.ConditionFalse, reasonResumed, "Job resumed", t)
		c.recorder.Event(job, corev1.EventTypeNormal, "Resumed", "Job resumed")
		job.Status.StartTime = &t
	case job.Status.StartTime == nil:
		job.Status.StartTime = &t
	}
}

// fillStatus writes the pod counts of s into the Job's status; deleted
// are the active pods this sync deleted.
func (c *Controller) fillStatus(job *batchv1.Job, s *jobState, deleted sets.Set[types.UID]) {
	st := &job.Status
	var active, ready int32
	for _, p := range s.active {
		if deleted.Has(p.UID) {
			continue
		}
		active++
		if kit.IsPodReady(p) {
			ready++
		}
	}
	if isFinished(job) {
		active, ready = 0, 0
	}
	st.Active, st.Ready = active, &ready
	st.Terminating = ptr.To(int32(len(s.terminating) + deleted.Len()))
	st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{
		Succeeded: sortedUIDs(s.uncountedSucceeded),
		Failed:    sortedUIDs(s.uncountedFailed),
	}
	if s.indexed {
		st.CompletedIndexes = formatIndexes(s.completed)
		st.Succeeded = int32(s.completed.Len())
	}
	if job.Spec.BackoffLimitPerIndex != nil {
		st.FailedIndexes = ptr.To(formatIndexes(s.failedIndexes))
	}
}

func (c *Controller) writeStatus(ctx context.Context, job *batchv1.Job) error {
	out, err := c.client.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating the status of job %s/%s: %w", job.Namespace, job.Name, err)
	}
	job.ResourceVersion = out.ResourceVersion
	return nil
}

// toUntrack lists the tracked pods whose finalizer can go: those recorded
// as uncounted and those whose failure is ignored.
func (s *jobState) toUntrack() []*corev1.Pod {
	var out []*corev1.Pod
	for uid, p := range s.tracked {
		if s.uncountedSucceeded.Has(uid) || s.uncountedFailed.Has(uid) {
			out = append(out, p)
		}
	}
	for _, p := range s.ignored {
		if _, ok := s.tracked[p.UID]; ok {
			out = append(out, p)
		}
	}
	return out
}

// flush moves the uncounted pods whose finalizer is gone (done, or no
// longer tracked at all) into the counters.
func (s *jobState) flush(done sets.Set[types.UID]) {
	gone := func(uid types.UID) bool {
		_, tracked := s.tracked[uid]
		return done.Has(uid) || !tracked
	}
	for _, uid := range s.uncountedSucceeded.UnsortedList() {
		if gone(uid) {
			s.uncountedSucceeded.Delete(uid)
			if !s.indexed {
				s.job.Status.Succeeded++
			}
		}
	}
	for _, uid := range s.uncountedFailed.UnsortedList() {
		if gone(uid) {
			s.uncountedFailed.Delete(uid)
			s.job.Status.Failed++
		}
	}
}

// finished reports whether a Job that met its criteria has nothing left
// running: every pod counted and untracked, none active or terminating.
func (s *jobState) finished(done, deleted sets.Set[types.UID]) bool {
	if s.uncountedSucceeded.Len() > 0 || s.uncountedFailed.Len() > 0 || len(s.terminating) > 0 || deleted.Len() > 0 {
		return false
	}
	for uid := range s.tracked {
		if !done.Has(uid) {
			return false
		}
	}
	return len(s.active) == 0
}

func sortedUIDs(s sets.Set[types.UID]) []types.UID {
	if s.Len() == 0 {
		return nil
	}
	return sets.List(s)
}

// minPositive returns the smaller of two durations, ignoring those <= 0.
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}
