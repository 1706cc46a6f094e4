package tables

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Node role labels: node-role.kubernetes.io/<role> and kubernetes.io/role.
const (
	nodeRolePrefix = "node-role.kubernetes.io/"
	nodeRoleLabel  = "kubernetes.io/role"
)

// addCore registers core/v1 types other than pods, events and volumes.
// LimitRange has no printer upstream and gets the default table.
func addCore(r registry) {
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "The status of the namespace"),
		ageColumn(),
	}, func(ns *corev1.Namespace, now time.Time) []any {
		return []any{ns.Name, string(ns.Status.Phase), age(now, ns.CreationTimestamp)}
	})
	addNodes(r)
	addServices(r)
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn(),
	}, func(ep *corev1.Endpoints, now time.Time) []any {
		return []any{ep.Name, endpointsCell(ep), age(now, ep.CreationTimestamp)}
	})
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		ageColumn(),
	}, func(cm *corev1.ConfigMap, now time.Time) []any {
		return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(now, cm.CreationTimestamp)}
	})
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", corev1.Secret{}.SwaggerDoc()["type"]),
		column("Data", "string", corev1.Secret{}.SwaggerDoc()["data"]),
		ageColumn(),
	}, func(s *corev1.Secret, now time.Time) []any {
		return []any{s.Name, string(s.Type), secretKeys(s), age(now, s.CreationTimestamp)}
	})
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
		ageColumn(),
	}, func(sa *corev1.ServiceAccount, now time.Time) []any {
		return []any{sa.Name, int64(len(sa.Secrets)), age(now, sa.CreationTimestamp)}
	})
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
		column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
		ageColumn(),
	}, resourceQuotaCells)
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Containers", "string", "Names of each container in the template."),
		column("Images", "string", "Images referenced by each container in the template."),
		column("Pod Labels", "string", "The labels for the pod template."),
	}, func(pt *corev1.PodTemplate, _ time.Time) []any {
		names, images := containerCells(pt.Template.Spec.Containers)
		return []any{pt.Name, names, images, labels.FormatLabels(pt.Template.Labels)}
	})
	addReplicationControllers(r)
}

func addNodes(r registry) {
	info, status := corev1.NodeSystemInfo{}.SwaggerDoc(), corev1.NodeStatus{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", "The status of the node"),
		column("Roles", "string", "The roles of the node"),
		ageColumn(),
		column("Version", "string", info["kubeletVersion"]),
		wide(column("Internal-IP", "string", status["addresses"])),
		wide(column("External-IP", "string", status["addresses"])),
		wide(column("OS-Image", "string", info["osImage"])),
		wide(column("Kernel-Version", "string", info["kernelVersion"])),
		wide(column("Container-Runtime", "string", info["containerRuntimeVersion"])),
	}, func(n *corev1.Node, now time.Time) []any {
		ni := n.Status.NodeInfo
		return []any{n.Name, nodeStatus(n), orDefault(strings.Join(nodeRoles(n), ","), "<none>"),
			age(now, n.CreationTimestamp), ni.KubeletVersion,
			nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
			orDefault(ni.OSImage, "<unknown>"), orDefault(ni.KernelVersion, "<unknown>"),
			orDefault(ni.ContainerRuntimeVersion, "<unknown>")}
	})
}

