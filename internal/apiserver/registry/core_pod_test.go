package registry

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func TestDefaultPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                         corev1.PullAlways,
		"nginx:latest":                  corev1.PullAlways,
		"nginx:1.25":                    corev1.PullIfNotPresent,
		"localhost:5000/nginx":          corev1.PullAlways,
		"localhost:5000/nginx:1":        corev1.PullIfNotPresent,
		"nginx@sha256:abcd":             corev1.PullIfNotPresent,
		"nginx:latest@sha256:abcd":      corev1.PullAlways,
		"registry.k8s.io/pause:3.10":    corev1.PullIfNotPresent,
		"docker.io/library/busybox":     corev1.PullAlways,
		"example.com:443/a/b/c:v1@sha2": corev1.PullIfNotPresent,
	} {
		if got := defaultPullPolicy(image); got != want {
			t.Errorf("defaultPullPolicy(%q) = %s, want %s", image, got, want)
		}
	}
}

func TestDefaultPod(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		DeprecatedServiceAccount: "builder",
		HostNetwork:              true,
		Containers: []corev1.Container{{
			Name: "app", Image: "nginx",
			Ports:          []corev1.ContainerPort{{ContainerPort: 8080}},
			Env:            []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}},
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": coreQty("1"), "memory": coreQty("1Gi")}, Requests: corev1.ResourceList{"cpu": coreQty("500m")}},
		}},
		Volumes: []corev1.Volume{
			{Name: "scratch"},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var"}}},
		},
	}}
	defaultPod(pod)
	want := corev1.PodSpec{
		DeprecatedServiceAccount:      "builder",
		ServiceAccountName:            "builder",
		HostNetwork:                   true,
		RestartPolicy:                 corev1.RestartPolicyAlways,
		DNSPolicy:                     corev1.DNSClusterFirst,
		TerminationGracePeriodSeconds: ptr.To(int64(30)),
		SchedulerName:                 "default-scheduler",
		SecurityContext:               &corev1.PodSecurityContext{},
		EnableServiceLinks:            ptr.To(true),
		Containers: []corev1.Container{{
			Name: "app", Image: "nginx",
			ImagePullPolicy:          corev1.PullAlways,
			TerminationMessagePath:   "/dev/termination-log",
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			Ports:                    []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080, Protocol: corev1.ProtocolTCP}},
			Env:                      []corev1.EnvVar{{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
			},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{"cpu": coreQty("1"), "memory": coreQty("1Gi")},
				Requests: corev1.ResourceList{"cpu": coreQty("500m"), "memory": coreQty("1Gi")},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr.To(int32(0o644))}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var", Type: ptr.To(corev1.HostPathUnset)}}},
		},
	}
	if !apiequality.Semantic.DeepEqual(pod.Spec, want) {
		t.Errorf("defaulted spec differs (-want +got):\n%s", diff.Diff(want, pod.Spec))
	}
}

// TestDefaultPodTemplateSpec: templates get spec defaults but not the
// pod-only ones (enableServiceLinks, requests from limits).
func TestDefaultPodTemplateSpec(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Image: "nginx:1",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": coreQty("1")}},
	}}}}
	defaultPodTemplateSpec(tmpl)
	if tmpl.Spec.EnableServiceLinks != nil {
		t.Errorf("enableServiceLinks = %v, want unset on templates", *tmpl.Spec.EnableServiceLinks)
	}
	if tmpl.Spec.Containers[0].Resources.Requests != nil {
		t.Errorf("requests = %v, want unset on templates", tmpl.Spec.Containers[0].Resources.Requests)
	}
	if c := tmpl.Spec.Containers[0]; c.ImagePullPolicy != corev1.PullIfNotPresent || tmpl.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("pullPolicy %s restartPolicy %s", c.ImagePullPolicy, tmpl.Spec.RestartPolicy)
	}
}

