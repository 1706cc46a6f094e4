package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const manifest = `apiVersion: v1
kind: Namespace
metadata:
  name: e2e-apply
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: e2e-apply
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e-apply
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: e2e-apply
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 80
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestApplyTwiceAndGet(t *testing.T) {
	needKubectl(t)
	s := suite.server
	file := writeFile(t, "app.yaml", manifest)
	first := s.must(t, "apply", "-f", file)
	for _, want := range []string{"namespace/e2e-apply created", "configmap/settings created", "deployment.apps/web created", "service/web created"} {
		wantContains(t, "first apply", first, want)
	}
	second := s.must(t, "apply", "-f", file)
	lines := strings.Split(strings.TrimSpace(second), "\n")
	if len(lines) != 4 {
		t.Fatalf("second apply printed %d lines, want 4:\n%s", len(lines), second)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, " unchanged") && !strings.HasSuffix(l, " configured") {
			t.Errorf("second apply: %q is neither unchanged nor configured", l)
		}
	}

	t.Run("table", func(t *testing.T) {
		out := s.must(t, "get", "deployments", "-n", "e2e-apply")
		if got, want := header(out), []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}; !slices.Equal(got, want) {
			t.Errorf("deployment columns = %v, want %v", got, want)
		}
		wantContains(t, "deployment row", out, "web", "0/1")
		out = s.must(t, "get", "services", "-n", "e2e-apply")
		if got, want := header(out), []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}; !slices.Equal(got, want) {
			t.Errorf("service columns = %v, want %v", got, want)
		}
		wantContains(t, "service row", out, "ClusterIP", "80/TCP")
		out = s.must(t, "get", "namespaces")
		wantContains(t, "namespaces", out, "default", "kube-system", "kube-public", "kube-node-lease", "e2e-apply", "Active")
	})
	t.Run("yaml", func(t *testing.T) {
		out := s.must(t, "get", "deployment", "web", "-n", "e2e-apply", "-o", "yaml")
		// Defaults as upstream sets them.
		wantContains(t, "deployment yaml", out, "kind: Deployment", "replicas: 1", "revisionHistoryLimit: 10",
			"progressDeadlineSeconds: 600", "maxSurge: 25%", "maxUnavailable: 25%", "imagePullPolicy: IfNotPresent",
			"terminationMessagePath: /dev/termination-log", "kubectl.kubernetes.io/last-applied-configuration")
	})
	t.Run("jsonpath", func(t *testing.T) {
		out := s.must(t, "get", "deployment", "web", "-n", "e2e-apply", "-o", "jsonpath={.spec.replicas}/{.spec.strategy.type}/{.metadata.generation}")
		if out != "1/RollingUpdate/1" {
			t.Errorf("jsonpath = %q, want 1/RollingUpdate/1", out)
		}
		ip := s.must(t, "get", "service", "web", "-n", "e2e-apply", "-o", "jsonpath={.spec.clusterIP}")
		if !strings.HasPrefix(ip, "10.") {
			t.Errorf("service cluster IP = %q, want an address of 10.96.0.0/12", ip)
		}
	})
	t.Run("describe", func(t *testing.T) {
		out := s.must(t, "describe", "deployment", "web", "-n", "e2e-apply")
		wantContains(t, "describe", out, "Name:", "web", "Namespace:", "e2e-apply", "StrategyType:", "RollingUpdate",
			"25% max unavailable, 25% max surge", "nginx:1.27")
		out = s.must(t, "describe", "configmap", "settings", "-n", "e2e-apply")
		wantContains(t, "describe configmap", out, "color", "blue")
	})
}

func TestGetWatch(t *testing.T) {
	needKubectl(t)
	s := suite.server
	s.must(t, "create", "namespace", "e2e-watch")
	s.must(t, "create", "configmap", "before", "--from-literal=a=1", "-n", "e2e-watch")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// kube-root-ca.crt, published in every namespace by a controller, may
	// arrive at any time: leave it out.
	cmd := exec.CommandContext(ctx, suite.kubectl, "--kubeconfig", s.kubeconfig, "get", "configmaps", "-n", "e2e-watch", "-w",
		"--field-selector", "metadata.name!=kube-root-ca.crt")
	cmd.Env = append(os.Environ(), "HOME="+suite.home, "KUBECONFIG=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("kubectl get -w ended early")
			}
			return l
		case <-ctx.Done():
			t.Fatal("timed out reading kubectl get -w")
		}
		return ""
	}
	if h := strings.Fields(next()); !slices.Equal(h, []string{"NAME", "DATA", "AGE"}) {
		t.Errorf("watch header = %v", h)
	}
	if l := next(); !strings.HasPrefix(l, "before ") {
		t.Errorf("first watch row = %q, want the existing configmap", l)
	}
	s.must(t, "create", "configmap", "after", "--from-literal=a=1", "--from-literal=b=2", "-n", "e2e-watch")
	if f := strings.Fields(next()); len(f) < 2 || f[0] != "after" || f[1] != "2" {
		t.Errorf("watch row for the new configmap = %v, want after with 2 keys", f)
	}
}

func TestMutatingCommands(t *testing.T) {
	needKubectl(t)
	s := suite.server
	s.must(t, "create", "namespace", "e2e-mut")
	ns := []string{"-n", "e2e-mut"}
	out := s.must(t, append([]string{"create", "configmap", "cm", "--from-literal=k=v"}, ns...)...)
	wantContains(t, "create configmap", out, "configmap/cm created")
	out = s.must(t, append([]string{"create", "secret", "generic", "sec", "--from-literal=password=s3cret"}, ns...)...)
	wantContains(t, "create secret", out, "secret/sec created")
	// "s3cret" in base64.
	if got := s.must(t, append([]string{"get", "secret", "sec", "-o", "jsonpath={.data.password} {.type}"}, ns...)...); got != "czNjcmV0 Opaque" {
		t.Errorf("secret = %q", got)
	}
	get := func(path string) string {
		t.Helper()
		return s.must(t, append([]string{"get", "configmap", "cm", "-o", "jsonpath=" + path}, ns...)...)
	}

	s.must(t, append([]string{"label", "configmap", "cm", "tier=backend"}, ns...)...)
	s.must(t, append([]string{"annotate", "configmap", "cm", "owner=team-a"}, ns...)...)
	if got := get("{.metadata.labels.tier} {.metadata.annotations.owner}"); got != "backend team-a" {
		t.Errorf("after label+annotate: %q", got)
	}
	if got := s.must(t, append([]string{"get", "configmap", "-l", "tier=backend", "-o", "name"}, ns...)...); strings.TrimSpace(got) != "configmap/cm" {
		t.Errorf("label selector found %q", got)
	}
	s.must(t, append([]string{"label", "configmap", "cm", "tier-"}, ns...)...)
	if got := get("{.metadata.labels}"); strings.Contains(got, "tier") {
		t.Errorf("label not removed: %q", got)
	}

	s.must(t, append([]string{"patch", "configmap", "cm", "--type", "json", "-p", `[{"op":"add","path":"/data/j","value":"json"}]`}, ns...)...)
	s.must(t, append([]string{"patch", "configmap", "cm", "--type", "merge", "-p", `{"data":{"m":"merge","k":null}}`}, ns...)...)
	if got := get("{.data}"); got != `{"j":"json","m":"merge"}` {
		t.Errorf("after json+merge patches data = %s", got)
	}
	_, errOut, err := s.kubectl("", nil, append([]string{"patch", "configmap", "cm", "--type", "json", "-p", `[{"op":"test","path":"/data/j","value":"nope"}]`}, ns...)...)
	if err == nil {
		t.Error("a failing json patch test operation succeeded")
	}
	wantContains(t, "failed json patch", errOut, "invalid")

	s.must(t, append([]string{"create", "deployment", "app", "--image=nginx:1.27"}, ns...)...)
	s.must(t, append([]string{"patch", "deployment", "app", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}`}, ns...)...)
	dep := func(path string) string {
		t.Helper()
		return s.must(t, append([]string{"get", "deployment", "app", "-o", "jsonpath=" + path}, ns...)...)
	}
	// The strategic merge patch merged the container by name.
	if got := dep("{.spec.template.spec.containers[*].name}={.spec.template.spec.containers[*].image} gen={.metadata.generation}"); got != "nginx=nginx:1.28 gen=2" {
		t.Errorf("after strategic patch: %q", got)
	}

	script := writeFile(t, "editor.sh", "#!/bin/sh\nsed -i 's/nginx:1.28/nginx:1.29/' \"$1\"\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, err = s.kubectl("", []string{"KUBE_EDITOR=" + script}, append([]string{"edit", "deployment", "app"}, ns...)...)
	if err != nil {
		t.Fatalf("kubectl edit: %v\n%s%s", err, out, errOut)
	}
	wantContains(t, "edit", out, "deployment.apps/app edited")
	if got := dep("{.spec.template.spec.containers[0].image}"); got != "nginx:1.29" {
		t.Errorf("after edit image = %q", got)
	}

	wantContains(t, "scale", s.must(t, append([]string{"scale", "deployment", "app", "--replicas=3"}, ns...)...), "deployment.apps/app scaled")
	if got := dep("{.spec.replicas}"); got != "3" {
		t.Errorf("after scale replicas = %q", got)
	}

	live := s.must(t, append([]string{"get", "deployment", "app", "-o", "yaml"}, ns...)...)
	file := writeFile(t, "app.yaml", strings.Replace(live, "nginx:1.29", "nginx:1.30", 1))
	wantContains(t, "replace", s.must(t, "replace", "-f", file), "deployment.apps/app replaced")
	if got := dep("{.spec.template.spec.containers[0].image}"); got != "nginx:1.30" {
		t.Errorf("after replace image = %q", got)
	}
	// The file now holds a stale resourceVersion: a second replace conflicts.
	_, errOut, err = s.kubectl("", nil, "replace", "-f", file)
	if err == nil || !strings.Contains(errOut, "the object has been modified") {
		t.Errorf("replace with a stale resourceVersion: err=%v stderr=%s", err, errOut)
	}
}

