package placement

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podInfo is a pod with what the checks need precomputed once.
type podInfo struct {
	pod                    *corev1.Pod
	req                    Resources
	nonZeroCPU, nonZeroMem int64
	ports                  []hostPort
	requiredAffinity       []affinityTerm
	requiredAnti           []affinityTerm
	preferredAffinity      []weightedTerm
	preferredAnti          []weightedTerm
}

func newPodInfo(p *corev1.Pod) *podInfo {
	pi := &podInfo{pod: p, req: PodRequests(p), ports: podHostPorts(p)}
	pi.nonZeroCPU, pi.nonZeroMem = nonZeroRequests(p, pi.req)
	if a := p.Spec.Affinity; a != nil {
		if pa := a.PodAffinity; pa != nil {
			pi.requiredAffinity = newTerms(p, pa.RequiredDuringSchedulingIgnoredDuringExecution)
			pi.preferredAffinity = newWeightedTerms(p, pa.PreferredDuringSchedulingIgnoredDuringExecution)
		}
		if pa := a.PodAntiAffinity; pa != nil {
			pi.requiredAnti = newTerms(p, pa.RequiredDuringSchedulingIgnoredDuringExecution)
			pi.preferredAnti = newWeightedTerms(p, pa.PreferredDuringSchedulingIgnoredDuringExecution)
		}
	}
	return pi
}

func (pi *podInfo) hasAffinity() bool {
	return len(pi.requiredAffinity)+len(pi.requiredAnti)+len(pi.preferredAffinity)+len(pi.preferredAnti) > 0
}

// affinityTerm is a parsed PodAffinityTerm.
type affinityTerm struct {
	namespaces  map[string]bool
	nsSelector  labels.Selector // nil when the term has no namespaceSelector
	selector    labels.Selector
	topologyKey string
}

type weightedTerm struct {
	affinityTerm
	weight int64
}

func newTerm(owner *corev1.Pod, t *corev1.PodAffinityTerm) affinityTerm {
	at := affinityTerm{namespaces: map[string]bool{}, topologyKey: t.TopologyKey}
	for _, ns := range t.Namespaces {
		at.namespaces[ns] = true
	}
	if t.NamespaceSelector != nil {
		at.nsSelector = selectorOrNothing(t.NamespaceSelector)
	} else if len(t.Namespaces) == 0 {
		at.namespaces[owner.Namespace] = true
	}
	at.selector = selectorOrNothing(t.LabelSelector)
	return at
}

// selectorOrNothing converts a LabelSelector; nil or invalid selects nothing.
func selectorOrNothing(ls *metav1.LabelSelector) labels.Selector {
	if ls == nil {
		return labels.Nothing()
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return labels.Nothing()
	}
	return sel
}

func newTerms(owner *corev1.Pod, ts []corev1.PodAffinityTerm) []affinityTerm {
	out := make([]affinityTerm, len(ts))
	for i := range ts {
		out[i] = newTerm(owner, &ts[i])
	}
	return out
}

func newWeightedTerms(owner *corev1.Pod, ts []corev1.WeightedPodAffinityTerm) []weightedTerm {
	out := make([]weightedTerm, len(ts))
	for i := range ts {
		out[i] = weightedTerm{newTerm(owner, &ts[i].PodAffinityTerm), int64(ts[i].Weight)}
	}
	return out
}

// matches reports whether pod is selected by the term: its namespace is
// listed or selected, and its labels match.
func (t *affinityTerm) matches(pod *corev1.Pod, nsLabels map[string]labels.Set) bool {
	if !t.namespaces[pod.Namespace] {
		if t.nsSelector == nil || !t.nsSelector.Matches(nsLabels[pod.Namespace]) {
			return false
		}
	}
	return t.selector.Matches(labels.Set(pod.Labels))
}

// matchesAll reports whether pod matches every term (and there is one).
func matchesAll(terms []affinityTerm, pod *corev1.Pod, nsLabels map[string]labels.Set) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !terms[i].matches(pod, nsLabels) {
			return false
		}
	}
	return true
}

// hostPort is one host port a pod binds.
type hostPort struct {
	ip       string // "0.0.0.0" when unset
	protocol corev1.Protocol
	port     int32
}

func podHostPorts(p *corev1.Pod) []hostPort {
	var out []hostPort
	add := func(c *corev1.Container) {
		for _, cp := range c.Ports {
			if cp.HostPort <= 0 {
				continue
			}
			hp := hostPort{ip: cp.HostIP, protocol: cp.Protocol, port: cp.HostPort}
			if hp.ip == "" {
				hp.ip = "0.0.0.0"
			}
			if hp.protocol == "" {
				hp.protocol = corev1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	for i := range p.Spec.Containers {
		add(&p.Spec.Containers[i])
	}
	for i := range p.Spec.InitContainers {
		if isSidecar(&p.Spec.InitContainers[i]) {
			add(&p.Spec.InitContainers[i])
		}
	}
	return out
}

// conflicts reports whether two host ports cannot both be bound.
func (a hostPort) conflicts(b hostPort) bool {
	return a.port == b.port && a.protocol == b.protocol &&
		(a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0")
}

// removePorts removes one occurrence of each of rm from ports.
func removePorts(ports, rm []hostPort) []hostPort {
	for _, r := range rm {
		for i, p := range ports {
			if p == r {
				ports = append(ports[:i], ports[i+1:]...)
				break
			}
		}
	}
	return ports
}

// normalizeImage adds ":latest" to names with neither tag nor digest, as
// image names in node status carry one.
func normalizeImage(name string) string {
	if strings.Contains(name, "@") {
		return name
	}
	slash := strings.LastIndex(name, "/")
	if strings.Contains(name[slash+1:], ":") {
		return name
	}
	return name + ":latest"
}

func nodeImages(n *corev1.Node) map[string]int64 {
	if len(n.Status.Images) == 0 {
		return nil
	}
	out := map[string]int64{}
	for _, img := range n.Status.Images {
		for _, name := range img.Names {
			out[normalizeImage(name)] = img.SizeBytes
		}
	}
	return out
}