func TestValidatePod(t *testing.T) {
	c0 := func(p *corev1.Pod) *corev1.Container { return &p.Spec.Containers[0] }
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"valid", func(*corev1.Pod) {}, nil},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil }, []string{"Required spec.containers"}},
		{"bad container name", func(p *corev1.Pod) { c0(p).Name = "App_1" }, []string{"Invalid spec.containers[0].name"}},
		{"duplicate name across init", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{*c0(p).DeepCopy()}
			p.Spec.InitContainers[0].Ports = nil
		}, []string{"Duplicate spec.initContainers[0].name"}},
		{"no image", func(p *corev1.Pod) { c0(p).Image = "" }, []string{"Required spec.containers[0].image"}},
		{"port zero", func(p *corev1.Pod) { c0(p).Ports[0].ContainerPort = 0 }, []string{"Required spec.containers[0].ports[0].containerPort"}},
		{"port too big", func(p *corev1.Pod) { c0(p).Ports[0].ContainerPort = 70000 }, []string{"Invalid spec.containers[0].ports[0].containerPort"}},
		{"duplicate port name", func(p *corev1.Pod) {
			c0(p).Ports = append(c0(p).Ports, corev1.ContainerPort{Name: "http", ContainerPort: 81, Protocol: "TCP"})
		}, []string{"Duplicate spec.containers[0].ports[1].name"}},
		{"bad protocol", func(p *corev1.Pod) { c0(p).Ports[0].Protocol = "ICMP" }, []string{"NotSupported spec.containers[0].ports[0].protocol"}},
		{"host port conflict", func(p *corev1.Pod) {
			c0(p).Ports[0].HostPort = 8080
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "b", ImagePullPolicy: "Always", TerminationMessagePolicy: "File",
				Ports: []corev1.ContainerPort{{ContainerPort: 90, HostPort: 8080, Protocol: "TCP"}}})
		}, []string{"Duplicate spec.containers[1].ports[0].hostPort"}},
		{"hostNetwork port mismatch", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			c0(p).Ports[0].HostPort = 81
		}, []string{"Invalid spec.containers[0].ports[0].hostPort"}},
		{"env name with =", func(p *corev1.Pod) { c0(p).Env = []corev1.EnvVar{{Name: "A=B"}} }, []string{"Invalid spec.containers[0].env[0].name"}},
		{"env value and valueFrom", func(p *corev1.Pod) {
			c0(p).Env = []corev1.EnvVar{{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}}
		}, []string{"Invalid spec.containers[0].env[0].valueFrom"}},
		{"env bad fieldPath", func(p *corev1.Pod) {
			c0(p).Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.hostname"}}}}
		}, []string{"NotSupported spec.containers[0].env[0].valueFrom.fieldRef.fieldPath"}},
		{"duplicate volume", func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, p.Spec.Volumes[0]) }, []string{"Duplicate spec.volumes[1].name"}},
		{"two volume sources", func(p *corev1.Pod) {
			p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/x"}
		}, []string{"Forbidden spec.volumes[0].emptyDir"}}, // the second source in field order
		{"mount of unknown volume", func(p *corev1.Pod) { c0(p).VolumeMounts[0].Name = "nope" }, []string{"NotFound spec.containers[0].volumeMounts[0].name"}},
		{"secret volume without name", func(p *corev1.Pod) {
			p.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr.To(int32(0o1777))}}
		}, []string{"Invalid spec.volumes[0].secret.defaultMode", "Required spec.volumes[0].secret.secretName"}},
		{"bad restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }, []string{"NotSupported spec.restartPolicy"}},
		{"bad dnsPolicy", func(p *corev1.Pod) { p.Spec.DNSPolicy = "Local" }, []string{"NotSupported spec.dnsPolicy"}},
		{"dnsPolicy None needs nameservers", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone }, []string{"Required spec.dnsConfig.nameservers"}},
		{"bad imagePullPolicy", func(p *corev1.Pod) { c0(p).ImagePullPolicy = "Sometimes" }, []string{"NotSupported spec.containers[0].imagePullPolicy"}},
		{"requests above limits", func(p *corev1.Pod) {
			c0(p).Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": coreQty("1")}, Requests: corev1.ResourceList{"cpu": coreQty("2")}}
		}, []string{"Invalid spec.containers[0].resources.requests[cpu]"}},
		{"negative quantity", func(p *corev1.Pod) {
			c0(p).Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": coreQty("-1")}}
		}, []string{"Invalid spec.containers[0].resources.requests[memory]"}},
		{"unknown native resource", func(p *corev1.Pod) {
			c0(p).Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{"gpu": coreQty("1")}}
		}, []string{"Invalid spec.containers[0].resources.limits[gpu]"}},
		{"extended resource request without limit", func(p *corev1.Pod) {
			c0(p).Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{"example.com/gpu": coreQty("1")}}
		}, []string{"Forbidden spec.containers[0].resources.limits"}},
		{"probe without handler", func(p *corev1.Pod) {
			c0(p).LivenessProbe = &corev1.Probe{TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
		}, []string{"Required spec.containers[0].livenessProbe"}},
		{"probe with two handlers", func(p *corev1.Pod) {
			c0(p).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec:      &corev1.ExecAction{Command: []string{"true"}},
				TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)},
			}, SuccessThreshold: 1}
		}, []string{"Forbidden spec.containers[0].readinessProbe.tcpSocket"}},
		{"liveness successThreshold", func(p *corev1.Pod) {
			c0(p).LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}, SuccessThreshold: 2}
		}, []string{"Invalid spec.containers[0].livenessProbe.successThreshold"}},
		{"probe on plain init container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ImagePullPolicy: "Always", TerminationMessagePolicy: "File",
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, SuccessThreshold: 1}}}
		}, []string{"Forbidden spec.initContainers[0].readinessProbe"}},
		{"restartPolicy on regular container", func(p *corev1.Pod) {
			c0(p).RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		}, []string{"Forbidden spec.containers[0].restartPolicy"}},
		{"toleration Exists with value", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}, []string{"Invalid spec.tolerations[0].operator"}},
		{"toleration bad effect", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v", Effect: "Evict"}}
		}, []string{"NotSupported spec.tolerations[0].effect"}},
		{"toleration seconds without NoExecute", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr.To(int64(5))}}
		}, []string{"Invalid spec.tolerations[0].effect"}},
		{"bad nodeSelector", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"a b": "c"} }, []string{"Invalid spec.nodeSelector"}},
		{"empty node affinity terms", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}, []string{"Required spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"}},
		{"pod affinity without topologyKey", func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 200}}}}
		}, []string{
			"Invalid spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
			"Required spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey",
		}},
		{"negative runAsUser", func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To(int64(-1)) }, []string{"Invalid spec.securityContext.runAsUser"}},
		{"privileged without escalation", func(p *corev1.Pod) {
			c0(p).SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false)}
		}, []string{"Invalid spec.containers[0].securityContext"}},
		{"activeDeadlineSeconds zero", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To(int64(0)) }, []string{"Invalid spec.activeDeadlineSeconds"}},
		{"bad serviceAccountName", func(p *corev1.Pod) { p.Spec.ServiceAccountName = "Bad_Name" }, []string{"Invalid spec.serviceAccountName"}},
		{"env fileKeyRef without key", func(p *corev1.Pod) {
			c0(p).Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "data", Path: "env"}}}}
		}, []string{"Required spec.containers[0].env[0].valueFrom.fileKeyRef.key"}},
		{"resize policy", func(p *corev1.Pod) {
			c0(p).ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: "cpu", RestartPolicy: corev1.NotRequired}, {ResourceName: "cpu", RestartPolicy: "Later"}, {ResourceName: "gpu", RestartPolicy: corev1.RestartContainer}}
		}, []string{"Duplicate spec.containers[0].resizePolicy[1].resourceName", "NotSupported spec.containers[0].resizePolicy[1].restartPolicy", "NotSupported spec.containers[0].resizePolicy[2].resourceName"}},
		{"ephemeral containers on create", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, []string{"Forbidden spec.ephemeralContainers"}},
	}
	s := podStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := corePod()
			tt.mutate(pod)
			coreExpectErrs(t, s.Validate(pod), tt.want...)
		})
	}
}

func TestValidatePodUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"no change", func(*corev1.Pod) {}, nil},
		{"image change", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.26" }, nil},
		{"added toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "b", Operator: corev1.TolerationOpExists})
		}, nil},
		{"removed toleration", func(p *corev1.Pod) { p.Spec.Tolerations = nil }, []string{"Forbidden spec.tolerations"}},
		{"shorter deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To(int64(10)) }, nil},
		{"longer deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To(int64(1000)) }, []string{"Invalid spec.activeDeadlineSeconds"}},
		{"unset deadline", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil }, []string{"Invalid spec.activeDeadlineSeconds"}},
		{"removed scheduling gate", func(p *corev1.Pod) { p.Spec.SchedulingGates = nil }, nil},
		{"added scheduling gate", func(p *corev1.Pod) {
			p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "example.com/other"})
		}, []string{"Forbidden spec.schedulingGates[1]"}},
		{"command change", func(p *corev1.Pod) { p.Spec.Containers[0].Command = []string{"sh"} }, []string{"Forbidden spec"}},
		{"restartPolicy change", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }, []string{"Forbidden spec"}},
	}
	s := podStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := corePod()
			old.Spec.Tolerations = []corev1.Toleration{{Key: "a", Operator: corev1.TolerationOpExists}}
			old.Spec.ActiveDeadlineSeconds = ptr.To(int64(100))
			old.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/gate"}}
			pod := old.DeepCopy()
			tt.mutate(pod)
			s.PrepareForUpdate(pod, old)
			coreExpectErrs(t, s.ValidateUpdate(pod, old), tt.want...)
		})
	}
}

