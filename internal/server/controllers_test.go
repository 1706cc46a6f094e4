package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// TestNamespaceDefaults checks the controllers that furnish every
// namespace: the default ServiceAccount and the kube-root-ca.crt ConfigMap,
// both recreated after deletion.
func TestNamespaceDefaults(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "furnished"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}) })
	waitFor := func(what string, get func() error) {
		t.Helper()
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			return get() == nil, nil
		})
		if err != nil {
			t.Fatalf("%s never appeared", what)
		}
	}
	getSA := func() error {
		_, err := cs.CoreV1().ServiceAccounts(ns.Name).Get(ctx, "default", metav1.GetOptions{})
		return err
	}
	getCM := func() error {
		cm, err := cs.CoreV1().ConfigMaps(ns.Name).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		if err == nil && string(cm.Data["ca.crt"]) != string(fixture.cfg.TLSClientConfig.CAData) {
			t.Fatalf("kube-root-ca.crt holds %q, want the cluster CA", cm.Data["ca.crt"])
		}
		return err
	}
	waitFor("default ServiceAccount", getSA)
	waitFor("kube-root-ca.crt", getCM)
	if err := cs.CoreV1().ServiceAccounts(ns.Name).Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().ConfigMaps(ns.Name).Delete(ctx, "kube-root-ca.crt", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("recreated default ServiceAccount", getSA)
	waitFor("recreated kube-root-ca.crt", getCM)
}

// TestNodePodCIDRs checks that nodes get distinct pod CIDRs from the
// cluster CIDR, and that a node keeps the one it registered with.
func TestNodePodCIDRs(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.ClusterCIDR = "10.244.0.0/22"
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx := context.Background()
	mk := func(name, cidr string) {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr}}
		if cidr != "" {
			n.Spec.PodCIDRs = []string{cidr}
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("preset", "10.244.0.0/24")
	mk("a", "")
	mk("b", "")
	got := map[string]string{}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		for _, name := range []string{"preset", "a", "b"} {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil || n.Spec.PodCIDR == "" {
				return false, nil
			}
			got[name] = n.Spec.PodCIDR
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("pod CIDRs not assigned: %v", got)
	}
	if got["preset"] != "10.244.0.0/24" || got["a"] == got["b"] || got["a"] == got["preset"] || got["b"] == got["preset"] {
		t.Fatalf("pod CIDRs %v: want distinct, preset kept", got)
	}
}

// TestServiceEndpoints checks that a Service's Endpoints and EndpointSlices
// follow its pods' readiness, and that a selectorless Service's Endpoints
// are mirrored into a slice.
func TestServiceEndpoints(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "svc-endpoints")
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, ip := range []string{"10.244.0.10", "10.244.0.11"} {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		}
		p, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		setPodReady(t, ns, p.Name, ip, i == 0)
	}
	waitEndpoints := func(what string, wantReady, wantNotReady string) {
		t.Helper()
		var last string
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			ep, err := cs.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			sl, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=web"})
			if err != nil {
				return false, nil
			}
			last = summarize(ep, sl.Items)
			return last == fmt.Sprintf("ep ready=%s notready=%s port=8080 | slices ready=%s notready=%s", wantReady, wantNotReady, wantReady, wantNotReady), nil
		})
		if err != nil {
			t.Fatalf("%s: last seen %q", what, last)
		}
	}
	waitEndpoints("initial", "[10.244.0.10]", "[10.244.0.11]")
	setPodReady(t, ns, "web-1", "10.244.0.11", true)
	waitEndpoints("after web-1 ready", "[10.244.0.10 10.244.0.11]", "[]")

	manual := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, manual, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "192.168.5.5"}}, Ports: []corev1.EndpointPort{{Port: 5432, Protocol: corev1.ProtocolTCP}}}}}
	if _, err := cs.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		sl, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=db,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io"})
		return err == nil && len(sl.Items) == 1 && len(sl.Items[0].Endpoints) == 1 && sl.Items[0].Endpoints[0].Addresses[0] == "192.168.5.5", nil
	})
	if err != nil {
		t.Fatal("selectorless Service's Endpoints were not mirrored")
	}
}

func createNamespace(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := fixture.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fixture.cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}) })
	return name
}

// setPodReady writes the status a kubelet would: Running with an IP and
// the Ready condition.
func setPodReady(t *testing.T, ns, name, ip string, ready bool) {
	t.Helper()
	ctx := context.Background()
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	// The scheduler may write the pod meanwhile: retry on conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := fixture.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Status.Phase, p.Status.PodIP, p.Status.PodIPs = corev1.PodRunning, ip, []corev1.PodIP{{IP: ip}}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
		_, err = fixture.cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func summarize(ep *corev1.Endpoints, sl []discoveryv1.EndpointSlice) string {
	var ready, notReady []string
	port := int32(0)
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			ready = append(ready, a.IP)
		}
		for _, a := range s.NotReadyAddresses {
			notReady = append(notReady, a.IP)
		}
		for _, p := range s.Ports {
			port = p.Port
		}
	}
	var sready, snot []string
	for _, s := range sl {
		for _, e := range s.Endpoints {
			if *e.Conditions.Ready {
				sready = append(sready, e.Addresses[0])
			} else {
				snot = append(snot, e.Addresses[0])
			}
		}
	}
	slices.Sort(sready)
	slices.Sort(snot)
	return fmt.Sprintf("ep ready=%v notready=%v port=%d | slices ready=%v notready=%v", ready, notReady, port, sready, snot)
}

