// usage.go is the pure part of quota accounting, shared by the resource
// quota controller (status.used) and the API server's quota admission.

package quota

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Objects are the namespace's objects a quota may count.
type Objects struct {
	Pods                   []*corev1.Pod
	Services               []*corev1.Service
	ConfigMaps             int
	Secrets                int
	ReplicationControllers int
	ResourceQuotas         int
	Claims                 []*corev1.PersistentVolumeClaim
	// Counts holds object counts by "count/<resource>[.<group>]" for
	// types beyond the ones above.
	Counts map[string]int
}

// Used computes status.used for the resources in hard.
func Used(q *corev1.ResourceQuota, objs Objects) corev1.ResourceList {
	var pods []*corev1.Pod
	for _, p := range objs.Pods {
		if PodCounts(p) && MatchesScopes(q, p) {
			pods = append(pods, p)
		}
	}
	used := corev1.ResourceList{}
	for name := range q.Spec.Hard {
		if v, ok := usedOf(name, pods, objs); ok {
			used[name] = v
		}
	}
	return used
}

func usedOf(name corev1.ResourceName, pods []*corev1.Pod, objs Objects) (resource.Quantity, bool) {
	n := string(name)
	count := func(c int) (resource.Quantity, bool) {
		return *resource.NewQuantity(int64(c), resource.DecimalSI), true
	}
	switch n {
	case "pods", "count/pods":
		return count(len(pods))
	case "services", "count/services":
		return count(len(objs.Services))
	case "services.loadbalancers":
		return count(countServices(objs.Services, func(s *corev1.Service) int {
			return b2i(s.Spec.Type == corev1.ServiceTypeLoadBalancer)
		}))
	case "services.nodeports":
		return count(countServices(objs.Services, func(s *corev1.Service) int {
			if s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
				return 0
			}
			return len(s.Spec.Ports)
		}))
	case "configmaps", "count/configmaps":
		return count(objs.ConfigMaps)
	case "secrets", "count/secrets":
		return count(objs.Secrets)
	case "replicationcontrollers", "count/replicationcontrollers":
		return count(objs.ReplicationControllers)
	case "resourcequotas", "count/resourcequotas":
		return count(objs.ResourceQuotas)
	case "persistentvolumeclaims", "count/persistentvolumeclaims":
		return count(len(objs.Claims))
	case "requests.storage":
		total := resource.Quantity{Format: resource.BinarySI}
		for _, c := range objs.Claims {
			if r, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
				total.Add(r)
			}
		}
		return total, true
	}
	if strings.HasPrefix(n, "count/") {
		c, ok := objs.Counts[n]
		return *resource.NewQuantity(int64(c), resource.DecimalSI), ok
	}
	kind, res, ok := computeResource(n)
	if !ok {
		return resource.Quantity{}, false
	}
	total := resource.Quantity{Format: resource.DecimalSI}
	if res == corev1.ResourceMemory || res == corev1.ResourceEphemeralStorage {
		total.Format = resource.BinarySI
	}
	for _, p := range pods {
		if v, ok := PodCharge(p, kind, res); ok {
			total.Add(v)
		}
	}
	return total, true
}

// computeResource splits a compute quota name: "cpu" and "requests.cpu"
// are requests, "limits.memory" a limit; extended resources only exist as
// "requests.<name>".
func computeResource(n string) (kind string, res corev1.ResourceName, ok bool) {
	switch {
	case n == "cpu" || n == "memory" || n == "ephemeral-storage":
		return "requests", corev1.ResourceName(n), true
	case strings.HasPrefix(n, "requests."):
		return "requests", corev1.ResourceName(strings.TrimPrefix(n, "requests.")), true
	case strings.HasPrefix(n, "limits."):
		return "limits", corev1.ResourceName(strings.TrimPrefix(n, "limits.")), true
	}
	return "", "", false
}

// PodCharge is a pod's effective request or limit of res: the larger of
// the sum over app containers (and restartable init containers) and the
// largest other init container, plus the pod overhead.
func PodCharge(p *corev1.Pod, kind string, res corev1.ResourceName) (resource.Quantity, bool) {
	get := func(c *corev1.Container) (resource.Quantity, bool) {
		l := c.Resources.Requests
		if kind == "limits" {
			l = c.Resources.Limits
		}
		v, ok := l[res]
		return v, ok
	}
	var sum resource.Quantity
	found := false
	for i := range p.Spec.Containers {
		if v, ok := get(&p.Spec.Containers[i]); ok {
			sum.Add(v)
			found = true
		}
	}
	var sidecars resource.Quantity
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		v, ok := get(c)
		if !ok {
			continue
		}
		found = true
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars.Add(v)
			sum.Add(v)
			continue
		}
		need := v.DeepCopy()
		need.Add(sidecars)
		if need.Cmp(sum) > 0 {
			sum = need
		}
	}
	if v, ok := p.Spec.Overhead[res]; ok {
		sum.Add(v)
		found = true
	}
	return sum, found
}

// PodCounts reports whether a pod is charged to quota: not finished and
// not past its graceful deletion.
func PodCounts(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// MatchesScopes reports whether a pod falls under the quota's scopes
// (spec.scopes and spec.scopeSelector, all of which must match).
func MatchesScopes(q *corev1.ResourceQuota, p *corev1.Pod) bool {
	for _, s := range q.Spec.Scopes {
		if !matchScope(s, p, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists}) {
			return false
		}
	}
	if q.Spec.ScopeSelector != nil {
		for _, r := range q.Spec.ScopeSelector.MatchExpressions {
			if !matchScope(r.ScopeName, p, r) {
				return false
			}
		}
	}
	return true
}

func matchScope(s corev1.ResourceQuotaScope, p *corev1.Pod, r corev1.ScopedResourceSelectorRequirement) bool {
	switch s {
	case corev1.ResourceQuotaScopeTerminating:
		return p.Spec.ActiveDeadlineSeconds != nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return p.Spec.ActiveDeadlineSeconds == nil
	case corev1.ResourceQuotaScopeBestEffort:
		return bestEffort(p)
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !bestEffort(p)
	case corev1.ResourceQuotaScopePriorityClass:
		has := p.Spec.PriorityClassName != ""
		switch r.Operator {
		case corev1.ScopeSelectorOpExists:
			return has
		case corev1.ScopeSelectorOpDoesNotExist:
			return !has
		case corev1.ScopeSelectorOpIn:
			return has && slices.Contains(r.Values, p.Spec.PriorityClassName)
		case corev1.ScopeSelectorOpNotIn:
			return !slices.Contains(r.Values, p.Spec.PriorityClassName)
		}
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(p)
	}
	return false
}

func bestEffort(p *corev1.Pod) bool {
	for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, c := range cs {
			if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
				return false
			}
		}
	}
	return true
}

func crossNamespaceAffinity(p *corev1.Pod) bool {
	a := p.Spec.Affinity
	if a == nil {
		return false
	}
	var terms []corev1.PodAffinityTerm
	if a.PodAffinity != nil {
		terms = append(terms, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if a.PodAntiAffinity != nil {
		terms = append(terms, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for _, t := range terms {
		if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
			return true
		}
	}
	return false
}

func countServices(svcs []*corev1.Service, f func(*corev1.Service) int) int {
	n := 0
	for _, s := range svcs {
		n += f(s)
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