func TestPodUpdateForbiddenMessage(t *testing.T) {
	old := corePod()
	pod := old.DeepCopy()
	pod.Spec.Containers[0].Command = []string{"sh"}
	errs := validatePodSpecUpdate(&pod.Spec, &old.Spec, field.NewPath("spec"))
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one", errs)
	}
	msg := errs[0].Detail
	for _, part := range []string{"pod updates may not change fields other than `spec.containers[*].image`", `+   "command": [`} {
		if !strings.Contains(msg, part) {
			t.Errorf("message %q lacks %q", msg, part)
		}
	}
}

func TestPodPrepareForCreateQOS(t *testing.T) {
	res := func(req, lim corev1.ResourceList) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: req, Limits: lim}
	}
	cpuMem := func(cpu, mem string) corev1.ResourceList {
		return corev1.ResourceList{"cpu": coreQty(cpu), "memory": coreQty(mem)}
	}
	tests := []struct {
		name string
		res  []corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"nothing", []corev1.ResourceRequirements{{}}, corev1.PodQOSBestEffort},
		{"limits only (requests defaulted)", []corev1.ResourceRequirements{res(nil, cpuMem("1", "1Gi"))}, corev1.PodQOSGuaranteed},
		{"equal requests and limits", []corev1.ResourceRequirements{res(cpuMem("1", "1Gi"), cpuMem("1", "1Gi"))}, corev1.PodQOSGuaranteed},
		{"requests below limits", []corev1.ResourceRequirements{res(cpuMem("500m", "1Gi"), cpuMem("1", "1Gi"))}, corev1.PodQOSBurstable},
		{"only cpu limit", []corev1.ResourceRequirements{res(nil, corev1.ResourceList{"cpu": coreQty("1")})}, corev1.PodQOSBurstable},
		{"one guaranteed, one empty", []corev1.ResourceRequirements{res(nil, cpuMem("1", "1Gi")), {}}, corev1.PodQOSBurstable},
		{"only extended resources", []corev1.ResourceRequirements{res(nil, corev1.ResourceList{"example.com/gpu": coreQty("1")})}, corev1.PodQOSBestEffort},
	}
	s := podStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
			for i, r := range tt.res {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: string(rune('a' + i)), Image: "x", Resources: r})
			}
			pod.Status.Phase = corev1.PodRunning
			s.Default(pod)
			s.PrepareForCreate(pod)
			if pod.Status.QOSClass != tt.want || pod.Status.Phase != corev1.PodPending {
				t.Errorf("status = %s/%s, want Pending/%s", pod.Status.Phase, pod.Status.QOSClass, tt.want)
			}
		})
	}
}

func TestValidatePodStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"running with ips", func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP, p.Status.PodIPs = "10.0.0.5", []corev1.PodIP{{IP: "10.0.0.5"}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app"}}
		}, nil},
		{"podIPs mismatch", func(p *corev1.Pod) {
			p.Status.PodIP, p.Status.PodIPs = "10.0.0.5", []corev1.PodIP{{IP: "10.0.0.6"}}
		}, []string{"Invalid status.podIPs[0].ip"}},
		{"bad ip", func(p *corev1.Pod) {
			p.Status.PodIP, p.Status.PodIPs = "10.0.0", []corev1.PodIP{{IP: "10.0.0"}}
		}, []string{"Invalid status.podIPs[0].ip"}},
		{"unknown container status", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "other"}}
		}, []string{"NotFound status.containerStatuses[0].name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := corePod()
			old.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
			pod := old.DeepCopy()
			tt.mutate(pod)
			coreExpectErrs(t, validatePodStatusUpdate(pod, old), tt.want...)
		})
	}
	t.Run("terminal phase stays", func(t *testing.T) {
		old := corePod()
		old.Status.Phase = corev1.PodSucceeded
		pod := old.DeepCopy()
		pod.Status.Phase = corev1.PodRunning
		coreExpectErrs(t, validatePodStatusUpdate(pod, old), "Forbidden status.phase")
	})
}
