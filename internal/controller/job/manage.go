package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// completionIndexEnv is the environment variable giving a pod's index.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// managePods deletes the pods a Job should no longer run and creates the
// ones it lacks. It returns the deleted pods and how long to wait before
// creating more (pod back-off). satisfied tells whether the expectations
// were met before the pods of s were listed: only then does s show every
// pod this controller created or deleted.
func (c *Controller) managePods(ctx context.Context, key string, s *jobState, verdict *outcome, rec backoffRecord, satisfied bool) (sets.Set[types.UID], time.Duration, error) {
	job := s.job
	switch {
	case verdict != nil:
		// Failed pods are counted before their finalizer goes; others
		// are untracked first so that they are never counted.
		return c.deletePods(ctx, key, job, s.active, !verdict.failed)
	case isSuspended(job):
		return c.deletePods(ctx, key, job, s.active, true)
	case !satisfied:
		return nil, 0, nil // earlier creations or deletions not yet seen
	}
	excess, want := s.plan()
	if len(excess) > 0 {
		return c.deletePods(ctx, key, job, excess, true)
	}
	if want.count == 0 {
		return nil, 0, nil
	}
	if wait := backoffRemaining(rec, c.backoffBase, c.backoffMax, s.now); wait > 0 {
		return nil, wait, nil
	}
	return nil, 0, c.createPods(ctx, key, job, want, s.indexFailures)
}

// creation is what to create: count pods, with these indexes if Indexed.
type creation struct {
	count   int
	indexes []int
}

// plan computes the active pods to delete and the pods to create.
func (s *jobState) plan() ([]*corev1.Pod, creation) {
	parallelism := 1
	if s.job.Spec.Parallelism != nil {
		parallelism = int(*s.job.Spec.Parallelism)
	}
	// With podReplacementPolicy Failed, a terminating pod is replaced only
	// once it has failed.
	busy := 0
	if p := s.job.Spec.PodReplacementPolicy; p != nil && *p == batchv1.Failed {
		busy = len(s.terminating)
	}
	if s.indexed {
		return s.planIndexed(parallelism)
	}
	want := parallelism
	switch {
	case s.completions >= 0:
		want = min(parallelism, max(s.completions-s.succeeded(), 0))
	case s.succeeded() > 0:
		want = min(parallelism, len(s.active)) // work queue: no new pods once one succeeded
	}
	if len(s.active) > want {
		pods := slices.Clone(s.active)
		kit.SortForDeletion(pods, nil)
		return pods[:len(s.active)-want], creation{}
	}
	return nil, creation{count: max(want-len(s.active)-busy, 0)}
}

// planIndexed deletes duplicate, out-of-range and finished-index pods and
// creates pods for the lowest indexes without one.
func (s *jobState) planIndexed(parallelism int) ([]*corev1.Pod, creation) {
	var excess, keep []*corev1.Pod
	running := sets.New[int]()
	pods := slices.Clone(s.active)
	kit.SortForDeletion(pods, nil)
	slices.Reverse(pods) // the pods worth keeping first
	for _, p := range pods {
		i := podIndex(p)
		if i == noIndex || i >= s.completions || s.completed.Has(i) || s.failedIndexes.Has(i) || running.Has(i) {
			excess = append(excess, p)
			continue
		}
		running.Insert(i)
		keep = append(keep, p)
	}
	remaining := s.completions - s.completed.Union(s.failedIndexes).Len()
	want := min(parallelism, max(remaining, 0))
	if len(keep) > want {
		// Stop the highest indexes.
		slices.SortFunc(keep, func(a, b *corev1.Pod) int { return podIndex(b) - podIndex(a) })
		excess = append(excess, keep[:len(keep)-want]...)
	}
	if len(excess) > 0 {
		return excess, creation{}
	}
	busy := sets.New[int]()
	if p := s.job.Spec.PodReplacementPolicy; p != nil && *p == batchv1.Failed {
		for _, t := range s.terminating {
			busy.Insert(podIndex(t))
		}
	}
	idx := missingIndexes(s.completions, want-len(keep), s.completed, s.failedIndexes, running, busy)
	return nil, creation{count: len(idx), indexes: idx}
}