func TestDiffAndWait(t *testing.T) {
	needKubectl(t)
	s := suite.server
	s.must(t, "create", "namespace", "e2e-diff")
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  namespace: e2e-diff\ndata:\n  k: one\n"
	file := writeFile(t, "d.yaml", doc)
	s.must(t, "apply", "-f", file)
	if out, errOut, err := s.kubectl("", nil, "diff", "-f", file); err != nil {
		t.Errorf("diff of an unchanged object: %v\n%s%s", err, out, errOut)
	}
	changed := writeFile(t, "d2.yaml", strings.Replace(doc, "k: one", "k: two", 1))
	out, errOut, err := s.kubectl("", nil, "diff", "-f", changed)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("diff of a changed object: err=%v (want exit 1)\n%s", err, errOut)
	}
	wantContains(t, "diff", out, "-  k: one", "+  k: two")
	// diff is a dry run: nothing changed.
	if got := s.must(t, "get", "configmap", "d", "-n", "e2e-diff", "-o", "jsonpath={.data.k}"); got != "one" {
		t.Errorf("after diff k = %q", got)
	}

	s.must(t, "apply", "-f", changed)
	out = s.must(t, "wait", "--for=jsonpath={.data.k}=two", "configmap/d", "-n", "e2e-diff", "--timeout=20s")
	wantContains(t, "wait", out, "condition met")
	_, _, err = s.kubectl("", nil, "wait", "--for=jsonpath={.data.k}=three", "configmap/d", "-n", "e2e-diff", "--timeout=2s")
	if err == nil {
		t.Error("wait for a value that never comes succeeded")
	}
}

