package job_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/job"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// env is a control plane with the Job controller running, and listers
// that wake waiters on every change.
type env struct {
	cs     kubernetes.Interface
	jobs   batchlisters.JobLister
	pods   corelisters.PodLister
	change chan struct{}
}

func start(t *testing.T, backoff time.Duration) *env {
	t.Helper()
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.Disabled = []string{"job"} // this test runs its own
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := job.New(job.Config{Client: cs, Jobs: factory.Batch().V1().Jobs(), Pods: factory.Core().V1().Pods(), PodFailureBackoff: backoff,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{cs: cs, jobs: factory.Batch().V1().Jobs().Lister(), pods: factory.Core().V1().Pods().Lister(), change: make(chan struct{}, 1)}
	poke := func(any) {
		select {
		case e.change <- struct{}{}:
		default:
		}
	}
	h := cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }, DeleteFunc: poke}
	for _, inf := range []cache.SharedIndexInformer{factory.Batch().V1().Jobs().Informer(), factory.Core().V1().Pods().Informer()} {
		if _, err := inf.AddEventHandler(h); err != nil {
			t.Fatal(err)
		}
	}
	factory.Start(ctx.Done())
	done := make(chan error)
	go func() { done <- c.Run(ctx, 2) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
		factory.Shutdown()
	})
	return e
}

// waitFor re-evaluates cond on every informer event until it holds.
func (e *env) waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-e.change:
		case <-ctx.Done():
			jobs, _ := e.jobs.List(labels.Everything())
			for _, j := range jobs {
				t.Logf("job %s status %+v terminating %d", j.Name, j.Status, ptr.Deref(j.Status.Terminating, -1))
				pods, _ := e.pods.List(labels.Everything())
				for _, p := range pods {
					t.Logf("pod %s phase %s del %v fin %v", p.Name, p.Status.Phase, p.DeletionTimestamp, p.Finalizers)
				}
			}
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// livePods lists the job's pods that are not finished.
func (e *env) livePods(t *testing.T, j *batchv1.Job) []*corev1.Pod {
	t.Helper()
	pods, err := e.pods.Pods(j.Namespace).List(labels.SelectorFromSet(labels.Set{batchv1.JobNameLabel: j.Name}))
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(pods, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil
	})
}

func (e *env) job(j *batchv1.Job) *batchv1.Job {
	got, err := e.jobs.Jobs(j.Namespace).Get(j.Name)
	if err != nil {
		return &batchv1.Job{}
	}
	return got
}

// finish sets a pod's phase as a kubelet would.
func (e *env) finish(ctx context.Context, t *testing.T, p *corev1.Pod, phase corev1.PodPhase, exitCode int32) {
	t.Helper()
	p = p.DeepCopy()
	p.Status.Phase = phase
	now := metav1.Now()
	if exitCode < 0 {
		// No container statuses: the controller times the failure itself.
		if _, err := e.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("finishing pod %s: %v", p.Name, err)
		}
		return
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: "busybox",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode, FinishedAt: now}}}}
	if _, err := e.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("finishing pod %s: %v", p.Name, err)
	}
}

func newJob(name string, completions, parallelism int32) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: batchv1.JobSpec{
			Completions: ptr.To(completions),
			Parallelism: ptr.To(parallelism),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
			}},
		},
	}
}

func hasCond(j *batchv1.Job, ct batchv1.JobConditionType, reason string) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == ct && c.Status == corev1.ConditionTrue && (reason == "" || c.Reason == reason) {
			return true
		}
	}
	return false
}