// createPods creates pods in batches that double in size while creations
// succeed (slow start), so a failing template does not flood the API.
func (c *Controller) createPods(ctx context.Context, key string, job *batchv1.Job, want creation, indexFailures map[int]int) error {
	c.expectations.ExpectCreations(key, want.count)
	created := 0
	for batch := 1; created < want.count; batch *= 2 {
		n := min(batch, want.count-created)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for k := range n {
			idx := noIndex
			if want.indexes != nil {
				idx = want.indexes[created+k]
			}
			wg.Go(func() {
				if err := c.createPod(ctx, job, idx, indexFailures[idx]); err != nil {
					c.expectations.CreationObserved(key) // its event never comes
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		created += n
		if len(errs) > 0 {
			for range want.count - created {
				c.expectations.CreationObserved(key) // never attempted
			}
			return errors.Join(errs...)
		}
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, job *batchv1.Job, index, failures int) error {
	pod := newPod(job, index, failures)
	created, err := kit.CreatePod(ctx, c.client, pod)
	if err != nil {
		c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		return err
	}
	c.logger.Debug("created pod", "job", job.Namespace+"/"+job.Name, "pod", created.Name)
	c.recorder.Eventf(job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

// newPod builds a pod of job: tracked by the finalizer and, for Indexed
// Jobs, carrying its index in an annotation, a label, the hostname and
// the JOB_COMPLETION_INDEX variable.
func newPod(job *batchv1.Job, index, failures int) *corev1.Pod {
	pod := kit.PodFromTemplate(&job.Spec.Template, job.Namespace, "", kit.ControllerRef(job, jobKind))
	pod.Finalizers = append(pod.Finalizers, batchv1.JobTrackingFinalizer)
	if index == noIndex {
		return pod
	}
	v := strconv.Itoa(index)
	pod.GenerateName = fmt.Sprintf("%s-%d-", job.Name, index)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Annotations[batchv1.JobCompletionIndexAnnotation] = v
	pod.Labels[batchv1.JobCompletionIndexAnnotation] = v
	if job.Spec.BackoffLimitPerIndex != nil {
		pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(failures)
	}
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, index)
	}
	env := corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation),
	}}}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if !slices.ContainsFunc(list[i].Env, func(e corev1.EnvVar) bool { return e.Name == completionIndexEnv }) {
				list[i].Env = append(list[i].Env, env)
			}
		}
	}
	return pod
}

// deletePods deletes pods, removing their tracking finalizer first when
// untrackFirst (pods that must not be counted). It returns the pods it
// deleted.
func (c *Controller) deletePods(ctx context.Context, key string, job *batchv1.Job, pods []*corev1.Pod, untrackFirst bool) (sets.Set[types.UID], time.Duration, error) {
	deleted := sets.New[types.UID]()
	if len(pods) == 0 {
		return deleted, 0, nil
	}
	var errs []error
	if untrackFirst {
		var tracked []*corev1.Pod
		for _, p := range pods {
			if hasTrackingFinalizer(p) {
				tracked = append(tracked, p)
			}
		}
		done, err := c.untrack(ctx, key, tracked)
		if err != nil {
			errs = append(errs, err)
		}
		pods = slices.DeleteFunc(slices.Clone(pods), func(p *corev1.Pod) bool { return hasTrackingFinalizer(p) && !done.Has(p.UID) })
	}
	keys := make([]string, len(pods))
	for i, p := range pods {
		keys[i] = p.Namespace + "/" + p.Name
	}
	c.expectations.ExpectDeletions(key, keys)
	for i, p := range pods {
		if err := kit.DeletePod(ctx, c.client, p); err != nil {
			c.expectations.DeletionObserved(key, keys[i])
			c.recorder.Eventf(job, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			errs = append(errs, err)
			continue
		}
		deleted.Insert(p.UID)
		c.logger.Debug("deleted pod", "job", job.Namespace+"/"+job.Name, "pod", p.Name)
		c.recorder.Eventf(job, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
	}
	return deleted, 0, errors.Join(errs...)
}