// TestNodeDeath lets a node fall silent: it turns Unknown, gets the
// unreachable taints, its pods are marked not ready, an intolerant pod is
// evicted at once and a pod tolerating the taint for 2 s after that.
func TestNodeDeath(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.NodeMonitorGracePeriod = 2 * time.Second
		c.Controllers.NodeMonitorPeriod = 200 * time.Millisecond
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx := context.Background()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dying"}}
	n, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), Reason: "KubeletReady"}}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	mkPod := func(name string, tols []corev1.Toleration) {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: "dying", Tolerations: tols,
			Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
		p, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := cs.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// DefaultTolerationSeconds gives a pod without these tolerations 300 s;
	// zero seconds evicts at once.
	mkPod("intolerant", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](0)}})
	mkPod("patient", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](2)}})
	mkPod("loyal", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}})
	start := time.Now()
	gone := map[string]time.Duration{}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		for _, name := range []string{"intolerant", "patient"} {
			if _, ok := gone[name]; ok {
				continue
			}
			if p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(err) || err == nil && p.DeletionTimestamp != nil {
				gone[name] = time.Since(start)
			}
		}
		return len(gone) == 2, nil
	})
	if err != nil {
		t.Fatalf("evictions incomplete: %v", gone)
	}
	if gone["patient"]-gone["intolerant"] < 1500*time.Millisecond {
		t.Errorf("patient pod evicted %s after the intolerant one, want about 2 s", gone["patient"]-gone["intolerant"])
	}
	n, err = cs.CoreV1().Nodes().Get(ctx, "dying", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var taints []string
	for _, tt := range n.Spec.Taints {
		taints = append(taints, tt.Key+":"+string(tt.Effect))
	}
	if fmt.Sprint(taints) != "[node.kubernetes.io/unreachable:NoSchedule node.kubernetes.io/unreachable:NoExecute]" {
		t.Errorf("taints %v", taints)
	}
	loyal, err := cs.CoreV1().Pods("default").Get(ctx, "loyal", metav1.GetOptions{})
	if err != nil || loyal.DeletionTimestamp != nil {
		t.Fatalf("the pod tolerating forever was evicted: %v", err)
	}
	for _, c := range loyal.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status != corev1.ConditionFalse {
			t.Errorf("pod on the dead node still Ready=%s", c.Status)
		}
	}
}

// TestDisruptionBudgetStatus checks that a budget's status counts the
// ready pods it selects.
func TestDisruptionBudgetStatus(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "pdb-status")
	for i := range 3 {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("db-%d", i), Labels: map[string]string{"app": "db"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		setPodReady(t, ns, p.Name, fmt.Sprintf("10.244.1.%d", i+1), i < 2)
	}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: policyv1.PodDisruptionBudgetSpec{
		MinAvailable: ptr.To(intstr.FromInt32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}
	if _, err := cs.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var last policyv1.PodDisruptionBudgetStatus
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		got, err := cs.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = got.Status
		return last.ObservedGeneration == got.Generation && last.CurrentHealthy == 2 && last.DesiredHealthy == 1 && last.DisruptionsAllowed == 1 && last.ExpectedPods == 3, nil
	})
	if err != nil {
		t.Fatalf("budget status %+v: want healthy 2, desired 1, allowed 1, expected 3", last)
	}
	// The budget allows one eviction; the next one is refused with 429
	// until the evicted pod is replaced.
	evict := func(name string) error {
		return cs.CoreV1().Pods(ns).EvictV1(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
	}
	if err := evict("db-0"); err != nil {
		t.Fatalf("first eviction: %v", err)
	}
	err = evict("db-1")
	if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "Cannot evict pod as it would violate the pod's disruption budget") {
		t.Fatalf("second eviction: %v, want 429 from the disruption budget", err)
	}
	if p, err := cs.CoreV1().Pods(ns).Get(ctx, "db-1", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Fatalf("db-1 after a refused eviction: %v %v", err, p.DeletionTimestamp)
	}
}

// TestResourceQuotaUsage checks that a quota's status reports the
// namespace's usage and follows changes.
func TestResourceQuotaUsage(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "quota-usage")
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("4"), "configmaps": resource.MustParse("10"),
	}}}
	if _, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i)}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "x", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}}}}}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(pods, cpu string) {
		t.Helper()
		var last corev1.ResourceQuotaStatus
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			got, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "q", metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			last = got.Status
			p, c := last.Used["pods"], last.Used["requests.cpu"]
			// configmaps: kube-root-ca.crt, published by its controller.
			cm := last.Used["configmaps"]
			return p.Cmp(resource.MustParse(pods)) == 0 && c.Cmp(resource.MustParse(cpu)) == 0 && cm.Value() == 1, nil
		})
		if err != nil {
			t.Fatalf("quota used %v, want pods=%s requests.cpu=%s configmaps=1", last.Used, pods, cpu)
		}
	}
	want("2", "500m")
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "p0", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	want("1", "250m")
}
