package envvars

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// PodInfo is what the downward API reads besides the pod spec: the
// addresses the agent knows and the node's allocatable resources (the
// default for unset limits).
type PodInfo struct {
	HostIP      string
	PodIPs      []string
	Allocatable corev1.ResourceList
}

// FieldValue returns the value of a fieldRef path (metadata.name,
// metadata.labels['k'], status.podIP, ...) for pod. Whole label and
// annotation maps (for downwardAPI files) are rendered as sorted
// key="value" lines.
func FieldValue(pod *corev1.Pod, path string, info PodInfo) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return info.HostIP, nil
	case "status.hostIPs":
		return info.HostIP, nil
	case "status.podIP":
		if len(info.PodIPs) > 0 {
			return info.PodIPs[0], nil
		}
		return "", nil
	case "status.podIPs":
		return strings.Join(info.PodIPs, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldRef path %q", path)
}

// subscript parses prefix['key'].
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", false
	}
	rest = strings.TrimSuffix(rest, "]")
	if len(rest) >= 2 && (rest[0] == '\'' || rest[0] == '"') && rest[len(rest)-1] == rest[0] {
		return rest[1 : len(rest)-1], true
	}
	return "", false
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%s", k, strconv.Quote(m[k]))
	}
	return b.String()
}

// ResourceValue returns a resourceFieldRef's value for container c:
// limits.cpu, requests.memory, ... divided by the divisor (default 1)
// and rounded up. An unset limit is the node's allocatable amount.
func ResourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector, info PodInfo) (string, error) {
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	res := corev1.ResourceName(name)
	var q resource.Quantity
	switch kind {
	case "limits":
		v, ok := c.Resources.Limits[res]
		if !ok {
			v = info.Allocatable[res]
		}
		q = v
	case "requests":
		q = c.Resources.Requests[res]
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if res == corev1.ResourceCPU {
		return strconv.FormatInt(int64(math.Ceil(float64(q.MilliValue())/float64(divisor.MilliValue()))), 10), nil
	}
	return strconv.FormatInt(int64(math.Ceil(float64(q.Value())/float64(divisor.Value()))), 10), nil
}
