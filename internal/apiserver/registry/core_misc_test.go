package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestNodeValidation(t *testing.T) {
	s := nodeStrategy()
	for _, tt := range []struct {
		name string
		spec corev1.NodeSpec
		want []string
	}{
		{"valid", corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"},
			Taints: []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}}, nil},
		{"bad cidr", corev1.NodeSpec{PodCIDR: "10.244.1.0", PodCIDRs: []string{"10.244.1.0"}}, []string{"Invalid spec.podCIDR", "Invalid spec.podCIDRs[0]"}},
		{"two cidrs of one family", corev1.NodeSpec{PodCIDR: "10.1.0.0/24", PodCIDRs: []string{"10.1.0.0/24", "10.2.0.0/24"}}, []string{"Invalid spec.podCIDRs"}},
		{"taint without effect", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k"}}}, []string{"Required spec.taints[0].effect"}},
		{"taint bad effect", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k", Effect: "Evict"}}}, []string{"NotSupported spec.taints[0].effect"}},
		{"taint bad key", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "a b", Effect: corev1.TaintEffectNoExecute}}}, []string{"Invalid spec.taints[0].key"}},
		{"duplicate taint", corev1.NodeSpec{Taints: []corev1.Taint{{Key: "k", Value: "1", Effect: corev1.TaintEffectNoSchedule}, {Key: "k", Value: "2", Effect: corev1.TaintEffectNoSchedule}}}, []string{"Duplicate spec.taints[1]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			coreExpectErrs(t, s.Validate(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: tt.spec}), tt.want...)
		})
	}
	old := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"}, ProviderID: "skiff://n"}}
	n := old.DeepCopy()
	n.Spec.PodCIDR, n.Spec.PodCIDRs, n.Spec.ProviderID = "10.244.2.0/24", []string{"10.244.2.0/24"}, "other://n"
	coreExpectErrs(t, s.ValidateUpdate(n, old), "Forbidden spec.podCIDRs", "Forbidden spec.providerID")
	fresh := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	coreExpectErrs(t, s.ValidateUpdate(old, fresh))
}

func TestEndpointsValidation(t *testing.T) {
	s := endpointsStrategy()
	addr := func(ip string) []corev1.EndpointAddress { return []corev1.EndpointAddress{{IP: ip}} }
	for _, tt := range []struct {
		name   string
		subset corev1.EndpointSubset
		want   []string
	}{
		{"valid", corev1.EndpointSubset{Addresses: addr("10.244.0.5"), Ports: []corev1.EndpointPort{{Port: 80}}}, nil},
		{"no addresses", corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Port: 80}}}, []string{"Required subsets[0]"}},
		{"loopback", corev1.EndpointSubset{Addresses: addr("127.0.0.1")}, []string{"Invalid subsets[0].addresses[0].ip"}},
		{"not an ip", corev1.EndpointSubset{NotReadyAddresses: addr("pod-a")}, []string{"Invalid subsets[0].notReadyAddresses[0].ip"}},
		{"unnamed ports", corev1.EndpointSubset{Addresses: addr("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 81}}},
			[]string{"Required subsets[0].ports[0].name", "Required subsets[0].ports[1].name"}},
		{"bad protocol", corev1.EndpointSubset{Addresses: addr("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80, Protocol: "ICMP"}}}, []string{"NotSupported subsets[0].ports[0].protocol"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}, Subsets: []corev1.EndpointSubset{tt.subset}}
			s.Default(ep)
			coreExpectErrs(t, s.Validate(ep), tt.want...)
		})
	}
}

func TestEventValidation(t *testing.T) {
	s := eventStrategy()
	for _, tt := range []struct {
		name string
		ev   corev1.Event
		want []string
	}{
		{"pod event", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ns"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns"}}, nil},
		{"node event in default", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Kind: "Node"}}, nil},
		{"namespace mismatch", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "a"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "b"}},
			[]string{"Invalid involvedObject.namespace"}},
		{"new style without fields", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "a"}, InvolvedObject: corev1.ObjectReference{Namespace: "a"}, EventTime: metav1.NowMicro()},
			[]string{"Invalid type", "Required action", "Required reason", "Required reportingController", "Required reportingInstance"}},
	} {
		t.Run(tt.name, func(t *testing.T) { coreExpectErrs(t, s.Validate(&tt.ev), tt.want...) })
	}
}

