package tables

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNamespaceAndConfigCells(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: objMeta("kube-system"), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	secret := &corev1.Secret{ObjectMeta: objMeta("tls"), Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}, StringData: map[string]string{"tls.key": "", "ca.crt": ""}}
	sa := &corev1.ServiceAccount{ObjectMeta: objMeta("default"), Secrets: []corev1.ObjectReference{{Name: "s"}}}
	runCellCases(t, []cellCase{
		{"namespace", ns, []any{"kube-system", "Active", "60m"}},
		{"secret counts distinct keys", secret, []any{"tls", "kubernetes.io/tls", int64(3), "60m"}},
		{"service account", sa, []any{"default", int64(1), "60m"}},
		{"unknown age", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "new"}}, []any{"new", int64(0), "<unknown>"}},
	})
}

func TestNodeCells(t *testing.T) {
	node := &corev1.Node{ObjectMeta: objMeta("n1")}
	node.Labels = map[string]string{
		"node-role.kubernetes.io/control-plane": "",
		"node-role.kubernetes.io/etcd":          "true",
		"kubernetes.io/role":                    "control-plane",
		"node-role.kubernetes.io/":              "",
	}
	node.Spec.Unschedulable = true
	node.Status.Conditions = []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
	}
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "n1"},
		{Type: corev1.NodeInternalIP, Address: "192.168.1.10"},
	}
	node.Status.NodeInfo = corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13",
		KernelVersion: "6.12.0", ContainerRuntimeVersion: "containerd://2.1.0"}

	notReady := &corev1.Node{ObjectMeta: objMeta("n2"), Status: corev1.NodeStatus{
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}}}}
	runCellCases(t, []cellCase{
		{"ready, cordoned, roles", node, []any{"n1", "Ready,SchedulingDisabled", "control-plane,etcd", "60m", "v1.37.2",
			"192.168.1.10", "<none>", "Debian GNU/Linux 13", "6.12.0", "containerd://2.1.0"}},
		{"not ready, bare", notReady, []any{"n2", "NotReady", "<none>", "60m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"no conditions", &corev1.Node{ObjectMeta: objMeta("n3")},
			[]any{"n3", "Unknown", "<none>", "60m", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	})
}

func TestServiceCells(t *testing.T) {
	svc := func(typ corev1.ServiceType, mutate func(*corev1.Service)) *corev1.Service {
		s := &corev1.Service{ObjectMeta: objMeta("web")}
		s.Spec.Type = typ
		mutate(s)
		return s
	}
	runCellCases(t, []cellCase{
		{"cluster ip", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.10", "fd00::10"}
			s.Spec.Ports = []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}, {Port: 53, Protocol: corev1.ProtocolTCP}}
			s.Spec.Selector = map[string]string{"k8s-app": "kube-dns"}
		}), []any{"web", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "60m", "k8s-app=kube-dns"}},
		{"headless without ports", svc(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIP = "None"
		}), []any{"web", "ClusterIP", "None", "<none>", "<none>", "60m", "<none>"}},
		{"node port with external ip", svc(corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.1.1"}
			s.Spec.ExternalIPs = []string{"1.2.3.4"}
			s.Spec.Ports = []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}
		}), []any{"web", "NodePort", "10.96.1.1", "1.2.3.4", "80:30080/TCP", "60m", "<none>"}},
		{"load balancer pending", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.1.2"}
		}), []any{"web", "LoadBalancer", "10.96.1.2", "<pending>", "<none>", "60m", "<none>"}},
		{"load balancer ingress", svc(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.1.2"}
			s.Spec.ExternalIPs = []string{"9.9.9.9"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}, {IP: "5.6.7.8"}, {IP: "5.6.7.8"}}
		}), []any{"web", "LoadBalancer", "10.96.1.2", "5.6.7.8,lb.example.com,9.9.9.9", "<none>", "60m", "<none>"}},
		{"external name", svc(corev1.ServiceTypeExternalName, func(s *corev1.Service) {
			s.Spec.ExternalName = "db.example.com"
		}), []any{"web", "ExternalName", "<none>", "db.example.com", "<none>", "60m", "<none>"}},
	})
}

