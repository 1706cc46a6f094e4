package server_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/server"
)

// warningCollector keeps the Warning headers the server sends.
type warningCollector struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningCollector) HandleWarningHeader(_ int, _ string, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

// labelNamespace sets labels on a namespace and waits until the watch
// cache, which admission reads, has them.
func labelNamespace(t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ctx := context.Background()
	ns, err := fixture.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range labels {
		ns.Labels[k] = v
	}
	if _, err := fixture.cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := fixture.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err
		}
		for k, v := range labels {
			if got.Labels[k] != v {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSecurityAdmission covers PodSecurity enforce and warn, Priority,
// TaintNodesByCondition and DefaultStorageClass against a real server.
func TestSecurityAdmission(t *testing.T) {
	ctx := context.Background()
	cs := fixture.cs
	ns := createNamespace(t, "psa-restricted")
	labelNamespace(t, ns, map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "baseline"})
	priv := true
	pod := simplePod("priv")
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &priv}
	_, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	want := `pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("privileged pod: got %v, want prefix %q", err, want)
	}

	t.Run("invalid label refused", func(t *testing.T) {
		bad := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "psa-bad", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "strict"}}}
		_, err := cs.CoreV1().Namespaces().Create(ctx, bad, metav1.CreateOptions{})
		if err == nil || !strings.Contains(err.Error(), `Invalid value: "strict": must be one of privileged, baseline, restricted`) {
			t.Errorf("got %v", err)
		}
	})

	t.Run("warn baseline", func(t *testing.T) {
		wns := createNamespace(t, "psa-warn")
		labelNamespace(t, wns, map[string]string{"pod-security.kubernetes.io/warn": "baseline"})
		warnings := &warningCollector{}
		cfg := rest.CopyConfig(fixture.cfg)
		cfg.WarningHandler = warnings
		wcs := kubernetes.NewForConfigOrDie(cfg)
		p := simplePod("hostnet")
		p.Spec.HostNetwork = true
		if _, err := wcs.CoreV1().Pods(wns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		wantWarning := `would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)`
		warnings.mu.Lock()
		defer warnings.mu.Unlock()
		if len(warnings.msgs) != 1 || warnings.msgs[0] != wantWarning {
			t.Errorf("warnings %q, want %q", warnings.msgs, wantWarning)
		}
	})

	t.Run("labelling warns of existing pods", func(t *testing.T) {
		lns := createNamespace(t, "psa-label")
		if _, err := cs.CoreV1().Pods(lns).Create(ctx, pod.DeepCopy(), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().Pods(lns).Get(ctx, "priv", metav1.GetOptions{ResourceVersion: "0"})
			return err == nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		warnings := &warningCollector{}
		cfg := rest.CopyConfig(fixture.cfg)
		cfg.WarningHandler = warnings
		wcs := kubernetes.NewForConfigOrDie(cfg)
		o, err := wcs.CoreV1().Namespaces().Get(ctx, lns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		o.Labels["pod-security.kubernetes.io/enforce"] = "baseline"
		if _, err := wcs.CoreV1().Namespaces().Update(ctx, o, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			`existing pods in namespace "psa-label" violate the new PodSecurity enforce level "baseline:latest"`,
			`priv: privileged`,
		}
		warnings.mu.Lock()
		defer warnings.mu.Unlock()
		if !slices.Equal(warnings.msgs, want) {
			t.Errorf("warnings %q, want %q", warnings.msgs, want)
		}
	})

	t.Run("priority", func(t *testing.T) {
		if err := server.EnsureSystemPriorityClasses(ctx, cs); err != nil {
			t.Fatal(err)
		}
		pns := createNamespace(t, "priority")
		p := simplePod("crit")
		p.Spec.PriorityClassName = "system-cluster-critical"
		got, err := cs.CoreV1().Pods(pns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.Priority == nil || *got.Spec.Priority != 2000000000 {
			t.Errorf("priority %v, want 2000000000", got.Spec.Priority)
		}
		p = simplePod("unknown")
		p.Spec.PriorityClassName = "nope"
		_, err = cs.CoreV1().Pods(pns).Create(ctx, p, metav1.CreateOptions{})
		if want := `pods "unknown" is forbidden: no PriorityClass with name nope was found`; err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	})

	t.Run("node not-ready taint", func(t *testing.T) {
		n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "taint-me"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}) })
		if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "node.kubernetes.io/not-ready" || n.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
			t.Errorf("taints %v", n.Spec.Taints)
		}
	})

	t.Run("default storage class", func(t *testing.T) {
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard",
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}}, Provisioner: "example.com/p"}
		if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.StorageV1().StorageClasses().Delete(ctx, sc.Name, metav1.DeleteOptions{}) })
		sns := createNamespace(t, "default-sc")
		// Admission reads classes from the watch cache: wait until it has it.
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
			l, err := cs.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			return err == nil && len(l.Items) > 0, err
		})
		if err != nil {
			t.Fatal(err)
		}
		pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
		claim, err := cs.CoreV1().PersistentVolumeClaims(sns).Create(ctx, pvc, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != "standard" {
			t.Errorf("storageClassName %v, want standard", claim.Spec.StorageClassName)
		}
	})
}
