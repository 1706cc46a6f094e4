package envvars

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// MasterService is the API server's Service: its variables are in every
// pod (KUBERNETES_SERVICE_HOST, ...), whatever enableServiceLinks says.
const (
	MasterServiceName      = "kubernetes"
	MasterServiceNamespace = "default"
)

// ServiceEnv returns the Service link variables a pod sees: those of the
// Services of its namespace (when links are enabled) and of the API
// server's Service. Services without a cluster IP (headless,
// ExternalName) have none. The result is sorted by name.
func ServiceEnv(pod *corev1.Pod, services []*corev1.Service) []runtime.KeyValue {
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	chosen := map[string]*corev1.Service{}
	for _, s := range services {
		ip := s.Spec.ClusterIP
		if ip == "" || ip == corev1.ClusterIPNone {
			continue
		}
		switch {
		case s.Namespace == pod.Namespace && links:
			chosen[s.Name] = s
		case s.Namespace == MasterServiceNamespace && s.Name == MasterServiceName:
			if _, ok := chosen[s.Name]; !ok {
				chosen[s.Name] = s
			}
		}
	}
	var out []runtime.KeyValue
	for _, s := range chosen {
		out = append(out, serviceVars(s)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// serviceVars are one Service's variables: the _SERVICE_HOST/_PORT pair
// and the Docker link style _PORT_<port>_<PROTO>... set.
func serviceVars(s *corev1.Service) []runtime.KeyValue {
	name := envName(s.Name)
	ip := s.Spec.ClusterIP
	kv := func(k, v string) runtime.KeyValue { return runtime.KeyValue{Key: k, Value: v} }
	out := []runtime.KeyValue{kv(name+"_SERVICE_HOST", ip)}
	for i, p := range s.Spec.Ports {
		port := fmt.Sprint(p.Port)
		proto := strings.ToLower(string(p.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		if i == 0 {
			out = append(out, kv(name+"_SERVICE_PORT", port), kv(name+"_PORT", proto+"://"+joinHostPort(ip, port)))
		}
		if p.Name != "" {
			out = append(out, kv(name+"_SERVICE_PORT_"+envName(p.Name), port))
		}
		prefix := name + "_PORT_" + port + "_" + strings.ToUpper(proto)
		out = append(out,
			kv(prefix, proto+"://"+joinHostPort(ip, port)),
			kv(prefix+"_PROTO", proto),
			kv(prefix+"_PORT", port),
			kv(prefix+"_ADDR", ip))
	}
	return out
}

func envName(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }

func joinHostPort(ip, port string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + port
	}
	return ip + ":" + port
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