// nodeStatus is Ready / NotReady / Unknown, plus SchedulingDisabled when
// the node is cordoned.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			status = "NotReady"
			if c.Status == corev1.ConditionTrue {
				status = "Ready"
			}
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles are the sorted, distinct roles from the node's role labels.
func nodeRoles(n *corev1.Node) []string {
	var roles []string
	for k, v := range n.Labels {
		if role, ok := strings.CutPrefix(k, nodeRolePrefix); ok && role != "" {
			roles = append(roles, role)
		} else if k == nodeRoleLabel && v != "" {
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

func nodeAddress(n *corev1.Node, typ corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return "<none>"
}

func addServices(r registry) {
	doc := corev1.ServiceSpec{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Type", "string", doc["type"]),
		column("Cluster-IP", "string", doc["clusterIP"]),
		column("External-IP", "string", doc["externalIPs"]),
		column("Port(s)", "string", doc["ports"]),
		ageColumn(),
		wide(column("Selector", "string", doc["selector"])),
	}, func(s *corev1.Service, now time.Time) []any {
		return []any{s.Name, string(s.Spec.Type), serviceClusterIP(s), serviceExternalIP(s),
			orDefault(servicePorts(s.Spec.Ports), "<none>"), age(now, s.CreationTimestamp),
			labels.FormatLabels(s.Spec.Selector)}
	})
}

func serviceClusterIP(s *corev1.Service) string {
	if len(s.Spec.ClusterIPs) > 0 {
		return s.Spec.ClusterIPs[0]
	}
	return orDefault(s.Spec.ClusterIP, "<none>")
}

// serviceExternalIP depends on the type: external IPs for ClusterIP and
// NodePort, load balancer ingress (then external IPs) for LoadBalancer,
// the DNS name for ExternalName.
func serviceExternalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orDefault(strings.Join(s.Spec.ExternalIPs, ","), "<none>")
	case corev1.ServiceTypeLoadBalancer:
		ips := append(loadBalancerIngress(s.Status.LoadBalancer), s.Spec.ExternalIPs...)
		return orDefault(strings.Join(ips, ","), "<pending>")
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerIngress lists ingress IPs (or hostnames), sorted, distinct.
func loadBalancerIngress(st corev1.LoadBalancerStatus) []string {
	var out []string
	for _, in := range st.Ingress {
		if in.IP != "" {
			out = append(out, in.IP)
		} else if in.Hostname != "" {
			out = append(out, in.Hostname)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// servicePorts prints port/proto or port:nodePort/proto, comma separated.
func servicePorts(ports []corev1.ServicePort) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			parts[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			parts[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(parts, ",")
}

// endpointsCell lists up to three ip:port pairs (bare IPs for subsets
// without ports).
func endpointsCell(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	var all []string
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				all = append(all, a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				all = append(all, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return firstN(all, 3, ",")
}

// secretKeys counts data keys; stringData keys not yet merged count too.
func secretKeys(s *corev1.Secret) int64 {
	n := len(s.Data)
	for k := range s.StringData {
		if _, dup := s.Data[k]; !dup {
			n++
		}
	}
	return int64(n)
}

// resourceQuotaCells splits used/hard pairs into requests and limits.*.
func resourceQuotaCells(q *corev1.ResourceQuota, now time.Time) []any {
	names := make([]string, 0, len(q.Status.Hard))
	for name := range q.Status.Hard {
		names = append(names, string(name))
	}
	slices.Sort(names)
	var requests, limits []string
	for _, name := range names {
		used, hard := q.Status.Used[corev1.ResourceName(name)], q.Status.Hard[corev1.ResourceName(name)]
		pair := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
		if strings.HasPrefix(name, "limits.") {
			limits = append(limits, pair)
		} else {
			requests = append(requests, pair)
		}
	}
	return []any{q.Name, strings.Join(requests, ", "), strings.Join(limits, ", "), age(now, q.CreationTimestamp)}
}

func addReplicationControllers(r registry) {
	spec, status := corev1.ReplicationControllerSpec{}.SwaggerDoc(), corev1.ReplicationControllerStatus{}.SwaggerDoc()
	columns := []metav1.TableColumnDefinition{
		nameColumn(),
		column("Desired", "integer", spec["replicas"]),
		column("Current", "integer", status["replicas"]),
		column("Ready", "integer", status["readyReplicas"]),
		ageColumn(),
	}
	columns = append(columns, templateColumns()...)
	columns = append(columns, wide(column("Selector", "string", spec["selector"])))
	addCells(r, columns, func(rc *corev1.ReplicationController, now time.Time) []any {
		var containers []corev1.Container
		if rc.Spec.Template != nil {
			containers = rc.Spec.Template.Spec.Containers
		}
		names, images := containerCells(containers)
		return []any{rc.Name, replicasOr1(rc.Spec.Replicas), int64(rc.Status.Replicas), int64(rc.Status.ReadyReplicas),
			age(now, rc.CreationTimestamp), names, images, labels.FormatLabels(rc.Spec.Selector)}
	})
}