func TestServerSideApply(t *testing.T) {
	needKubectl(t)
	s := suite.server
	s.must(t, "create", "namespace", "e2e-ssa")
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: e2e-ssa\ndata:\n  k: alice\n"
	out := s.must(t, "apply", "--server-side", "--field-manager=alice", "-f", writeFile(t, "a.yaml", doc))
	wantContains(t, "first server-side apply", out, "configmap/shared serverside-applied")
	bob := writeFile(t, "b.yaml", strings.Replace(doc, "k: alice", "k: bob", 1))
	_, errOut, err := s.kubectl("", nil, "apply", "--server-side", "--field-manager=bob", "-f", bob)
	if err == nil {
		t.Fatal("conflicting server-side apply succeeded")
	}
	wantContains(t, "conflict", errOut, "conflict", `"alice"`, ".data.k")
	out = s.must(t, "apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", bob)
	wantContains(t, "forced apply", out, "serverside-applied")
	got := s.must(t, "get", "configmap", "shared", "-n", "e2e-ssa", "-o", "jsonpath={.data.k} {.metadata.managedFields[*].manager}")
	if got != "bob bob" {
		t.Errorf("after forced apply: %q, want bob owning .data.k alone", got)
	}
}

func TestDeleteCascade(t *testing.T) {
	needKubectl(t)
	s := suite.server
	s.must(t, "create", "namespace", "e2e-del")
	ns := []string{"-n", "e2e-del"}
	// owner creates a ConfigMap owning one Secret, which optionally holds
	// a finalizer, and returns nothing: kubectl gets the UID.
	owner := func(name, finalizer string) {
		s.must(t, append([]string{"create", "configmap", name}, ns...)...)
		uid := s.must(t, append([]string{"get", "configmap", name, "-o", "jsonpath={.metadata.uid}"}, ns...)...)
		fin := ""
		if finalizer != "" {
			fin = "\n  finalizers: [" + finalizer + "]"
		}
		s.mustIn(t, fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s-dep
  namespace: e2e-del%s
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: %s, uid: %s, blockOwnerDeletion: true}
`, name, fin, name, strings.TrimSpace(uid)), "apply", "-f", "-")
	}

	// Background: the owner goes at once, the collector removes the dependent.
	owner("bg", "")
	out := s.must(t, append([]string{"delete", "configmap", "bg", "--cascade=background"}, ns...)...)
	wantContains(t, "delete background", out, `configmap "bg" deleted`)
	s.must(t, append([]string{"wait", "--for=delete", "secret/bg-dep", "--timeout=30s"}, ns...)...)

	// Foreground: the owner stays, marked, while a blocking dependent exists.
	owner("fg", "e2e.skiff.io/hold")
	s.must(t, append([]string{"delete", "configmap", "fg", "--cascade=foreground", "--wait=false"}, ns...)...)
	got := s.must(t, append([]string{"get", "configmap", "fg", "-o", "jsonpath={.metadata.finalizers} {.metadata.deletionTimestamp}"}, ns...)...)
	fin, ts, _ := strings.Cut(got, " ")
	if !strings.Contains(fin, "foregroundDeletion") || ts == "" {
		t.Errorf("fg: finalizers=%s deletionTimestamp=%q, want foregroundDeletion and a timestamp", fin, ts)
	}
	// Releasing the dependent lets the whole deletion finish.
	s.must(t, append([]string{"patch", "secret", "fg-dep", "--type", "merge", "-p", `{"metadata":{"finalizers":null}}`}, ns...)...)
	s.must(t, append([]string{"wait", "--for=delete", "configmap/fg", "secret/fg-dep", "--timeout=30s"}, ns...)...)

	// Orphan: the owner goes, the dependent stays without its owner reference.
	owner("orphan", "")
	s.must(t, append([]string{"delete", "configmap", "orphan", "--cascade=orphan", "--timeout=30s"}, ns...)...)
	refs := s.must(t, append([]string{"get", "secret", "orphan-dep", "-o", "jsonpath={.metadata.ownerReferences}"}, ns...)...)
	if strings.TrimSpace(refs) != "" {
		t.Errorf("orphaned secret still has owner references: %s", refs)
	}
}

func TestDiscoveryCommands(t *testing.T) {
	needKubectl(t)
	s := suite.server
	out := s.must(t, "api-resources")
	if got, want := header(out), []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"}; !slices.Equal(got, want) {
		t.Errorf("api-resources columns = %v", got)
	}
	for _, row := range [][]string{
		{"pods", "po", "v1", "true", "Pod"},
		{"deployments", "deploy", "apps/v1", "true", "Deployment"},
		{"cronjobs", "cj", "batch/v1", "true", "CronJob"},
		{"leases", "coordination.k8s.io/v1", "true", "Lease"},
		{"clusterroles", "rbac.authorization.k8s.io/v1", "false", "ClusterRole"},
		{"horizontalpodautoscalers", "hpa", "autoscaling/v2", "true", "HorizontalPodAutoscaler"},
		{"endpointslices", "discovery.k8s.io/v1", "true", "EndpointSlice"},
	} {
		if !hasRow(out, row) {
			t.Errorf("api-resources lacks row %v", row)
		}
	}
	out = s.must(t, "api-versions")
	for _, v := range []string{"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "coordination.k8s.io/v1",
		"discovery.k8s.io/v1", "events.k8s.io/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1"} {
		if !slices.Contains(strings.Fields(out), v) {
			t.Errorf("api-versions lacks %s", v)
		}
	}
	out = s.must(t, "explain", "pod.spec.containers")
	wantContains(t, "explain", out, "KIND:", "Pod", "containers", "image", "imagePullPolicy", "livenessProbe")
	out = s.must(t, "explain", "deployment.spec.strategy.rollingUpdate.maxSurge")
	wantContains(t, "explain deployment", out, "apps", "maxSurge")
}

func hasRow(table string, row []string) bool {
	for _, l := range strings.Split(table, "\n") {
		if slices.Equal(strings.Fields(l), row) {
			return true
		}
	}
	return false
}

func TestRestartAfterSIGTERM(t *testing.T) {
	needKubectl(t)
	dir := filepath.Join(t.TempDir(), "restart")
	p, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	p.must(t, "create", "namespace", "keep")
	p.must(t, "create", "configmap", "kept", "--from-literal=x=y", "-n", "keep")
	uid := p.must(t, "get", "configmap", "kept", "-n", "keep", "-o", "jsonpath={.metadata.uid}")
	if err := p.stop(); err != nil {
		t.Fatalf("%v\n%s", err, p.logs())
	}
	wantContains(t, "server log", p.logs(), "stopped")
	// A second start on the same data dir (and port, so the kubeconfig
	// keeps working) serves the same objects.
	p2, err := startServerOn(dir, p.port)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p2.stop(); err != nil {
			t.Errorf("stopping the restarted server: %v", err)
		}
	}()
	if got := p2.must(t, "get", "configmap", "kept", "-n", "keep", "-o", "jsonpath={.metadata.uid} {.data.x}"); got != uid+" y" {
		t.Errorf("after restart: %q, want %q", got, uid+" y")
	}
	if got := p2.must(t, "get", "namespace", "default", "-o", "name"); strings.TrimSpace(got) != "namespace/default" {
		t.Errorf("default namespace after restart: %q", got)
	}
}

func TestPodsTableDescribeAndDeleteAll(t *testing.T) {
	needKubectl(t)
	s := suite.server
	s.must(t, "create", "namespace", "e2e-pods")
	pod := `apiVersion: v1
kind: Pod
metadata:
  name: p1
  namespace: e2e-pods
spec:
  nodeName: node-x
  containers:
  - name: c
    image: busybox:1.36
`
	s.must(t, "apply", "-f", writeFile(t, "pod.yaml", pod))
	out := s.must(t, "get", "pods", "-n", "e2e-pods")
	if got, want := header(out), []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}; !slices.Equal(got, want) {
		t.Errorf("pod columns = %v, want %v", got, want)
	}
	wantContains(t, "pod row", out, "p1", "0/1", "Pending")
	out = s.must(t, "get", "pods", "-n", "e2e-pods", "-o", "wide")
	h := header(out)
	if !slices.Contains(h, "IP") || !slices.Contains(h, "NODE") {
		t.Errorf("-o wide columns = %v, want IP and NODE", h)
	}
	wantContains(t, "wide row", out, "node-x")
	out = s.must(t, "describe", "pod", "p1", "-n", "e2e-pods")
	wantContains(t, "describe pod", out, "Name:", "p1", "Node:", "node-x", "busybox:1.36", "Events:")

	for _, name := range []string{"x1", "x2", "x3"} {
		s.must(t, "create", "configmap", name, "-n", "e2e-pods")
	}
	s.must(t, "label", "configmap", "x1", "x2", "-n", "e2e-pods", "group=a")
	out = s.must(t, "delete", "configmaps", "-l", "group=a", "-n", "e2e-pods")
	wantContains(t, "delete by label", out, `configmap "x1" deleted`, `configmap "x2" deleted`)
	out = s.must(t, "get", "configmaps", "-n", "e2e-pods", "-o", "name")
	if strings.Contains(out, "x1") || strings.Contains(out, "x2") || !strings.Contains(out, "configmap/x3") {
		t.Errorf("configmaps after delete -l: %s", out)
	}
	// A bound pod is deleted gracefully; --grace-period=0 --force ends it.
	s.must(t, "delete", "pod", "p1", "-n", "e2e-pods", "--wait=false")
	ts := s.must(t, "get", "pod", "p1", "-n", "e2e-pods", "-o", "jsonpath={.metadata.deletionGracePeriodSeconds}")
	if ts != "30" {
		t.Errorf("bound pod deletionGracePeriodSeconds = %q, want 30", ts)
	}
	s.must(t, "delete", "pod", "p1", "-n", "e2e-pods", "--grace-period=0", "--force")
	if _, errOut, err := s.kubectl("", nil, "get", "pod", "p1", "-n", "e2e-pods"); err == nil || !strings.Contains(errOut, "NotFound") {
		t.Errorf("pod after forced delete: %v %s", err, errOut)
	}
}
