package multinode

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const webManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: app
        image: registry.skiff.local/skiff-test:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: mn-1
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: registry.skiff.local/skiff-test:1
    args: ["-port", "8081"]
`

// TestServicesAcrossNodes runs a Deployment of the test server over two
// nodes behind a Service and reaches it from a pod, through the VIP, the
// DNS name and a NodePort.
func TestServicesAcrossNodes(t *testing.T) {
	c := startCluster(t, 2)
	c.apply(t, webManifest)
	c.must(t, "rollout", "status", "deployment/web", "--timeout=180s")
	c.must(t, "wait", "--for=condition=Ready", "pod/client", "--timeout=120s")
	pods := c.webPods(t)
	if len(pods) != 3 {
		t.Fatalf("web pods %v, want 3", pods)
	}
	nodes := strings.Fields(c.must(t, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}"))
	if slices.Sort(nodes); len(slices.Compact(nodes)) != 2 {
		t.Fatalf("web pods on nodes %v, want both nodes", nodes)
	}
	vip := c.must(t, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")

	t.Run("VIP reaches every backend", func(t *testing.T) {
		c.wantBackends(t, "http://"+vip+"/hostname", pods)
	})
	t.Run("pod addresses cross nodes unmasqueraded", func(t *testing.T) {
		c.wantPodSourceKept(t)
	})
	t.Run("DNS name reaches every backend", func(t *testing.T) {
		c.wantBackends(t, "http://web.default.svc.cluster.local/hostname", pods)
		c.wantBackends(t, "http://web/hostname", pods)
	})
	t.Run("NodePort from the host", func(t *testing.T) {
		c.must(t, "patch", "svc", "web", "-p", `{"spec":{"type":"NodePort"}}`)
		port := c.must(t, "get", "svc", "web", "-o", "jsonpath={.spec.ports[0].nodePort}")
		for _, a := range c.agents {
			seen := map[string]bool{}
			deadline := time.Now().Add(20 * time.Second)
			for len(seen) < len(pods) && time.Now().Before(deadline) {
				if name, err := httpGet(fmt.Sprintf("http://%s:%s/hostname", a.ip, port)); err == nil {
					seen[name] = true
				}
			}
			if !sameSet(seen, pods) {
				t.Errorf("NodePort on %s answered by %v, want %v", a.name, keys(seen), pods)
			}
		}
	})
	t.Run("no endpoints: connections fail fast", func(t *testing.T) {
		c.must(t, "scale", "deployment/web", "--replicas=0")
		c.waitReadyEndpoints(t, "web", 0)
		// kubectl exec alone takes a while on a busy machine: measure it
		// to subtract it.
		start := time.Now()
		c.must(t, "exec", "client", "--", "/testserver", "echo")
		overhead := time.Since(start)
		start = time.Now()
		answers, err := c.fetch("http://"+vip+"/hostname", 1)
		took := time.Since(start) - overhead
		if err == nil {
			t.Fatalf("answered %v with no endpoints", answers)
		}
		// Rejected (TCP reset or ICMP), not dropped: a drop would wait for
		// the client's 5 s timeout.
		msg := err.Error()
		if !strings.Contains(msg, "refused") && !strings.Contains(msg, "unreachable") && !strings.Contains(msg, "no route") {
			t.Errorf("the connection was not rejected: %v", err)
		}
		if took > 2*time.Second {
			t.Errorf("the failure took %s more than a kubectl exec: %v", took, err)
		}
		t.Logf("failed in %s (beyond kubectl exec's %s): %v", took.Round(time.Millisecond), overhead.Round(time.Millisecond), err)
		c.must(t, "scale", "deployment/web", "--replicas=3")
		c.must(t, "rollout", "status", "deployment/web", "--timeout=120s")
		c.waitReadyEndpoints(t, "web", 3)
	})
	t.Run("a deleted pod leaves rotation within 2s", func(t *testing.T) {
		victim := c.webPods(t)[0]
		c.must(t, "delete", "pod", victim, "--wait=false")
		time.Sleep(2 * time.Second)
		answers, err := c.fetch("http://"+vip+"/hostname", 20)
		if err != nil {
			t.Fatalf("a request failed after %d answers: %v", len(answers), err)
		}
		if slices.Contains(answers, victim) {
			t.Fatalf("deleted pod %s still answered 2s later: %v", victim, answers)
		}
		c.must(t, "rollout", "status", "deployment/web", "--timeout=120s")
		c.waitReadyEndpoints(t, "web", 3)
	})
	t.Run("ClientIP affinity sticks", func(t *testing.T) {
		c.must(t, "patch", "svc", "web", "-p", `{"spec":{"sessionAffinity":"ClientIP"}}`)
		var seen map[string]bool
		for range 5 { // until the proxy has the change
			answers, err := c.fetch("http://"+vip+"/hostname", 10)
			if err != nil {
				t.Fatal(err)
			}
			seen = map[string]bool{}
			for _, a := range answers {
				seen[a] = true
			}
			if len(seen) == 1 {
				return
			}
			time.Sleep(time.Second)
		}
		t.Fatalf("with ClientIP affinity, answered by %v", keys(seen))
	})
	t.Run("DNS over UDP and TCP", func(t *testing.T) {
		for _, network := range []string{"udp", "tcp"} {
			for i := range c.agents {
				got, err := c.lookup(i+1, network, kubeDNS, "web.default.svc.cluster.local", dns.TypeA)
				if err != nil || !slices.Equal(got, []string{vip}) {
					t.Errorf("A web from %s over %s = %v, %v; want %s", c.agents[i].name, network, got, err, vip)
				}
			}
		}
	})
	t.Run("headless Service and SRV records", func(t *testing.T) {
		c.apply(t, `apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
