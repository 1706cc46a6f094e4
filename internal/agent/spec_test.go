package agent

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/skiffkube/skiff/internal/runtime"
)

func res(req, lim map[corev1.ResourceName]string) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{}
	for k, v := range req {
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[k] = resource.MustParse(v)
	}
	for k, v := range lim {
		if r.Limits == nil {
			r.Limits = corev1.ResourceList{}
		}
		r.Limits[k] = resource.MustParse(v)
	}
	return r
}

func TestContainerResources(t *testing.T) {
	cpu, mem := corev1.ResourceCPU, corev1.ResourceMemory
	gi := int64(1 << 30)
	tests := []struct {
		name string
		r    corev1.ResourceRequirements
		want runtime.Resources
	}{
		{"best effort", res(nil, nil), runtime.Resources{CPUShares: 2, OOMScoreAdj: 1000}},
		{"tiny request", res(map[corev1.ResourceName]string{cpu: "1m"}, nil), runtime.Resources{CPUShares: 2, OOMScoreAdj: 999}},
		{"burstable", res(map[corev1.ResourceName]string{cpu: "250m", mem: "256Mi"}, map[corev1.ResourceName]string{cpu: "500m", mem: "512Mi"}),
			runtime.Resources{CPUShares: 256, CPUPeriod: 100000, CPUQuota: 50000, MemoryLimitBytes: 512 << 20, OOMScoreAdj: 1000 - 1000*(256<<20)/gi}},
		{"guaranteed", res(map[corev1.ResourceName]string{cpu: "2", mem: "1Gi"}, map[corev1.ResourceName]string{cpu: "2", mem: "1Gi"}),
			runtime.Resources{CPUShares: 2048, CPUPeriod: 100000, CPUQuota: 200000, MemoryLimitBytes: gi, OOMScoreAdj: -997}},
		{"limit only", res(nil, map[corev1.ResourceName]string{cpu: "1m"}), runtime.Resources{CPUShares: 2, CPUPeriod: 100000, CPUQuota: 1000, OOMScoreAdj: 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod()
			pod.Status.QOSClass = ""
			pod.Spec.Containers[0].Resources = tt.r
			got := containerResources(pod, &pod.Spec.Containers[0], gi)
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestContainerSecurity(t *testing.T) {
	u1, u2, g, fs := int64(1000), int64(2000), int64(3000), int64(4000)
	yes, no := true, false
	pod := testPod()
	if containerSecurity(pod, &pod.Spec.Containers[0]) != nil {
		t.Error("no security context gave one")
	}
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: &u1, RunAsGroup: &g, SupplementalGroups: []int64{5}, FSGroup: &fs,
		Sysctls: []corev1.Sysctl{{Name: "net.core.somaxconn", Value: "1024"}}}
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: &u2, ReadOnlyRootFilesystem: &yes, AllowPrivilegeEscalation: &no,
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}
	got := containerSecurity(pod, &pod.Spec.Containers[0])
	want := fmt.Sprintf("user=%d group=%d groups=[5 4000] ro=true priv=false add=[NET_ADMIN] drop=[ALL] nnp=true", u2, g)
	if s := fmt.Sprintf("user=%d group=%d groups=%v ro=%t priv=%t add=%v drop=%v nnp=%t", *got.RunAsUser, *got.RunAsGroup, got.SupplementalGroups,
		got.ReadOnlyRootFilesystem, got.Privileged, got.AddCapabilities, got.DropCapabilities, got.NoNewPrivs); s != want {
		t.Errorf("got  %s\nwant %s", s, want)
	}
	if p := podSecurity(pod); *p.RunAsUser != u1 {
		t.Errorf("pod user %d", *p.RunAsUser)
	}
	if s := sysctls(pod); s["net.core.somaxconn"] != "1024" {
		t.Errorf("sysctls %v", s)
	}
}

func TestPortMappingsAndLogs(t *testing.T) {
	pod := testPod()
	pod.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 53, HostPort: 53, Protocol: corev1.ProtocolUDP, HostIP: "127.0.0.1"}, {ContainerPort: 9000}}
	if got := fmt.Sprint(portMappings(pod)); got != "[{TCP 80 8080 } {UDP 53 53 127.0.0.1}]" {
		t.Errorf("ports %s", got)
	}
	pod.Spec.HostNetwork = true
	if got := portMappings(pod); got != nil {
		t.Errorf("host network ports %v", got)
	}
	if d := podLogDir("/data", pod); d != "/data/logs/ns_p_uid-p" {
		t.Errorf("log dir %s", d)
	}
	if p := containerLogPath("web", 3); p != "web/3.log" {
		t.Errorf("log path %s", p)
	}
}

func TestPodDNS(t *testing.T) {
	host := ParseResolvConf("# comment\nnameserver 192.168.1.1\nnameserver 8.8.8.8\nsearch home.lan corp\noptions edns0 ndots:2\n")
	ndots := "2"
	cluster := DNSSettings{ClusterDNS: []string{"10.96.0.10"}, ClusterDomain: "cluster.local", Host: host}
	render := func(c *runtime.DNSConfig) string {
		if c == nil {
			return "<nil>"
		}
		return fmt.Sprintf("%v %v %v", c.Servers, c.Searches, c.Options)
	}
	tests := []struct {
		name     string
		policy   corev1.DNSPolicy
		hostNet  bool
		cfg      *corev1.PodDNSConfig
		settings DNSSettings
		want     string
		warn     bool
	}{
		{name: "cluster first", settings: cluster,
			want: "[10.96.0.10] [ns.svc.cluster.local svc.cluster.local cluster.local home.lan corp] [ndots:5]"},
		{name: "host network falls back to default", hostNet: true, policy: corev1.DNSClusterFirst, settings: cluster,
			want: "[192.168.1.1 8.8.8.8] [home.lan corp] [edns0 ndots:2]"},
		{name: "cluster first with host net", hostNet: true, policy: corev1.DNSClusterFirstWithHostNet, settings: cluster,
			want: "[10.96.0.10] [ns.svc.cluster.local svc.cluster.local cluster.local home.lan corp] [ndots:5]"},
		{name: "no cluster DNS", settings: DNSSettings{Host: host}, want: "[192.168.1.1 8.8.8.8] [home.lan corp] [edns0 ndots:2]", warn: true},
		{name: "default without host file", policy: corev1.DNSDefault, settings: DNSSettings{}, want: "<nil>"},
		{name: "none with config", policy: corev1.DNSNone, settings: cluster,
			cfg:  &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}, Searches: []string{"a.b"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &ndots}}},
			want: "[1.1.1.1] [a.b] [ndots:2]"},
		{name: "merge", settings: cluster,
			cfg: &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10", "1.1.1.1", "2.2.2.2", "3.3.3.3"}, Searches: []string{"corp", "x.y"},
				Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &ndots}, {Name: "rotate"}}},
			want: "[10.96.0.10 1.1.1.1 2.2.2.2] [ns.svc.cluster.local svc.cluster.local cluster.local home.lan corp x.y] [ndots:2 rotate]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod()
			pod.Spec.DNSPolicy, pod.Spec.HostNetwork, pod.Spec.DNSConfig = tt.policy, tt.hostNet, tt.cfg
			got, warning := podDNS(pod, tt.settings)
			if render(got) != tt.want || (warning != "") != tt.warn {
				t.Errorf("got %s (warning %q), want %s", render(got), warning, tt.want)
			}
		})
	}
}