func TestLimitRange(t *testing.T) {
	s := limitRangeStrategy()
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{"cpu": coreQty("2")}, Min: corev1.ResourceList{"memory": coreQty("64Mi")},
	}}}}
	s.Default(lr)
	item := lr.Spec.Limits[0]
	if d, dr := item.Default["cpu"], item.DefaultRequest["cpu"]; d.String() != "2" || dr.String() != "2" {
		t.Errorf("default cpu %s defaultRequest cpu %s, want 2 and 2", d.String(), dr.String())
	}
	if m := item.DefaultRequest["memory"]; m.String() != "64Mi" {
		t.Errorf("defaultRequest memory = %s, want 64Mi from min", m.String())
	}
	coreExpectErrs(t, s.Validate(lr))
	for _, tt := range []struct {
		name string
		item corev1.LimitRangeItem
		want []string
	}{
		{"bad type", corev1.LimitRangeItem{Type: "Node"}, []string{"NotSupported spec.limits[0].type"}},
		{"pod default", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Default: corev1.ResourceList{"cpu": coreQty("1")}}, []string{"Forbidden spec.limits[0].default"}},
		{"min above max", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Min: corev1.ResourceList{"cpu": coreQty("2")}, Max: corev1.ResourceList{"cpu": coreQty("1")}}, []string{"Invalid spec.limits[0].min[cpu]"}},
		{"negative", corev1.LimitRangeItem{Type: corev1.LimitTypePod, Max: corev1.ResourceList{"cpu": coreQty("-1")}}, []string{"Invalid spec.limits[0].max[cpu]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			coreExpectErrs(t, s.Validate(&corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{tt.item}}}), tt.want...)
		})
	}
}

func TestResourceQuota(t *testing.T) {
	s := resourceQuotaStrategy()
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"pods": coreQty("10"), "requests.cpu": coreQty("4"), "count/deployments.apps": coreQty("2")}}}
	coreExpectErrs(t, s.Validate(q))
	q.Spec.Hard["pods"] = coreQty("-1")
	q.Spec.Scopes = []corev1.ResourceQuotaScope{"Sometimes"}
	coreExpectErrs(t, s.Validate(q), "Invalid spec.hard[pods]", "NotSupported spec.scopes[0]")
}

func TestPersistentVolume(t *testing.T) {
	s := persistentVolumeStrategy()
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv"}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{"storage": coreQty("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}},
	}}
	s.Default(pv)
	s.PrepareForCreate(pv)
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || *pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || pv.Status.Phase != corev1.VolumePending {
		t.Errorf("defaults: reclaim %q mode %q phase %q", pv.Spec.PersistentVolumeReclaimPolicy, *pv.Spec.VolumeMode, pv.Status.Phase)
	}
	coreExpectErrs(t, s.Validate(pv))
	bad := pv.DeepCopy()
	bad.Spec.Capacity, bad.Spec.AccessModes, bad.Spec.HostPath = nil, nil, nil
	coreExpectErrs(t, s.Validate(bad), "Required spec", "Required spec.accessModes", "Required spec.capacity")
	moved := pv.DeepCopy()
	moved.Spec.HostPath.Path = "/other"
	coreExpectErrs(t, s.ValidateUpdate(moved, pv), "Forbidden spec.persistentvolumesource")
}

func TestPersistentVolumeClaim(t *testing.T) {
	s := persistentVolumeClaimStrategy()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "default"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": coreQty("1Gi")}},
	}}
	s.Default(pvc)
	s.PrepareForCreate(pvc)
	if *pvc.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || pvc.Status.Phase != corev1.ClaimPending {
		t.Errorf("defaults: mode %q phase %q", *pvc.Spec.VolumeMode, pvc.Status.Phase)
	}
	coreExpectErrs(t, s.Validate(pvc))
	bad := pvc.DeepCopy()
	bad.Spec.AccessModes, bad.Spec.Resources.Requests = []corev1.PersistentVolumeAccessMode{"ReadWriteSometimes"}, nil
	coreExpectErrs(t, s.Validate(bad), "NotSupported spec.accessModes", "Required spec.resources[storage]")

	bound := pvc.DeepCopy()
	bound.Spec.VolumeName = "pv-1"
	coreExpectErrs(t, s.ValidateUpdate(bound, pvc)) // binding sets volumeName once
	bound.Status.Phase = corev1.ClaimBound
	grown := bound.DeepCopy()
	grown.Spec.Resources.Requests["storage"] = coreQty("2Gi")
	coreExpectErrs(t, s.ValidateUpdate(grown, bound))
	shrunk := bound.DeepCopy()
	shrunk.Spec.Resources.Requests["storage"] = coreQty("500Mi")
	coreExpectErrs(t, s.ValidateUpdate(shrunk, bound), "Forbidden spec.resources.requests.storage")
	unboundGrow := pvc.DeepCopy()
	unboundGrow.Spec.Resources.Requests["storage"] = coreQty("2Gi")
	coreExpectErrs(t, s.ValidateUpdate(unboundGrow, pvc), "Forbidden spec")
	modes := bound.DeepCopy()
	modes.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	coreExpectErrs(t, s.ValidateUpdate(modes, bound), "Forbidden spec")
}