func TestEndpointsCells(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i].IP = ip
		}
		return out
	}
	many := &corev1.Endpoints{ObjectMeta: objMeta("e"), Subsets: []corev1.EndpointSubset{{
		Addresses: addrs("10.0.0.1", "10.0.0.2", "fd00::3"),
		Ports:     []corev1.EndpointPort{{Name: "http", Port: 80}, {Name: "https", Port: 443}},
	}}}
	runCellCases(t, []cellCase{
		{"none", &corev1.Endpoints{ObjectMeta: objMeta("e")}, []any{"e", "<none>", "60m"}},
		{"more than three", many, []any{"e", "10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 3 more...", "60m"}},
		{"no ports", &corev1.Endpoints{ObjectMeta: objMeta("e"), Subsets: []corev1.EndpointSubset{{Addresses: addrs("10.0.0.9")}}},
			[]any{"e", "10.0.0.9", "60m"}},
		{"subset without addresses", &corev1.Endpoints{ObjectMeta: objMeta("e"), Subsets: []corev1.EndpointSubset{{}}},
			[]any{"e", "", "60m"}},
	})
}

func TestResourceQuotaAndTemplates(t *testing.T) {
	q := &corev1.ResourceQuota{ObjectMeta: objMeta("q")}
	q.Status.Hard = corev1.ResourceList{
		"pods":          resource.MustParse("10"),
		"requests.cpu":  resource.MustParse("2"),
		"limits.memory": resource.MustParse("2Gi"),
		"limits.cpu":    resource.MustParse("4"),
	}
	q.Status.Used = corev1.ResourceList{"pods": resource.MustParse("3"), "limits.cpu": resource.MustParse("500m")}

	pt := &corev1.PodTemplate{ObjectMeta: objMeta("tmpl")}
	pt.Template.Labels = map[string]string{"b": "2", "a": "1"}
	pt.Template.Spec.Containers = []corev1.Container{{Name: "app", Image: "nginx:1"}, {Name: "log", Image: "busybox"}}

	replicas := int32(3)
	rc := &corev1.ReplicationController{ObjectMeta: objMeta("rc")}
	rc.Spec.Replicas = &replicas
	rc.Spec.Selector = map[string]string{"app": "x"}
	rc.Spec.Template = &corev1.PodTemplateSpec{Spec: pt.Template.Spec}
	rc.Status.Replicas, rc.Status.ReadyReplicas = 3, 2
	runCellCases(t, []cellCase{
		{"quota", q, []any{"q", "pods: 3/10, requests.cpu: 0/2", "limits.cpu: 500m/4, limits.memory: 0/2Gi", "60m"}},
		{"pod template", pt, []any{"tmpl", "app,log", "nginx:1,busybox", "a=1,b=2"}},
		{"replication controller", rc, []any{"rc", int64(3), int64(3), int64(2), "60m", "app,log", "nginx:1,busybox", "app=x"}},
		{"replication controller without template", &corev1.ReplicationController{ObjectMeta: objMeta("rc")},
			[]any{"rc", int64(1), int64(0), int64(0), "60m", "", "", "<none>"}},
	})
}

func TestVolumeCells(t *testing.T) {
	fs := corev1.PersistentVolumeFilesystem
	vac := "gold"
	pv := &corev1.PersistentVolume{ObjectMeta: objMeta("pv1")}
	pv.Spec.Capacity = corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}
	pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce}
	pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "default", Name: "data"}
	pv.Spec.StorageClassName = "standard"
	pv.Spec.VolumeMode = &fs
	pv.Status.Phase = corev1.VolumeBound

	legacy := &corev1.PersistentVolume{ObjectMeta: objMeta("pv2")}
	legacy.Annotations = map[string]string{"volume.beta.kubernetes.io/storage-class": "old"}
	legacy.Spec.StorageClassName = "new"
	legacy.Spec.VolumeAttributesClassName = &vac
	legacy.DeletionTimestamp = &metav1.Time{}
	legacy.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumeFailed, Reason: "Recycle failed"}

	class := "standard"
	bound := &corev1.PersistentVolumeClaim{ObjectMeta: objMeta("data")}
	bound.Spec.VolumeName = "pv1"
	bound.Spec.StorageClassName = &class
	bound.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound,
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod},
		Capacity:    corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}
	pending := &corev1.PersistentVolumeClaim{ObjectMeta: objMeta("wait")}
	pending.Spec.StorageClassName = &class
	pending.Status.Phase = corev1.ClaimPending
	runCellCases(t, []cellCase{
		{"bound pv", pv, []any{"pv1", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data", "standard", "<unset>", "", "60m", "Filesystem"}},
		{"terminating legacy pv", legacy, []any{"pv2", "0", "", "", "Terminating", "", "old", "gold", "Recycle failed", "60m", "<unset>"}},
		{"bound pvc", bound, []any{"data", "Bound", "pv1", "10Gi", "RWOP", "standard", "<unset>", "60m", "<unset>"}},
		{"pending pvc", pending, []any{"wait", "Pending", "", "", "", "standard", "<unset>", "60m", "<unset>"}},
	})
}
