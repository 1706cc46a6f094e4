package sim_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/sim"
)

// TestSim runs five hollow nodes against a real server: all register
// Ready with the hollow and zone labels, and a bound pod runs.
func TestSim(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), BindAddress: "127.0.0.1", SecurePort: port,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(sim.Config{Nodes: 5, REST: srv.AdminConfig()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ready := map[string]*corev1.Node{}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	_, err = watchtools.UntilWithSync(wctx, lw, &corev1.Node{}, nil, func(ev watch.Event) (bool, error) {
		if n, ok := ev.Object.(*corev1.Node); ok && isReady(n) {
			ready[n.Name] = n
		}
		return len(ready) == 5, nil
	})
	if err != nil {
		t.Fatalf("nodes Ready: %d of 5 (%v)", len(ready), err)
	}
	zones := map[string]int{}
	for name, n := range ready {
		if n.Labels[sim.LabelHollow] != "true" || n.Annotations[sim.LabelHollow] != "true" || n.Labels["kubernetes.io/os"] != "linux" {
			t.Errorf("%s: labels %v annotations %v", name, n.Labels, n.Annotations)
		}
		if n.Status.Capacity.Cpu().String() != "4" || n.Status.Capacity.Memory().String() != "16Gi" {
			t.Errorf("%s: capacity %v", name, n.Status.Capacity)
		}
		zones[n.Labels[sim.LabelZone]]++
	}
	if len(zones) != 3 {
		t.Errorf("zones %v, want three", zones)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: s.NodeName(3), Containers: []corev1.Container{{Name: "c", Image: "img"}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	plw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "pods", "default", fields.Everything())
	_, err = watchtools.UntilWithSync(wctx, plw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		p, ok := ev.Object.(*corev1.Pod)
		return ok && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "", nil
	})
	if err != nil {
		t.Fatalf("pod Running: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sim: %v", err)
	}
	if err := srv.Wait(); err != nil {
		t.Errorf("server: %v", err)
	}
}

func isReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
