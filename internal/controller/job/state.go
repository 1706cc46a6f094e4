package job

import (
	"fmt"
	"math"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// outcome is an interim or terminal verdict on a Job.
type outcome struct {
	// failed tells FailureTarget (true) from SuccessCriteriaMet.
	failed  bool
	reason  string
	message string
}

// jobState is what one sync learns from a Job and its pods: which pods
// run, which finished since the last count, and whether the Job has met
// its success or failure criteria. Computing it does no I/O.
type jobState struct {
	job     *batchv1.Job
	now     time.Time
	indexed bool
	// completions is spec.completions, or -1 when unset.
	completions int

	// active pods run or wait to run; terminating ones are being deleted.
	active, terminating []*corev1.Pod
	// tracked maps the UIDs of pods still holding the finalizer (and not
	// being untracked) to the pods.
	tracked map[types.UID]*corev1.Pod
	// uncountedSucceeded and uncountedFailed are the UIDs in
	// status.uncountedTerminatedPods plus the newly finished pods.
	uncountedSucceeded, uncountedFailed sets.Set[types.UID]
	// newFailures are the finish times of the newly failed pods.
	newFailures []time.Time
	// newSuccesses counts the newly succeeded pods.
	newSuccesses int
	// ignored are failed pods a policy Ignore rule excuses: untracked
	// without being counted.
	ignored []*corev1.Pod
	// completed and failedIndexes are the Indexed Job's finished indexes.
	completed, failedIndexes sets.Set[int]
	// indexFailures is the highest failure count seen per index.
	indexFailures map[int]int
	// restarts counts container restarts of active pods (OnFailure).
	restarts int
	// policyFailure is a FailJob verdict of the pod failure policy.
	policyFailure *outcome
}

// assess classifies pods for job at now; pending are the pods whose
// finalizer removal is in flight.
func assess(job *batchv1.Job, pods []*corev1.Pod, now time.Time, pending sets.Set[types.UID]) *jobState {
	s := &jobState{
		job:                job,
		now:                now,
		indexed:            isIndexed(job),
		completions:        -1,
		tracked:            map[types.UID]*corev1.Pod{},
		uncountedSucceeded: sets.New[types.UID](),
		uncountedFailed:    sets.New[types.UID](),
		indexFailures:      map[int]int{},
	}
	if job.Spec.Completions != nil {
		s.completions = int(*job.Spec.Completions)
	}
	if u := job.Status.UncountedTerminatedPods; u != nil {
		s.uncountedSucceeded.Insert(u.Succeeded...)
		s.uncountedFailed.Insert(u.Failed...)
	}
	limit := max(s.completions, 0)
	s.completed = parseIndexes(job.Status.CompletedIndexes, limit)
	s.failedIndexes = sets.New[int]()
	if job.Status.FailedIndexes != nil {
		s.failedIndexes = parseIndexes(*job.Status.FailedIndexes, limit)
	}
	for _, p := range pods {
		s.classify(p, pending)
	}
	return s
}

// classify sorts one pod into the state.
func (s *jobState) classify(p *corev1.Pod, pending sets.Set[types.UID]) {
	terminal := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	if p.Status.Phase == corev1.PodFailed && s.indexed {
		if i := podIndex(p); i != noIndex {
			s.indexFailures[i] = max(s.indexFailures[i], podIndexFailures(p)+1)
		}
	}
	switch {
	case !terminal && p.DeletionTimestamp == nil:
		s.active = append(s.active, p)
		if s.job.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
			for _, cs := range p.Status.ContainerStatuses {
				s.restarts += int(cs.RestartCount)
			}
		}
	case !terminal:
		s.terminating = append(s.terminating, p)
	}
	if !hasTrackingFinalizer(p) || pending.Has(p.UID) {
		return
	}
	s.tracked[p.UID] = p
	if s.uncountedSucceeded.Has(p.UID) || s.uncountedFailed.Has(p.UID) {
		return
	}
	switch {
	case p.Status.Phase == corev1.PodSucceeded:
		s.succeed(p)
	case p.Status.Phase == corev1.PodFailed:
		s.fail(p, true)
	case p.DeletionTimestamp != nil && s.job.Spec.PodFailurePolicy == nil:
		// Deleted before it finished: a failure (with a pod failure
		// policy, the controller waits for the pod's final phase).
		s.fail(p, false)
	}
}

// succeed records a newly succeeded pod.
func (s *jobState) succeed(p *corev1.Pod) {
	if s.indexed {
		i := podIndex(p)
		if i == noIndex || i >= s.completions || s.completed.Has(i) {
			s.ignored = append(s.ignored, p) // nothing to count
			return
		}
		s.completed.Insert(i)
	}
	s.uncountedSucceeded.Insert(p.UID)
	s.newSuccesses++
}

