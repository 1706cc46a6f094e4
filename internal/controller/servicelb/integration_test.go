package servicelb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/skiffkube/skiff/internal/server/servertest"
)

// TestLoadBalancerGetsNodeAddresses: with the server's controllers
// running, a LoadBalancer Service gets the ready node's address as its
// ingress, and a second node that becomes ready is added.
func TestLoadBalancerGetsNodeAddresses(t *testing.T) {
	srv := servertest.Start(t)
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	readyNode := func(name, ip string) {
		t.Helper()
		if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The node lifecycle controller writes the node too.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
			_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readyNode("lb-a", "192.0.2.10")
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress := func(want ...string) {
		t.Helper()
		var got []string
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			s, err := cs.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			got = nil
			for _, i := range s.Status.LoadBalancer.Ingress {
				got = append(got, i.IP)
			}
			return slices.Equal(got, want), nil
		})
		if err != nil {
			t.Fatalf("ingress %v, want %v: %v", got, want, err)
		}
	}
	waitIngress("192.0.2.10")
	readyNode("lb-b", "192.0.2.11")
	waitIngress("192.0.2.10", "192.0.2.11")
}
