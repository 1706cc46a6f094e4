package podgc_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/controller/podgc"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

func boundPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func TestOrphanedPodsOfDeletedNode(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.Disabled = []string{"pod-garbage-collector"} // this test runs its own
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, n := range []string{"doomed", "alive"} {
		if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for name, node := range map[string]string{"orphan": "doomed", "kept": "alive"} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, boundPod(name, node), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := podgc.New(podgc.Config{Client: cs, Pods: factory.Core().V1().Pods(), Nodes: factory.Core().V1().Nodes(),
		Period: 100 * time.Millisecond, OrphanGrace: 300 * time.Millisecond})
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
			t.Errorf("collector: %v", err)
		}
		factory.Shutdown()
	}()

	if err := cs.CoreV1().Nodes().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "pods", "default", fields.OneTermEqualSelector("metadata.name", "orphan"))
	var last *corev1.Pod
	_, err = watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(e watch.Event) (bool, error) {
		if p, ok := e.Object.(*corev1.Pod); ok && e.Type != watch.Deleted {
			last = p
		}
		return e.Type == watch.Deleted, nil
	})
	if err != nil {
		t.Fatalf("orphaned pod not deleted: %v", err)
	}
	if last == nil || last.Status.Phase != corev1.PodFailed || !hasDisruption(last) {
		t.Errorf("orphan before deletion: %+v", last)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "kept", metav1.GetOptions{}); err != nil {
		t.Errorf("pod on a live node: %v", err)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "orphan", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("orphan: %v, want NotFound", err)
	}
}

func hasDisruption(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "DeletionByPodGC" {
			return true
		}
	}
	return false
}