// fail records a newly failed pod, applying the pod failure policy to
// pods in the Failed phase.
func (s *jobState) fail(p *corev1.Pod, phaseFailed bool) {
	action := batchv1.PodFailurePolicyActionCount
	if phaseFailed {
		if a, msg, ok := matchFailurePolicy(s.job.Spec.PodFailurePolicy, p); ok {
			action = a
			if a == batchv1.PodFailurePolicyActionFailJob && s.policyFailure == nil {
				s.policyFailure = &outcome{failed: true, reason: batchv1.JobReasonPodFailurePolicy, message: msg}
			}
		}
	}
	if action == batchv1.PodFailurePolicyActionIgnore {
		s.ignored = append(s.ignored, p)
		return
	}
	s.uncountedFailed.Insert(p.UID)
	s.newFailures = append(s.newFailures, finishTime(p, s.now))
	if !s.indexed || s.job.Spec.BackoffLimitPerIndex == nil {
		return
	}
	i := podIndex(p)
	if i == noIndex || i >= s.completions {
		return
	}
	if action == batchv1.PodFailurePolicyActionFailIndex || podIndexFailures(p)+1 > int(*s.job.Spec.BackoffLimitPerIndex) {
		s.failedIndexes.Insert(i)
	}
}

// succeeded is the number of successes counted so far, uncounted ones
// included (for Indexed Jobs: the completed indexes).
func (s *jobState) succeeded() int {
	if s.indexed {
		return s.completed.Len()
	}
	return int(s.job.Status.Succeeded) + s.uncountedSucceeded.Len()
}

// failed is the number of failures counted so far, uncounted included.
func (s *jobState) failed() int {
	return int(s.job.Status.Failed) + s.uncountedFailed.Len()
}

// verdict decides whether the Job has met its failure or success
// criteria; nil means it runs on.
func (s *jobState) verdict() *outcome {
	if s.policyFailure != nil {
		return s.policyFailure
	}
	spec := &s.job.Spec
	limit := math.MaxInt32
	if spec.BackoffLimit != nil {
		limit = int(*spec.BackoffLimit)
	}
	if s.failed()+s.restarts > limit {
		return &outcome{failed: true, reason: batchv1.JobReasonBackoffLimitExceeded, message: "Job has reached the specified backoff limit"}
	}
	if spec.MaxFailedIndexes != nil && s.failedIndexes.Len() > int(*spec.MaxFailedIndexes) {
		return &outcome{failed: true, reason: batchv1.JobReasonMaxFailedIndexesExceeded, message: "Job has exceeded the specified maximal number of failed indexes"}
	}
	if s.pastDeadline() {
		return &outcome{failed: true, reason: batchv1.JobReasonDeadlineExceeded, message: "Job was active longer than specified deadline"}
	}
	return s.successVerdict()
}

func (s *jobState) successVerdict() *outcome {
	reached := &outcome{reason: batchv1.JobReasonCompletionsReached, message: "Reached expected number of succeeded pods"}
	if s.indexed {
		if r, ok := successPolicyMet(s.job.Spec.SuccessPolicy, s.completed, s.completions); ok {
			return &outcome{reason: batchv1.JobReasonSuccessPolicy, message: fmt.Sprintf("Matched rules at index %d", r)}
		}
	}
	switch {
	case s.indexed && s.completed.Len()+s.failedIndexes.Difference(s.completed).Len() >= s.completions:
		if s.failedIndexes.Len() > 0 {
			return &outcome{failed: true, reason: batchv1.JobReasonFailedIndexes, message: "Job has failed indexes"}
		}
		return reached
	case s.indexed:
		return nil
	case s.completions >= 0 && s.succeeded() >= s.completions:
		return reached
	case s.completions < 0 && s.succeeded() > 0 && len(s.active) == 0:
		return reached
	}
	return nil
}

// deadline returns when the Job's active deadline passes, or zero.
func (s *jobState) deadline() time.Time {
	st := s.job.Status.StartTime
	if s.job.Spec.ActiveDeadlineSeconds == nil || st == nil || isSuspended(s.job) {
		return time.Time{}
	}
	return st.Add(time.Duration(*s.job.Spec.ActiveDeadlineSeconds) * time.Second)
}

func (s *jobState) pastDeadline() bool {
	d := s.deadline()
	return !d.IsZero() && !s.now.Before(d)
}

func isIndexed(j *batchv1.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion
}

func isSuspended(j *batchv1.Job) bool {
	return j.Spec.Suspend != nil && *j.Spec.Suspend
}
