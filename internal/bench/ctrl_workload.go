package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"

	"github.com/skiffkube/skiff/internal/runtime/fake"
)

const (
	ctrlDeployment = "web"
	ctrlImage      = "registry.skiff.local/busybox:1.35"
	// rolloutAnnotation is changed on the pod template to roll it out.
	rolloutAnnotation = "skiff.io/bench-revision"
	// progressPeriod spaces the progress lines of a wait.
	progressPeriod = 5 * time.Second
)

// ctrlWorkload creates and waits for the controllers benchmark's objects.
type ctrlWorkload struct {
	cs  kubernetes.Interface
	ns  string
	cfg ControllersConfig
}

// deploy creates the Deployment and waits until it is fully available.
func (w ctrlWorkload) deploy(ctx context.Context) error {
	d := ctrlDeploymentObject(w.ns, int32(w.cfg.Replicas))
	if _, err := w.cs.AppsV1().Deployments(w.ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating deployment: %w", err)
	}
	return w.waitDeployment(ctx, "deployment")
}

// rollout changes the Deployment's pod template and waits until every
// replica is new and available and no old pod is left.
func (w ctrlWorkload) rollout(ctx context.Context) error {
	deps := w.cs.AppsV1().Deployments(w.ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := deps.Get(ctx, ctrlDeployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template.Annotations[rolloutAnnotation] = "2"
		_, err = deps.Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("updating the deployment's template: %w", err)
	}
	return w.waitDeployment(ctx, "rollout")
}

// waitDeployment waits until the Deployment's status shows its current
// generation rolled out: all replicas updated and available, none else.
// Progress lines are labelled with phase.
func (w ctrlWorkload) waitDeployment(ctx context.Context, phase string) error {
	var last appsv1.DeploymentStatus
	var reported time.Time
	lw := cache.NewListWatchFromClient(w.cs.AppsV1().RESTClient(), "deployments", w.ns,
		fields.OneTermEqualSelector("metadata.name", ctrlDeployment))
	_, err := watchtools.UntilWithSync(ctx, lw, &appsv1.Deployment{}, nil, func(ev watch.Event) (bool, error) {
		d, ok := ev.Object.(*appsv1.Deployment)
		if !ok {
			return false, nil
		}
		last = d.Status
		if time.Since(reported) >= progressPeriod {
			reported = time.Now()
			fmt.Fprintf(w.cfg.Progress, "%s: %d pods, %d updated, %d ready, %d available\n",
				phase, last.Replicas, last.UpdatedReplicas, last.ReadyReplicas, last.AvailableReplicas)
		}
		return deploymentComplete(d), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the deployment (status %+v): %w", last, err)
	}
	return nil
}

// deploymentComplete says the Deployment's current template is fully
// rolled out and available.
func deploymentComplete(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want &&
		s.Replicas == want && s.AvailableReplicas == want
}

// jobs creates the Jobs from Workers goroutines and waits until all are
// Complete; a failed Job is an error.
func (w ctrlWorkload) jobs(ctx context.Context) error {
	tracker := newJobTracker(w.cfg.Progress)
	lw := cache.NewListWatchFromClient(w.cs.BatchV1().RESTClient(), "jobs", w.ns, fields.Everything())
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := watchtools.UntilWithSync(wctx, lw, &batchv1.Job{}, nil, tracker.observe(w.cfg.Jobs))
		done <- err
	}()
	created, err := w.createJobs(ctx)
	if err != nil {
		cancel()
		<-done
		return err
	}
	fmt.Fprintf(w.cfg.Progress, "jobs: %d created\n", created)
	if err := <-done; err != nil {
		cancel()
		return fmt.Errorf("waiting for jobs (%d of %d complete): %w", tracker.completed(), w.cfg.Jobs, err)
	}
	cancel()
	return nil
}

// createJobs creates cfg.Jobs Jobs from cfg.Workers goroutines.
func (w ctrlWorkload) createJobs(ctx context.Context) (int, error) {
	var next, created atomic.Int64
	errs := make(chan error, w.cfg.Workers)
	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(w.cfg.Jobs) {
					return
				}
				if _, err := w.cs.BatchV1().Jobs(w.ns).Create(ctx, ctrlJobObject(w.ns, int(i)), metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating job %d: %w", i, err)
					return
				}
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return int(created.Load()), err
	}
	return int(created.Load()), nil
}

// jobTracker counts Complete Jobs seen on a watch.
type jobTracker struct {
	// progress receives a count every progressPeriod.
	progress io.Writer
	mu       sync.Mutex
	complete map[string]bool
	reported time.Time
}

func newJobTracker(progress io.Writer) *jobTracker {
	return &jobTracker{progress: progress, complete: map[string]bool{}}
}

// observe returns a watch condition that holds once want Jobs are
// Complete and fails on a Failed Job.
func (t *jobTracker) observe(want int) watchtools.ConditionFunc {
	return func(ev watch.Event) (bool, error) {
		j, ok := ev.Object.(*batchv1.Job)
		if !ok {
			return false, nil
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, c := range j.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			switch c.Type {
			case batchv1.JobComplete:
				t.complete[j.Name] = true
			case batchv1.JobFailed:
				return false, fmt.Errorf("job %s failed: %s: %s", j.Name, c.Reason, c.Message)
			}
		}
		if time.Since(t.reported) >= progressPeriod {
			t.reported = time.Now()
			fmt.Fprintf(t.progress, "jobs: %d of %d complete\n", len(t.complete), want)
		}
		return len(t.complete) >= want, nil
	}
}

func (t *jobTracker) completed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.complete)
}

// ctrlPodSpec is the pods' spec: one small container with requests, so
// the scheduler fits them.
func ctrlPodSpec(restart corev1.RestartPolicy) corev1.PodSpec {
	grace := int64(1)
	return corev1.PodSpec{
		RestartPolicy:                 restart,
		TerminationGracePeriodSeconds: &grace,
		Containers: []corev1.Container{{
			Name: "app", Image: ctrlImage, Command: []string{"sleep", "3600"},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}},
		}},
	}
}

func ctrlDeploymentObject(ns string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": ctrlDeployment}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: ctrlDeployment, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{rolloutAnnotation: "1"}},
				Spec:       ctrlPodSpec(corev1.RestartPolicyAlways),
			},
		},
	}
}

// ctrlJobObject is a Job whose hollow container exits 0 after a second.
func ctrlJobObject(ns string, i int) *batchv1.Job {
	one := int32(1)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("burst-%d", i), Namespace: ns},
		Spec: batchv1.JobSpec{
			Completions: &one, Parallelism: &one,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
					fake.AnnotationExitCode: "0", fake.AnnotationRunSeconds: "1"}},
				Spec: ctrlPodSpec(corev1.RestartPolicyNever),
			},
		},
	}
}
