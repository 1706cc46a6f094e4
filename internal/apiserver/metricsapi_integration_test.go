package apiserver_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
	clocktesting "k8s.io/utils/clock/testing"

	agentserver "github.com/skiffkube/skiff/internal/agent/server"
	"github.com/skiffkube/skiff/internal/agent/stats"
	"github.com/skiffkube/skiff/internal/auth/pki"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// metricsNode is a node agent endpoint over the fake runtime, with host
// files the test controls.
type metricsNode struct {
	rt        *fake.Runtime
	collector *stats.Collector
	clock     *clocktesting.FakeClock
	root      string
	port      int
}

// startMetricsNode serves an agent endpoint on loopback that trusts the
// cluster CA of srv, measuring a host of 2 GiB whose root cgroup has used
// cpuSeconds of CPU time and has a 512 MiB working set.
func startMetricsNode(t *testing.T, srv *server.Server) *metricsNode {
	t.Helper()
	now := time.Now()
	ca, err := pki.EnsureCA(filepath.Join(filepath.Dir(srv.KubeconfigPath), "tls"), "skiff-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	n := &metricsNode{clock: clocktesting.NewFakeClock(now), root: t.TempDir()}
	n.rt = fake.New(fake.Config{Clock: n.clock})
	n.writeHost(t, map[string]string{
		"proc/meminfo":                    "MemTotal: 2097152 kB\nMemAvailable: 1048576 kB\n",
		"cg/memory/memory.usage_in_bytes": "603979776\n",
		"cg/memory/memory.stat":           "total_rss 400000000\ntotal_inactive_file 67108864\n",
		"cg/cpuacct/cpuacct.usage":        "1000000000\n",
	})
	n.collector, err = stats.New(stats.Config{NodeName: "n1", Runtime: n.rt, ProcRoot: filepath.Join(n.root, "proc"),
		CgroupRoot: filepath.Join(n.root, "cg"), Clock: n.clock})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := agentserver.SelfSignedCertificate([]string{"127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	as, err := agentserver.New(agentserver.Config{Pods: agentserver.RuntimePods{Runtime: n.rt, DataDir: t.TempDir()},
		Stats: n.collector, Certificate: cert, ClientCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.port = l.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- as.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return n
}

func (n *metricsNode) writeHost(t *testing.T, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(n.root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runPod runs pod's sandbox and one container per spec container in the
// fake runtime, with the pod's annotations (the fake usage).
func (n *metricsNode) runPod(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID)},
		Annotations: pod.Annotations}
	sb, err := n.rt.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pod.Spec.Containers {
		id, err := n.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: c.Name}}, sbCfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.rt.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

func registerNode(t *testing.T, cs kubernetes.Interface, name string, port int) {
	t.Helper()
	ctx := context.Background()
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"role": "metrics"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status = corev1.NodeStatus{
		Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}},
		Conditions:      []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}},
		Capacity:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("2Gi")},
		Allocatable:     corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("2Gi")},
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func createPod(t *testing.T, cs kubernetes.Interface, name string, labels, annotations map[string]string, containers ...string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{NodeName: "n1", AutomountServiceAccountToken: new(bool)}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
	}
	out, err := cs.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMetricsAPI(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler, c.DisableControllerManager = true, true })
	cfg := srv.AdminConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	mc := metricsclient.NewForConfigOrDie(cfg)
	ctx := context.Background()
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	node := startMetricsNode(t, srv)
	registerNode(t, cs, "n1", node.port)
	web := createPod(t, cs, "web", map[string]string{"app": "web"},
		map[string]string{fake.AnnotationCPU + ".app": "250m", fake.AnnotationCPU + ".proxy": "50m", fake.AnnotationMemory: "32Mi"}, "app", "proxy")
	db := createPod(t, cs, "db", map[string]string{"app": "db"}, map[string]string{fake.AnnotationCPU: "1", fake.AnnotationMemory: "1Gi"}, "db")
	createPod(t, cs, "pending", nil, nil, "c") // no containers run: no metrics
	node.runPod(t, web)
	node.runPod(t, db)
	// Prime the node's CPU sample, then let 2 s pass with 3 CPU-seconds
	// used: 1.5 cores.
	if _, err := node.collector.Summary(ctx); err != nil {
		t.Fatal(err)
	}
	node.clock.Step(2 * time.Second)
	node.writeHost(t, map[string]string{"cg/cpuacct/cpuacct.usage": "4000000000\n"})

	pods, err := mc.MetricsV1beta1().PodMetricses("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range pods.Items {
		var parts []string
		for _, c := range p.Containers {
			parts = append(parts, c.Name+"="+c.Usage.Cpu().String()+"/"+c.Usage.Memory().String())
		}
		got[p.Name] = strings.Join(parts, ",")
		if p.Window.Duration <= 0 || p.Timestamp.IsZero() || p.Labels["app"] != p.Name {
			t.Errorf("pod metrics %s: window %v timestamp %v labels %v", p.Name, p.Window, p.Timestamp, p.Labels)
		}
	}
	want := map[string]string{"web": "app=250m/32Mi,proxy=50m/32Mi", "db": "db=1/1Gi"}
	if len(got) != len(want) || got["web"] != want["web"] || got["db"] != want["db"] {
		t.Errorf("pod metrics %v, want %v", got, want)
	}

	sel, err := mc.MetricsV1beta1().PodMetricses("").List(ctx, metav1.ListOptions{LabelSelector: "app=db"})
	if err != nil || len(sel.Items) != 1 || sel.Items[0].Name != "db" {
		t.Errorf("all namespaces, app=db: %+v, %v", sel, err)
	}
	if _, err := mc.MetricsV1beta1().PodMetricses("default").Get(ctx, "pending", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pending pod: %v, want NotFound", err)
	}
	nm, err := mc.MetricsV1beta1().NodeMetricses().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nm.Usage.Cpu().MilliValue() != 1500 || nm.Usage.Memory().Value() != 512<<20 {
		t.Errorf("node usage %v", nm.Usage)
	}
	if _, err := mc.MetricsV1beta1().PodMetricses("default").Watch(ctx, metav1.ListOptions{}); !apierrors.IsMethodNotSupported(err) {
		t.Errorf("watch: %v, want MethodNotSupported", err)
	}

	checkMetricsRBAC(t, srv, cs)

	kubectl := func(args ...string) string {
		bin, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl not installed")
		}
		out, err := exec.Command(bin, append([]string{"--kubeconfig", srv.KubeconfigPath}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
		return strings.Join(strings.Fields(string(out)), " ")
	}
	if out, want := kubectl("top", "pod", "-n", "default"), "NAME CPU(cores) MEMORY(bytes) db 1000m 1024Mi web 300m 64Mi"; out != want {
		t.Errorf("kubectl top pod:\n%s\nwant\n%s", out, want)
	}
	if out, want := kubectl("top", "pod", "web", "--containers"), "POD NAME CPU(cores) MEMORY(bytes) web app 250m 32Mi web proxy 50m 32Mi"; out != want {
		t.Errorf("kubectl top pod --containers:\n%s\nwant\n%s", out, want)
	}
	if out, want := kubectl("get", "pods.metrics.k8s.io", "-n", "default", "-o", "name"), "podmetrics.metrics.k8s.io/db podmetrics.metrics.k8s.io/web"; out != want {
		t.Errorf("kubectl get pods.metrics.k8s.io:\n%s\nwant\n%s", out, want)
	}
	t.Log(kubectl("get", "nodes.metrics.k8s.io"))
	if out := kubectl("api-resources", "--api-group", "metrics.k8s.io"); !strings.Contains(out, "pods metrics.k8s.io/v1beta1 true PodMetrics") {
		t.Errorf("kubectl api-resources: %s", out)
	}
	if out, want := kubectl("top", "node"), "NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%) n1 1500m 37% 512Mi 25%"; out != want {
		t.Errorf("kubectl top node:\n%s\nwant\n%s", out, want)
	}
}

