package namespace_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/server/servertest"
)

// startServer runs a whole control plane on loopback for the test.
func startServer(t *testing.T) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(servertest.Start(t).AdminConfig())
}

// waitNamespace watches namespace name until cond holds or the namespace
// is deleted (cond then sees nil).
func waitNamespace(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, cond func(*corev1.Namespace) bool) {
	t.Helper()
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "namespaces", "", fields.OneTermEqualSelector("metadata.name", name))
	gone := func(store cache.Store) (bool, error) {
		_, exists, err := store.GetByKey(name)
		return !exists && cond(nil), err
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Namespace{}, gone, func(e watch.Event) (bool, error) {
		if e.Type == watch.Deleted {
			return cond(nil), nil
		}
		ns, ok := e.Object.(*corev1.Namespace)
		return ok && cond(ns), nil
	})
	if err != nil {
		t.Fatalf("waiting for namespace %s: %v", name, err)
	}
}

func hasCondition(ns *corev1.Namespace, ct corev1.NamespaceConditionType, status corev1.ConditionStatus) bool {
	for _, c := range ns.Status.Conditions {
		if c.Type == ct && c.Status == status {
			return true
		}
	}
	return false
}

func create(t *testing.T, what string, fn func() (runtime.Object, error)) {
	t.Helper()
	if _, err := fn(); err != nil {
		t.Fatalf("creating %s: %v", what, err)
	}
}

func TestNamespaceDeletion(t *testing.T) {
	cs := startServer(t)

	t.Run("content then namespace removed", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ns := "demo"
		create(t, "namespace", func() (runtime.Object, error) {
			return cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		})
		for _, name := range []string{"a", "b", "c"} {
			create(t, "configmap", func() (runtime.Object, error) {
				return cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			})
			create(t, "secret", func() (runtime.Object, error) {
				return cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			})
		}
		create(t, "deployment", func() (runtime.Object, error) {
			return cs.AppsV1().Deployments(ns).Create(ctx, deployment("web"), metav1.CreateOptions{})
		})

		start := time.Now()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitNamespace(ctx, t, cs, ns, func(n *corev1.Namespace) bool { return n == nil })
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("namespace removal took %v, want a few seconds at most", d)
		}
		cms, err1 := cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
		secs, err2 := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		deps, err3 := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("listing leftovers: %v %v %v", err1, err2, err3)
		}
		if n := len(cms.Items) + len(secs.Items) + len(deps.Items); n != 0 {
			t.Errorf("%d objects left in the deleted namespace", n)
		}
	})

	t.Run("finalizers hold the namespace", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ns := "held"
		create(t, "namespace", func() (runtime.Object, error) {
			return cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		})
		create(t, "held configmap", func() (runtime.Object, error) {
			return cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
		})
		create(t, "secret", func() (runtime.Object, error) {
			return cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "free"}}, metav1.CreateOptions{})
		})
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitNamespace(ctx, t, cs, ns, func(n *corev1.Namespace) bool {
			if n == nil {
				t.Fatal("namespace removed while a finalizer held its content")
			}
			return hasCondition(n, corev1.NamespaceFinalizersRemaining, corev1.ConditionTrue) &&
				hasCondition(n, corev1.NamespaceContentRemaining, corev1.ConditionTrue)
		})
		got, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil || got.Status.Phase != corev1.NamespaceTerminating {
			t.Fatalf("namespace while held: %v, phase %q; want Terminating", err, got.Status.Phase)
		}
		if _, err := cs.CoreV1().Secrets(ns).Get(ctx, "free", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("secret without finalizers: %v, want NotFound", err)
		}
		held, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "held", metav1.GetOptions{})
		if err != nil || held.DeletionTimestamp == nil {
			t.Fatalf("held configmap: %v, %+v; want it marked for deletion", err, held)
		}

		held.Finalizers = nil
		if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, held, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("removing the finalizer: %v", err)
		}
		start := time.Now()
		waitNamespace(ctx, t, cs, ns, func(n *corev1.Namespace) bool { return n == nil })
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("namespace removal after the finalizer took %v", d)
		}
	})
}

func deployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
}