func TestJobs(t *testing.T) {
	e := start(t, 200*time.Millisecond)

	t.Run("completions 3 parallelism 2", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		j, err := e.cs.BatchV1().Jobs("default").Create(ctx, newJob("three", 3, 2), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		succeeded := 0
		for succeeded < 3 {
			var live []*corev1.Pod
			want := min(2, 3-succeeded)
			e.waitFor(ctx, t, fmt.Sprintf("%d running pods", want), func() bool {
				live = e.livePods(t, j)
				return len(live) == want && e.job(j).Status.Active == int32(want)
			})
			for _, p := range live {
				if !slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
					t.Errorf("pod %s lacks the tracking finalizer: %v", p.Name, p.Finalizers)
				}
			}
			e.finish(ctx, t, live[0], corev1.PodSucceeded, 0)
			succeeded++
			e.waitFor(ctx, t, "the success counted", func() bool { return e.job(j).Status.Succeeded == int32(succeeded) })
		}
		e.waitFor(ctx, t, "Complete", func() bool { return hasCond(e.job(j), batchv1.JobComplete, "") })
		got := e.job(j)
		if got.Status.Succeeded != 3 || got.Status.Failed != 0 || got.Status.Active != 0 || got.Status.CompletionTime == nil {
			t.Errorf("final status %+v", got.Status)
		}
		if !hasCond(got, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached) {
			t.Errorf("conditions %+v lack SuccessCriteriaMet", got.Status.Conditions)
		}
		pods, _ := e.pods.Pods("default").List(labels.SelectorFromSet(labels.Set{batchv1.JobNameLabel: j.Name}))
		for _, p := range pods {
			if slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
				t.Errorf("finished pod %s still tracked", p.Name)
			}
		}
	})

	t.Run("backoffLimit with pod back-off", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		spec := newJob("fails", 1, 1)
		spec.Spec.BackoffLimit = ptr.To[int32](2)
		j, err := e.cs.BatchV1().Jobs("default").Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var last time.Time
		seen := map[string]bool{}
		for failures := 1; failures <= 3; failures++ {
			var live []*corev1.Pod
			e.waitFor(ctx, t, fmt.Sprintf("pod %d", failures), func() bool {
				live = e.livePods(t, j)
				return len(live) == 1 && !seen[live[0].Name]
			})
			seen[live[0].Name] = true
			if failures > 1 {
				// 200 ms after the first failure, 400 ms after the second.
				if gap, min := time.Since(last), time.Duration(failures-1)*200*time.Millisecond; gap < min-50*time.Millisecond {
					t.Errorf("replacement %d came %v after the failure, want at least %v", failures, gap, min)
				}
			}
			e.finish(ctx, t, live[0], corev1.PodFailed, -1)
			last = time.Now()
		}
		e.waitFor(ctx, t, "Failed", func() bool { return hasCond(e.job(j), batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded) })
		got := e.job(j)
		if got.Status.Failed != 3 || got.Status.Succeeded != 0 || !hasCond(got, batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded) {
			t.Errorf("final status %+v", got.Status)
		}
		if n := len(e.livePods(t, j)); n != 0 {
			t.Errorf("%d pods still running after failure", n)
		}
	})

	t.Run("indexed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		spec := newJob("idx", 3, 3)
		spec.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j, err := e.cs.BatchV1().Jobs("default").Create(ctx, spec, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var live []*corev1.Pod
		e.waitFor(ctx, t, "3 pods", func() bool { live = e.livePods(t, j); return len(live) == 3 })
		var got []string
		for _, p := range live {
			idx := p.Annotations[batchv1.JobCompletionIndexAnnotation]
			got = append(got, idx)
			if p.Labels[batchv1.JobCompletionIndexAnnotation] != idx || p.Spec.Hostname != "idx-"+idx || !strings.HasPrefix(p.Name, "idx-"+idx+"-") {
				t.Errorf("pod %s: label %q, hostname %q for index %s", p.Name, p.Labels[batchv1.JobCompletionIndexAnnotation], p.Spec.Hostname, idx)
			}
			if env := p.Spec.Containers[0].Env; len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom == nil {
				t.Errorf("pod %s env %+v", p.Name, env)
			}
		}
		slices.Sort(got)
		if strings.Join(got, ",") != "0,1,2" {
			t.Fatalf("indexes %v, want 0,1,2", got)
		}
		for _, p := range live {
			if p.Annotations[batchv1.JobCompletionIndexAnnotation] == "1" {
				e.finish(ctx, t, p, corev1.PodSucceeded, 0)
			}
		}
		e.waitFor(ctx, t, "index 1 completed", func() bool { return e.job(j).Status.CompletedIndexes == "1" })
		for _, p := range live {
			if p.Annotations[batchv1.JobCompletionIndexAnnotation] != "1" {
				e.finish(ctx, t, p, corev1.PodSucceeded, 0)
			}
		}
		e.waitFor(ctx, t, "Complete", func() bool { return hasCond(e.job(j), batchv1.JobComplete, "") })
		if st := e.job(j).Status; st.CompletedIndexes != "0-2" || st.Succeeded != 3 {
			t.Errorf("completedIndexes %q succeeded %d", st.CompletedIndexes, st.Succeeded)
		}
	})
}
