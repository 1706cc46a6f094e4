package podsecurity

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// restrictedPod passes every control of restricted:latest.
func restrictedPod() *corev1.Pod {
	f, t := false, true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   &t,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "c",
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &f,
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func sc(p *corev1.Pod) *corev1.SecurityContext { return p.Spec.Containers[0].SecurityContext }

func TestEvaluate(t *testing.T) {
	baseline := LevelVersion{Level: LevelBaseline, Version: Latest()}
	restricted := LevelVersion{Level: LevelRestricted, Version: Latest()}
	tests := []struct {
		name  string
		lv    LevelVersion
		tweak func(p *corev1.Pod)
		want  string // Details of the violations; "" means allowed
	}{
		{"restricted pod passes", restricted, func(*corev1.Pod) {}, ""},
		{"privileged level allows all", LevelVersion{Level: LevelPrivileged, Version: Latest()},
			func(p *corev1.Pod) { p.Spec.HostNetwork = true }, ""},
		{"host namespaces", baseline, func(p *corev1.Pod) { p.Spec.HostNetwork, p.Spec.HostIPC = true, true },
			"host namespaces (hostNetwork=true, hostIPC=true)"},
		{"privileged", baseline, func(p *corev1.Pod) {
			sc(p).Privileged = ptr(true)
			p.Spec.InitContainers = []corev1.Container{{Name: "i", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}
		}, `privileged (containers "i", "c" must not set securityContext.privileged=true)`},
		{"privileged false allowed", baseline, func(p *corev1.Pod) { sc(p).Privileged = ptr(false) }, ""},
		{"baseline capabilities", baseline, func(p *corev1.Pod) {
			sc(p).Capabilities.Add = []corev1.Capability{"SYS_ADMIN", "CHOWN", "NET_ADMIN"}
		}, `non-default capabilities (container "c" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)`},
		{"baseline capabilities allowed", baseline, func(p *corev1.Pod) { sc(p).Capabilities.Add = []corev1.Capability{"CHOWN"} }, ""},
		{"hostPath baseline", baseline, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, `hostPath volumes (volume "h")`},
		{"hostPath restricted", restricted, func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}},
				corev1.Volume{Name: "n", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{}}})
		}, `restricted volume types (volumes "h", "n" use restricted volume types "hostPath", "nfs")`},
		{"host ports", baseline, func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81}, {ContainerPort: 443, HostPort: 443}}
		}, `hostPort (container "c" uses hostPorts 443, 8080)`},
		{"container port without host port", baseline, func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		}, ""},
		{"apparmor annotation", baseline, func(p *corev1.Pod) {
			p.Annotations = map[string]string{appArmorAnnotationPrefix + "c": "unconfined", appArmorAnnotationPrefix + "d": "localhost/x"}
		}, `forbidden AppArmor profile (container.apparmor.security.beta.kubernetes.io/c="unconfined")`},
		{"apparmor field", baseline, func(p *corev1.Pod) {
			sc(p).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
		}, `forbidden AppArmor profile (container "c" must not set AppArmor profile type to "Unconfined")`},
		{"apparmor runtime default", baseline, func(p *corev1.Pod) {
			sc(p).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
		}, ""},
		{"selinux", baseline, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t", User: "u"}
			sc(p).SELinuxOptions = &corev1.SELinuxOptions{Role: "r"}
		}, `seLinuxOptions (pod and container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)`},
		{"selinux allowed type", baseline, func(p *corev1.Pod) { sc(p).SELinuxOptions = &corev1.SELinuxOptions{Type: "container_t", Level: "s0"} }, ""},
		{"proc mount", baseline, func(p *corev1.Pod) { sc(p).ProcMount = ptr(corev1.UnmaskedProcMount) },
			`procMount (container "c" must not set securityContext.procMount to "Unmasked")`},
		{"proc mount default", baseline, func(p *corev1.Pod) { sc(p).ProcMount = ptr(corev1.DefaultProcMount) }, ""},
		{"seccomp unconfined baseline", baseline, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile.Type = corev1.SeccompProfileTypeUnconfined
		}, `seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")`},
		{"sysctls", baseline, func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax"}, {Name: "net.ipv4.tcp_syncookies"}, {Name: "vm.swappiness"}}
		}, "forbidden sysctls (kernel.msgmax, vm.swappiness)"},
		{"sysctl added in v1.29 at v1.28", LevelVersion{Level: LevelBaseline, Version: MinorVersion(28)}, func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.tcp_keepalive_time"}}
		}, "forbidden sysctls (net.ipv4.tcp_keepalive_time)"},
		{"sysctl added in v1.29 at latest", baseline, func(p *corev1.Pod) {
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.tcp_keepalive_time"}}
		}, ""},
		{"windows host process", baseline, func(p *corev1.Pod) {
			sc(p).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
		}, `hostProcess (container "c" must not set securityContext.windowsOptions.hostProcess=true)`},
		{"probe host", baseline, func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1"}}}
		}, `probe or lifecycle host (container "c" uses probe or lifecycle host "10.0.0.1")`},
		{"probe host before v1.34", LevelVersion{Level: LevelBaseline, Version: MinorVersion(33)}, func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1"}}}
		}, ""},
		{"privilege escalation", restricted, func(p *corev1.Pod) { sc(p).AllowPrivilegeEscalation = nil },
			`allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)`},
		{"restricted capabilities", restricted, func(p *corev1.Pod) {
			sc(p).Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE", "CHOWN"}}
		}, `unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "CHOWN" in securityContext.capabilities.add)`},
		{"restricted capabilities NET_BIND_SERVICE", restricted, func(p *corev1.Pod) {
			sc(p).Capabilities.Add = []corev1.Capability{"NET_BIND_SERVICE"}
		}, ""},
		{"run as non root unset", restricted, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = nil },
			`runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)`},
		{"run as non root false", restricted, func(p *corev1.Pod) { sc(p).RunAsNonRoot = ptr(false) },
			`runAsNonRoot != true (container "c" must not set securityContext.runAsNonRoot=false)`},
		{"run as non root on container only", restricted, func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsNonRoot = nil
			sc(p).RunAsNonRoot = ptr(true)
		}, ""},
		{"run as root user", restricted, func(p *corev1.Pod) {
			p.Spec.SecurityContext.RunAsUser = ptr(int64(0))
			sc(p).RunAsUser = ptr(int64(0))
		}, `runAsUser=0 (pod and container "c" must not set runAsUser=0)`},
		{"run as user 1000", restricted, func(p *corev1.Pod) { sc(p).RunAsUser = ptr(int64(1000)) }, ""},
		{"seccomp unset", restricted, func(p *corev1.Pod) { p.Spec.SecurityContext.SeccompProfile = nil },
			`seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
		{"seccomp unconfined container", restricted, func(p *corev1.Pod) {
			sc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, `seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")`},
		{"seccomp localhost container only", restricted, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SeccompProfile = nil
			sc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}
		}, ""},
		{"windows pod skips some restricted controls", restricted, func(p *corev1.Pod) {
			p.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
			p.Spec.SecurityContext.SeccompProfile = nil
			sc(p).AllowPrivilegeEscalation = nil
			sc(p).Capabilities = nil
		}, ""},
		{"empty container restricted", restricted, func(p *corev1.Pod) {
			p.Spec.SecurityContext = nil
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
		}, `privileged (container "c" must not set securityContext.privileged=true), ` +
			`allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ` +
			`unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ` +
			`runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ` +
			`seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
		{"restricted ignores baseline-only capabilities check", restricted, func(p *corev1.Pod) {
			sc(p).Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
		}, `unrestricted capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add)`},
		{"v1.21 has no capabilities_restricted", LevelVersion{Level: LevelRestricted, Version: MinorVersion(21)}, func(p *corev1.Pod) {
			sc(p).Capabilities = nil
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := restrictedPod()
			tt.tweak(p)
			got := Details(Evaluate(tt.lv, &p.ObjectMeta, &p.Spec))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	p := restrictedPod()
	p.Spec.HostPID = true
	sc(p).Privileged = ptr(true)
	got := Reasons(Evaluate(LevelVersion{Level: LevelBaseline, Version: Latest()}, &p.ObjectMeta, &p.Spec))
	if want := "host namespaces, privileged"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPolicyFromLabels(t *testing.T) {
	tests := []struct {
		name    string
		labels  map[string]string
		want    Policy
		wantErr int
	}{
		{"none", nil, Policy{
			Enforce: LevelVersion{LevelPrivileged, Latest()}, Audit: LevelVersion{LevelPrivileged, Latest()}, Warn: LevelVersion{LevelPrivileged, Latest()},
		}, 0},
		{"all set", map[string]string{LabelEnforce: "restricted", LabelEnforce + "-version": "v1.30", LabelWarn: "baseline", LabelAudit: "restricted"}, Policy{
			Enforce: LevelVersion{LevelRestricted, MinorVersion(30)}, Audit: LevelVersion{LevelRestricted, Latest()}, Warn: LevelVersion{LevelBaseline, Latest()},
		}, 0},
		{"invalid fails closed", map[string]string{LabelEnforce: "strict", LabelWarn + "-version": "1.2"}, Policy{
			Enforce: LevelVersion{LevelRestricted, Latest()}, Audit: LevelVersion{LevelPrivileged, Latest()}, Warn: LevelVersion{LevelPrivileged, Latest()},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := PolicyFromLabels(tt.labels)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if len(errs) != tt.wantErr {
				t.Errorf("got %d errors (%v), want %d", len(errs), errs, tt.wantErr)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{"latest": "latest", "v1.0": "v1.0", "v1.31": "v1.31", "v2.1": "", "v1.": "", "v1.01": "", "1.2": ""} {
		v, err := ParseVersion(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseVersion(%q) = %v, want error", in, v)
			}
			continue
		}
		if err != nil || v.String() != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %s", in, v, err, want)
		}
	}
}
