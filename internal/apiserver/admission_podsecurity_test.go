package apiserver

import (
	"context"
	"net/http"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/admission/podsecurity"
	"github.com/skiffkube/skiff/internal/apiserver/audit"
)

func privilegedPod(name string) *corev1.Pod {
	t := true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "c", SecurityContext: &corev1.SecurityContext{Privileged: &t}},
	}}}
}

// recordingContext returns a context as serveResource makes it, the
// response header warnings go to, and an audit annotations holder.
func recordingContext(t *testing.T) (context.Context, http.Header, *audit.Annotations) {
	t.Helper()
	header := http.Header{}
	ctx, ann := audit.WithAnnotations(withWriteRequest(context.Background(), requestInfo{}, header))
	return ctx, header, ann
}

func TestEvaluatePodSecurity(t *testing.T) {
	lv := func(l podsecurity.Level) podsecurity.LevelVersion {
		return podsecurity.LevelVersion{Level: l, Version: podsecurity.Latest()}
	}
	priv, base := lv(podsecurity.LevelPrivileged), lv(podsecurity.LevelBaseline)
	restricted := lv(podsecurity.LevelRestricted)
	rs := &resourceStore{gr: schema.GroupResource{Resource: "pods"}}
	cases := []struct {
		name        string
		policy      podsecurity.Policy
		isPod       bool
		wantErr     string
		wantWarning []string
		wantAudit   string
	}{
		{"privileged namespace", podsecurity.Policy{Enforce: priv, Audit: priv, Warn: priv}, true, "", nil, ""},
		{"enforce baseline", podsecurity.Policy{Enforce: base, Audit: priv, Warn: priv}, true,
			`pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)`, nil, ""},
		{"warn baseline", podsecurity.Policy{Enforce: priv, Audit: priv, Warn: base}, true, "",
			[]string{`299 - "would violate PodSecurity \"baseline:latest\": privileged (container \"c\" must not set securityContext.privileged=true)"`}, ""},
		{"audit restricted", podsecurity.Policy{Enforce: priv, Audit: restricted, Warn: priv}, true, "", nil,
			`would violate PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), ` +
				`allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ` +
				`unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ` +
				`runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ` +
				`seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
		{"template is only warned", podsecurity.Policy{Enforce: base, Audit: priv, Warn: base}, false, "",
			[]string{`299 - "would violate PodSecurity \"baseline:latest\": privileged (container \"c\" must not set securityContext.privileged=true)"`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, header, ann := recordingContext(t)
			p := privilegedPod("p")
			err := evaluatePodSecurity(ctx, rs, "p", tc.policy, &p.ObjectMeta, &p.Spec, tc.isPod)
			if got := errString(err); got != tc.wantErr {
				t.Errorf("error %q, want %q", got, tc.wantErr)
			}
			if got := header.Values("Warning"); !slices.Equal(got, tc.wantWarning) {
				t.Errorf("warnings %q, want %q", got, tc.wantWarning)
			}
			if got := ann.Snapshot()[auditAuditViolations]; got != tc.wantAudit {
				t.Errorf("audit %q, want %q", got, tc.wantAudit)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPodTemplateOf(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: privilegedPod("x").Spec}}}
	_, spec := podTemplateOf(d)
	if spec == nil || spec.Containers[0].Name != "c" {
		t.Fatalf("deployment template not found: %v", spec)
	}
	if _, spec := podTemplateOf(&corev1.ConfigMap{}); spec != nil {
		t.Errorf("config map has a pod spec: %v", spec)
	}
}

func TestValidatePodSecurityLabels(t *testing.T) {
	rs := &resourceStore{gvk: schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n", Labels: map[string]string{podsecurity.LabelEnforce: "strict"}}}
	want := `Namespace "n" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`
	if got := errString(validatePodSecurityLabels(rs, ns)); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	ns.Labels[podsecurity.LabelEnforce] = "baseline"
	if err := validatePodSecurityLabels(rs, ns); err != nil {
		t.Errorf("valid labels refused: %v", err)
	}
}

func TestExistingPodWarnings(t *testing.T) {
	ok := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ok"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	host := privilegedPod("h")
	host.Spec.HostNetwork = true
	objs := []runtime.Object{privilegedPod("b"), ok, privilegedPod("a"), host, privilegedPod("c")}
	got := existingPodWarnings("ns", podsecurity.LevelVersion{Level: podsecurity.LevelBaseline, Version: podsecurity.Latest()}, objs)
	want := []string{
		`existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"`,
		`a (and 2 other pods): privileged`,
		`h: host namespaces, privileged`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAdmissionWarningsDeduplicated(t *testing.T) {
	ctx, header, _ := recordingContext(t)
	addAdmissionWarning(ctx, "w")
	addAdmissionWarning(ctx, "w")
	if got := header.Values("Warning"); len(got) != 1 {
		t.Errorf("got %q, want one warning", got)
	}
	addAdmissionWarning(context.Background(), "ignored") // no record: no panic
}