`)
		ips := strings.Fields(c.must(t, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"))
		slices.Sort(ips)
		var a, srv []string
		var err error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			a, err = c.lookup(1, "udp", kubeDNS, "web-headless.default.svc.cluster.local", dns.TypeA)
			if err == nil && slices.Equal(a, ips) {
				break
			}
		}
		if !slices.Equal(a, ips) {
			t.Fatalf("A web-headless = %v, %v; want the pod IPs %v", a, err, ips)
		}
		srv, err = c.lookup(2, "tcp", kubeDNS, "_http._tcp.web-headless.default.svc.cluster.local", dns.TypeSRV)
		if err != nil || len(srv) != 3 {
			t.Fatalf("SRV _http._tcp.web-headless = %v, %v; want 3 records", srv, err)
		}
		for _, r := range srv {
			if !strings.HasPrefix(r, "8080 ") || !strings.HasSuffix(r, ".web-headless.default.svc.cluster.local") {
				t.Errorf("SRV record %q: want port 8080 and a target in web-headless", r)
			}
		}
	})
}

// wantPodSourceKept counts, on node 2, packets arriving from node 1's
// pod CIDR while the client pod (on node 1) calls a web pod on node 2
// directly: pod-to-pod traffic between nodes keeps the pod's address.
func (c *cluster) wantPodSourceKept(t *testing.T) {
	t.Helper()
	var target string
	out := c.must(t, "get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP}{"\n"}{end}`)
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == c.agents[1].name {
			target = f[1]
		}
	}
	from := c.must(t, "get", "node", c.agents[0].name, "-o", "jsonpath={.spec.podCIDR}")
	const table = "skmn-count"
	nft := func(args ...string) string {
		t.Helper()
		out, err := c.net.inHost(2, "nft", args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	nft("add", "table", "ip", table)
	defer nft("delete", "table", "ip", table)
	nft("add", "chain", "ip", table, "c", "{ type filter hook prerouting priority 0; }")
	nft("add", "rule", "ip", table, "c", "iifname", "eth0", "ip", "saddr", from, "ip", "daddr", target, "counter")
	if answers, err := c.fetch("http://"+target+":8080/hostname", 1); err != nil {
		t.Fatalf("client to %s: %v (%v)", target, err, answers)
	}
	if listing := nft("list", "table", "ip", table); strings.Contains(listing, "packets 0 ") {
		t.Fatalf("no packet from %s reached node 2 with its pod address:\n%s", from, listing)
	}
}

// waitReadyEndpoints waits until svc's EndpointSlices hold n ready
// endpoints.
func (c *cluster) waitReadyEndpoints(t *testing.T, svc string, n int) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		out, _, err := c.kubectl("", "get", "endpointslices", "-l", "kubernetes.io/service-name="+svc,
			"-o", `jsonpath={range .items[*].endpoints[*]}{.conditions.ready}{"\n"}{end}`)
		if got = strings.Count(out, "true"); err == nil && got == n {
			return
		}
	}
	t.Fatalf("service %s has %d ready endpoints, want %d", svc, got, n)
}

// webPods returns the names of the web pods.
func (c *cluster) webPods(t *testing.T) []string {
	t.Helper()
	return strings.Fields(c.must(t, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"))
}

// fetch makes n requests to url from the client pod, each in its own
// process (the test server's client; busybox's static wget cannot
// resolve names), so each opens its own connection and the proxy picks a
// backend for each. It returns the answers, and an error if any failed.
func (c *cluster) fetch(url string, n int) ([]string, error) {
	const parallel = 5
	var (
		mu      sync.Mutex
		answers []string
		errs    []error
		wg      sync.WaitGroup
		slots   = make(chan struct{}, parallel)
	)
	for range n {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			out, errOut, err := c.kubectl("", "exec", "client", "--", "/testserver", "get", url)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s", err, strings.TrimSpace(errOut)))
				return
			}
			answers = append(answers, strings.TrimSpace(out))
		}()
	}
	wg.Wait()
	return answers, errors.Join(errs...)
}

// wantBackends fails unless requests to url from the client pod, all
// answered, reach every pod in want.
func (c *cluster) wantBackends(t *testing.T, url string, want []string) {
	t.Helper()
	answers, err := c.fetch(url, 20)
	if err != nil {
		t.Errorf("%s: a request failed after %d answers: %v", url, len(answers), err)
		return
	}
	seen := map[string]bool{}
	for _, a := range answers {
		seen[a] = true
	}
	if !sameSet(seen, want) {
		t.Errorf("%s answered by %v, want %v", url, keys(seen), want)
	}
}

func httpGet(url string) (string, error) {
	// A connection per request, so that each picks a backend.
	client := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

func sameSet(seen map[string]bool, want []string) bool {
	if len(seen) != len(want) {
		return false
	}
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
