package resourcequota_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

const hardPods = 5

// TestConcurrentCreatesNeverExceedHard keeps 50 concurrent creators
// trying to create pods against a `pods: 5` quota while pods are deleted
// now and then and the server's quota controller runs (recomputing usage
// on every pod and quota event). A watch over the pods checks that no
// more than 5 ever exist at once; after the churn, usage must match the
// pods left, and deletions must lower it promptly.
func TestConcurrentCreatesNeverExceedHard(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	cfg := srv.AdminConfig()
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter() // the creators must hit the server, not a client limit
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const ns = "default"
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "pods", Namespace: ns},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(hardPods, resource.DecimalSI)}}}
	if _, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUsed(ctx, t, cs, ns, 0)
	peak := watchPeak(ctx, t, cs, ns)
	for round := range 3 {
		churn(ctx, t, cs, ns, round, 50, 2*time.Second)
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Usage settles on the pods left, or above them by the charges of
		// creates that failed in a way the server could not give back at
		// once (held until their reservation expires, 2 minutes): never
		// below, which would let a create past the hard limit.
		held := waitUsedSettled(ctx, t, cs, ns, len(pods.Items))
		start := time.Now()
		for _, p := range pods.Items[:2] {
			if err := cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
				t.Fatal(err)
			}
		}
		waitUsed(ctx, t, cs, ns, len(pods.Items)-2+held)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("round %d: usage took %v to drop after deletions", round, d)
		}
	}
	if got := peak(); got > hardPods {
		t.Fatalf("%d pods existed at once; the quota allows %d", got, hardPods)
	}
}

// churn runs n creators for d, each creating pods as fast as the quota
// lets it, and a deleter removing a pod every 100 ms.
func churn(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, round, n int, d time.Duration) {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	var admitted atomic.Int32
	for i := range n {
		wg.Go(func() {
			for k := 0; rctx.Err() == nil; {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d-%d-%d", round, i, k)},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
				_, err := cs.CoreV1().Pods(ns).Create(rctx, p, metav1.CreateOptions{})
				switch {
				case err == nil:
					admitted.Add(1)
					k++
				case apierrors.IsForbidden(err):
					time.Sleep(5 * time.Millisecond) // a refused creator retries soon, not in a hot loop
				case rctx.Err() != nil:
				default:
					t.Errorf("create: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for rctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			pods, err := cs.CoreV1().Pods(ns).List(rctx, metav1.ListOptions{})
			if err != nil || len(pods.Items) == 0 {
				continue
			}
			_ = cs.CoreV1().Pods(ns).Delete(rctx, pods.Items[0].Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		}
	})
	wg.Wait()
	if admitted.Load() == 0 {
		t.Errorf("round %d: no create admitted", round)
	}
	t.Logf("round %d: %d creates admitted", round, admitted.Load())
}

// watchPeak watches the namespace's pods and returns a function giving
// the most pods that existed at once so far (events come in revision
// order, so the running count is exact).
func watchPeak(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) func() int {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	live, peak := len(list.Items), len(list.Items)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			mu.Lock()
			switch ev.Type {
			case watch.Added:
				live++
				peak = max(peak, live)
			case watch.Deleted:
				live--
			}
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.Stop(); <-done })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// waitUsed waits until the quota reports want pods used.
// waitUsedSettled waits until usage equals pods, or stays a little above
// it for 3 s (charges still reserved), and returns how far above it
// settled.
func waitUsedSettled(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, pods int) int {
	t.Helper()
	last, stable := int64(-1), 0
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "pods", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		used := q.Status.Used[corev1.ResourcePods]
		if used.Value() == last {
			stable++
		} else {
			last, stable = used.Value(), 0
		}
		return last >= int64(pods) && (last == int64(pods) || stable >= 30), nil
	})
	if err != nil {
		t.Fatalf("quota used pods %d, want %d (or a little more, settled): %v", last, pods, err)
	}
	if held := int(last) - pods; held > 0 {
		t.Logf("usage settled %d above the pods left (charges of failed creates, held until their reservation expires)", held)
		if held > 2 {
			t.Errorf("%d charges held after the churn", held)
		}
		return held
	}
	return 0
}

func waitUsed(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, want int) {
	t.Helper()
	var got resource.Quantity
	err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "pods", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got = q.Status.Used[corev1.ResourcePods]
		return got.Value() == int64(want), nil
	})
	if err != nil {
		t.Fatalf("quota used pods %s, want %d: %v", got.String(), want, err)
	}
}
