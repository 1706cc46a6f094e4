package server_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

func simplePod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
}

// TestAdmissionServiceAccount checks the default service account, its
// token volume and the refusal of a missing account, right after the
// namespace is created.
func TestAdmissionServiceAccount(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "admission-sa")
	p, err := cs.CoreV1().Pods(ns).Create(ctx, simplePod("p"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.ServiceAccountName != "default" {
		t.Errorf("serviceAccountName %q, want default", p.Spec.ServiceAccountName)
	}
	if len(p.Spec.Volumes) != 1 || !strings.HasPrefix(p.Spec.Volumes[0].Name, "kube-api-access-") || p.Spec.Volumes[0].Projected == nil {
		t.Fatalf("volumes %+v, want the token volume", p.Spec.Volumes)
	}
	m := p.Spec.Containers[0].VolumeMounts
	if len(m) != 1 || m[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" || !m[0].ReadOnly {
		t.Errorf("mounts %+v", m)
	}
	if n := len(p.Spec.Tolerations); n != 2 || *p.Spec.Tolerations[0].TolerationSeconds != 300 {
		t.Errorf("tolerations %+v, want the two defaults", p.Spec.Tolerations)
	}
	bad := simplePod("q")
	bad.Spec.ServiceAccountName = "nobody"
	_, err = cs.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{})
	want := `pods "q" is forbidden: error looking up service account admission-sa/nobody: serviceaccount "nobody" not found`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestAdmissionResourceQuota checks that concurrent creates cannot pass a
// quota and that the refusal reads as upstream's.
func TestAdmissionResourceQuota(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "admission-quota")
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		"count/configmaps": resource.MustParse("6"), "pods": resource.MustParse("1"), "requests.cpu": resource.MustParse("1"),
	}}}
	if _, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, q, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// kube-root-ca.crt takes one configmap of the six.
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-" + string(rune('a'+i))}}
			_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota: q"):
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if created != 5 || refused != 15 {
		t.Errorf("created %d, refused %d; want 5 and 15", created, refused)
	}
	noCPU := simplePod("nocpu")
	_, err := cs.CoreV1().Pods(ns).Create(ctx, noCPU, metav1.CreateOptions{})
	if want := `pods "nocpu" is forbidden: failed quota: q: must specify requests.cpu for: c`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	withCPU := func(name string) *corev1.Pod {
		p := simplePod(name)
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}
		return p
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, withCPU("p1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = cs.CoreV1().Pods(ns).Create(ctx, withCPU("p2"), metav1.CreateOptions{})
	if want := `pods "p2" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestAdmissionLimitRanger checks defaults and bounds from a LimitRange.
func TestAdmissionLimitRanger(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "admission-limits")
	lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Default: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")},
		DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
		Max:            corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
	}}}}
	if _, err := cs.CoreV1().LimitRanges(ns).Create(ctx, lr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The watch cache may lag the LimitRange by a moment.
	var p *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.CoreV1().Pods(ns).Create(ctx, simplePod("p"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return false, err
		}
		p = got
		return len(got.Spec.Containers[0].Resources.Limits) > 0, nil
	})
	if err != nil {
		t.Fatalf("pod never defaulted: %v", err)
	}
	r := p.Spec.Containers[0].Resources
	if r.Limits.Cpu().String() != "500m" || r.Requests.Cpu().String() != "100m" {
		t.Errorf("resources %+v, want limit 500m and request 100m", r)
	}
	big := simplePod("big")
	big.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	_, err = cs.CoreV1().Pods(ns).Create(ctx, big, metav1.CreateOptions{})
	if want := `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