// checkMetricsRBAC checks that the default metrics reader role exists and
// that RBAC judges metrics.k8s.io requests like any other resource.
func checkMetricsRBAC(t *testing.T, srv *server.Server, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	cr, err := cs.RbacV1().ClusterRoles().Get(ctx, "system:aggregated-metrics-reader", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Labels["rbac.authorization.k8s.io/aggregate-to-view"] != "true" || len(cr.Rules) != 1 || cr.Rules[0].APIGroups[0] != "metrics.k8s.io" {
		t.Errorf("system:aggregated-metrics-reader: %+v", cr)
	}
	ca, err := pki.EnsureCA(filepath.Join(filepath.Dir(srv.KubeconfigPath), "tls"), "skiff-ca", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueClientCert("mia", nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(srv.AdminConfig())
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	mia := metricsclient.NewForConfigOrDie(cfg).MetricsV1beta1()
	if _, err := mia.PodMetricses("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("mia before binding: %v, want Forbidden", err)
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "mia-metrics", Namespace: "default"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:aggregated-metrics-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mia"}}}
	if _, err := cs.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var list *metricsv1beta1.PodMetricsList
		if list, lastErr = mia.PodMetricses("default").List(ctx, metav1.ListOptions{}); lastErr == nil {
			if len(list.Items) != 2 {
				t.Errorf("mia sees %d pod metrics, want 2", len(list.Items))
			}
			break
		}
	}
	if lastErr != nil {
		t.Errorf("mia after binding: %v", lastErr)
	}
	if _, err := mia.NodeMetricses().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("mia nodes with a namespaced binding: %v, want Forbidden", err)
	}
}
