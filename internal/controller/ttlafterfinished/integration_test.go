package ttlafterfinished_test

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/ttlafterfinished"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

func TestFinishedJobDeletedAfterTTL(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.Disabled = []string{"ttl-after-finished", "job"} // this test runs its own
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := ttlafterfinished.New(ttlafterfinished.Config{Client: cs, Jobs: factory.Batch().V1().Jobs()})
	if err != nil {
		t.Fatal(err)
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

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "short", Namespace: "default"},
		Spec: batchv1.JobSpec{
			TTLSecondsAfterFinished: ptr.To[int32](1),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}},
		},
	}
	j, err := cs.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	j.Status.StartTime, j.Status.CompletionTime, j.Status.Succeeded = &now, &now, 1
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	if _, err := cs.BatchV1().Jobs("default").UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	finished := time.Now()
	lw := cache.NewListWatchFromClient(cs.BatchV1().RESTClient(), "jobs", "default", fields.OneTermEqualSelector("metadata.name", "short"))
	_, err = watchtools.UntilWithSync(ctx, lw, &batchv1.Job{}, nil, func(e watch.Event) (bool, error) {
		return e.Type == watch.Deleted, nil
	})
	if err != nil {
		t.Fatalf("job not deleted: %v", err)
	}
	// The condition time has second precision: the deletion comes 0-1 s
	// after our clock's finish plus the 1 s TTL.
	if d := time.Since(finished); d > 5*time.Second {
		t.Errorf("deleted %v after finishing, want about 1 s", d)
	}
}
