package cronjob_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/cronjob"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

func TestCronJobOnFakeClock(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.Disabled = []string{"cronjob", "job"} // this test runs its own
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The fake clock starts half a minute past the current minute.
	start := time.Now().UTC().Truncate(time.Minute).Add(30 * time.Second)
	clk := testingclock.NewFakeClock(start)
	events := record.NewFakeRecorder(100)
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := cronjob.New(cronjob.Config{Client: cs, CronJobs: factory.Batch().V1().CronJobs(), Jobs: factory.Batch().V1().Jobs(), Recorder: events, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	change := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case change <- struct{}{}:
		default:
		}
	}
	for _, inf := range []cache.SharedIndexInformer{factory.Batch().V1().Jobs().Informer(), factory.Batch().V1().CronJobs().Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }}); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(context.Background())
	factory.Start(runCtx.Done())
	done := make(chan error)
	go func() { done <- c.Run(runCtx, 1) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
		factory.Shutdown()
	}()

	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule:          "* * * * *",
			TimeZone:          ptr.To("UTC"),
			ConcurrencyPolicy: batchv1.ForbidConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}},
		},
	}
	if _, err := cs.BatchV1().CronJobs("default").Create(ctx, cj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	jobs := factory.Batch().V1().Jobs().Lister().Jobs("default")
	waitJob := func(at time.Time) *batchv1.Job {
		t.Helper()
		name := fmt.Sprintf("tick-%d", at.Unix()/60)
		for {
			if j, err := jobs.Get(name); err == nil {
				return j
			}
			select {
			case <-change:
			case <-ctx.Done():
				t.Fatalf("job %s never created", name)
			}
		}
	}
	waitEvent := func(reason string) {
		t.Helper()
		for {
			select {
			case e := <-events.Events:
				if strings.Contains(e, " "+reason+" ") {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", reason)
			}
		}
	}
	// stepTo moves the fake clock once the controller waits on it.
	stepTo := func(at time.Time) {
		t.Helper()
		for !clk.HasWaiters() {
			select {
			case <-ctx.Done():
				t.Fatal("the controller never waited on the clock")
			case <-time.After(10 * time.Millisecond):
			}
		}
		clk.SetTime(at)
	}

	first := start.Add(30 * time.Second)
	stepTo(first.Add(5 * time.Second))
	j := waitJob(first)
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != first.Format(time.RFC3339) {
		t.Errorf("scheduled-timestamp annotation %q, want %q", got, first.Format(time.RFC3339))
	}

	// Forbid: the next minute passes while the first job runs.
	second := first.Add(time.Minute)
	stepTo(second.Add(5 * time.Second))
	waitEvent("JobAlreadyActive")
	if _, err := jobs.Get(fmt.Sprintf("tick-%d", second.Unix()/60)); err == nil {
		t.Fatal("a second job started while the first ran under Forbid")
	}

	// The first job finishes: the skipped run starts late.
	j = j.DeepCopy()
	now := metav1.NewTime(second)
	j.Status.StartTime = &now
	j.Status.CompletionTime = &now
	j.Status.Succeeded = 1
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	if _, err := cs.BatchV1().Jobs("default").UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitJob(second)
	cronJobs := factory.Batch().V1().CronJobs().Lister().CronJobs("default")
	for {
		got, err := cronJobs.Get("tick")
		if err == nil && len(got.Status.Active) == 1 && got.Status.LastSuccessfulTime != nil && got.Status.LastScheduleTime.Time.Equal(second) {
			break
		}
		select {
		case <-change:
		case <-ctx.Done():
			t.Fatalf("cronjob %v (%v)", got, err)
		}
	}
}