func TestReplicationController(t *testing.T) {
	s := replicationControllerStrategy()
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "rc", Namespace: "default"}, Spec: corev1.ReplicationControllerSpec{
		Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		},
	}}
	s.Default(rc)
	if *rc.Spec.Replicas != 1 || rc.Spec.Selector["app"] != "web" || rc.Labels["app"] != "web" || rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("defaults: replicas %d selector %v labels %v", *rc.Spec.Replicas, rc.Spec.Selector, rc.Labels)
	}
	coreExpectErrs(t, s.Validate(rc))
	for _, tt := range []struct {
		name   string
		mutate func(*corev1.ReplicationController)
		want   []string
	}{
		{"selector mismatch", func(r *corev1.ReplicationController) { r.Spec.Selector = map[string]string{"app": "db"} }, []string{"Invalid spec.template.metadata.labels"}},
		{"negative replicas", func(r *corev1.ReplicationController) { r.Spec.Replicas = ptr.To(int32(-1)) }, []string{"Invalid spec.replicas"}},
		{"restartPolicy Never", func(r *corev1.ReplicationController) { r.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }, []string{"NotSupported spec.template.spec.restartPolicy"}},
		{"no template", func(r *corev1.ReplicationController) { r.Spec.Template = nil }, []string{"Required spec.template"}},
		{"template pod invalid", func(r *corev1.ReplicationController) { r.Spec.Template.Spec.Containers[0].Image = "" }, []string{"Required spec.template.spec.containers[0].image"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rc.DeepCopy()
			tt.mutate(r)
			coreExpectErrs(t, s.Validate(r), tt.want...)
		})
	}
}

func TestPodTemplate(t *testing.T) {
	s := podTemplateStrategy()
	pt := &corev1.PodTemplate{ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "default"}, Template: corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
	}}
	s.Default(pt)
	coreExpectErrs(t, s.Validate(pt))
	pt.Template.Labels = map[string]string{"a": "b c"}
	pt.Template.Spec.Containers = nil
	coreExpectErrs(t, s.Validate(pt), "Invalid template.metadata.labels", "Required template.spec.containers")
}

func TestCoreStrategiesRegistered(t *testing.T) {
	got := coreStrategies()
	for _, kind := range []string{"Pod", "Service", "Namespace", "Node", "ConfigMap", "Secret", "Endpoints", "Event", "LimitRange",
		"ResourceQuota", "PersistentVolume", "PersistentVolumeClaim", "ReplicationController", "PodTemplate"} {
		if _, ok := got[corev1.SchemeGroupVersion.WithKind(kind)]; !ok {
			t.Errorf("no strategy for %s", kind)
		}
	}
}

func TestCoreSubresourceValidator(t *testing.T) {
	gvk := corev1.SchemeGroupVersion.WithKind
	for _, tt := range []struct {
		kind, sub string
		ok        bool
	}{{"Pod", "status", true}, {"Pod", "resize", true}, {"Pod", "ephemeralcontainers", true}, {"Service", "status", true},
		{"Namespace", "finalize", true}, {"Pod", "binding", false}, {"ConfigMap", "status", false}} {
		if _, ok := CoreSubresourceValidator(gvk(tt.kind), tt.sub); ok != tt.ok {
			t.Errorf("%s/%s: ok = %v, want %v", tt.kind, tt.sub, ok, tt.ok)
		}
	}
	f, _ := CoreSubresourceValidator(gvk("Pod"), "status")
	old := corePod()
	old.Status.Phase = corev1.PodFailed
	pod := old.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	coreExpectErrs(t, f(pod, old), "Forbidden status.phase")
}
