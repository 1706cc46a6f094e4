package garbagecollector_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/server/servertest"
)

// holdFinalizer keeps a dependent in deletion until the test lets it go.
const holdFinalizer = "test.skiff.io/hold"

// startServer runs a whole control plane, collector included, on loopback.
func startServer(t *testing.T) kubernetes.Interface {
	t.Helper()
	return kubernetes.NewForConfigOrDie(servertest.Start(t).AdminConfig())
}

// fixture is one namespace with an owner ConfigMap and two Secrets it owns.
type fixture struct {
	cs    kubernetes.Interface
	ns    string
	owner *corev1.ConfigMap
}

func newFixture(t *testing.T, cs kubernetes.Interface, ns string, block bool, extraOwners ...metav1.OwnerReference) fixture {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	owner, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating owner: %v", err)
	}
	ref := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, BlockOwnerDeletion: &block}
	for _, name := range []string{"s1", "s2"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: append([]metav1.OwnerReference{ref}, extraOwners...)}}
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating dependent %s: %v", name, err)
		}
	}
	return fixture{cs: cs, ns: ns, owner: owner}
}

func (f fixture) deleteOwner(t *testing.T, policy metav1.DeletionPropagation) {
	t.Helper()
	err := f.cs.CoreV1().ConfigMaps(f.ns).Delete(context.Background(), "owner", metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil {
		t.Fatalf("deleting owner (%s): %v", policy, err)
	}
}

// waitSecrets waits until cond holds for the namespace's Secrets.
func (f fixture) waitSecrets(t *testing.T, what string, cond func(map[string]*corev1.Secret) bool) {
	t.Helper()
	lw := cache.NewListWatchFromClient(f.cs.CoreV1().RESTClient(), "secrets", f.ns, fields.Everything())
	waitFor(t, what, lw, &corev1.Secret{}, func(items []any) bool {
		byName := map[string]*corev1.Secret{}
		for _, item := range items {
			s := item.(*corev1.Secret)
			byName[s.Name] = s
		}
		return cond(byName)
	})
}

// waitOwner waits until cond holds for the owner ConfigMap (nil once gone).
func (f fixture) waitOwner(t *testing.T, what string, cond func(*corev1.ConfigMap) bool) {
	t.Helper()
	lw := cache.NewListWatchFromClient(f.cs.CoreV1().RESTClient(), "configmaps", f.ns, fields.OneTermEqualSelector("metadata.name", "owner"))
	waitFor(t, what, lw, &corev1.ConfigMap{}, func(items []any) bool {
		if len(items) == 0 {
			return cond(nil)
		}
		return cond(items[0].(*corev1.ConfigMap))
	})
}

// waitFor runs an informer over lw and returns once cond holds for its
// store's content, re-checking on every event.
func waitFor(t *testing.T, what string, lw cache.ListerWatcher, obj runtime.Object, cond func([]any) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	changed := make(chan struct{}, 1)
	notify := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	store, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    obj,
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc: notify, UpdateFunc: func(_, o any) { notify(o) }, DeleteFunc: notify,
		},
	})
	done := make(chan struct{})
	go func() { defer close(done); informer.RunWithContext(ctx) }()
	defer func() { cancel(); <-done }()
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		t.Fatalf("waiting for %s: cache did not sync", what)
	}
	for !cond(store.List()) {
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestCascadingDeletion(t *testing.T) {
	cs := startServer(t)
	t.Run("background deletes the dependents", func(t *testing.T) {
		f := newFixture(t, cs, "gc-background", false)
		f.deleteOwner(t, metav1.DeletePropagationBackground)
		f.waitSecrets(t, "dependents deleted", func(s map[string]*corev1.Secret) bool { return len(s) == 0 })
	})
	t.Run("foreground waits for blocking dependents", func(t *testing.T) {
		f := newFixture(t, cs, "gc-foreground", true)
		hold(t, cs, f.ns, "s1")
		f.deleteOwner(t, metav1.DeletePropagationForeground)
		f.waitSecrets(t, "s2 deleted, s1 held in deletion", func(s map[string]*corev1.Secret) bool {
			return s["s2"] == nil && s["s1"] != nil && s["s1"].DeletionTimestamp != nil
		})
		owner, err := cs.CoreV1().ConfigMaps(f.ns).Get(context.Background(), "owner", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("owner must stay while a blocking dependent remains: %v", err)
		}
		if owner.DeletionTimestamp == nil || !slices.Contains(owner.Finalizers, metav1.FinalizerDeleteDependents) {
			t.Fatalf("owner deletionTimestamp %v finalizers %v; want set and %q", owner.DeletionTimestamp, owner.Finalizers, metav1.FinalizerDeleteDependents)
		}
		release(t, cs, f.ns, "s1")
		f.waitSecrets(t, "all dependents deleted", func(s map[string]*corev1.Secret) bool { return len(s) == 0 })
		f.waitOwner(t, "owner deleted", func(cm *corev1.ConfigMap) bool { return cm == nil })
	})
	t.Run("foreground does not wait for non-blocking dependents", func(t *testing.T) {
		f := newFixture(t, cs, "gc-foreground-nonblocking", false)
		hold(t, cs, f.ns, "s1")
		f.deleteOwner(t, metav1.DeletePropagationForeground)
		f.waitOwner(t, "owner deleted", func(cm *corev1.ConfigMap) bool { return cm == nil })
		f.waitSecrets(t, "s2 deleted, s1 held", func(s map[string]*corev1.Secret) bool {
			return len(s) == 1 && s["s1"] != nil && s["s1"].DeletionTimestamp != nil
		})
		release(t, cs, f.ns, "s1")
	})
	t.Run("foreground cascades through dependents that own objects", func(t *testing.T) {
		f := newFixture(t, cs, "gc-foreground-chain", true)
		block := true
		mid, err := cs.CoreV1().ConfigMaps(f.ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mid",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: f.owner.UID, BlockOwnerDeletion: &block}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		leaf := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "leaf", Finalizers: []string{holdFinalizer},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "mid", UID: mid.UID, BlockOwnerDeletion: &block}}}}
		if _, err := cs.CoreV1().Secrets(f.ns).Create(context.Background(), leaf, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.deleteOwner(t, metav1.DeletePropagationForeground)
		f.waitSecrets(t, "s1 and s2 deleted, leaf held", func(s map[string]*corev1.Secret) bool {
			return len(s) == 1 && s["leaf"] != nil && s["leaf"].DeletionTimestamp != nil
		})
		// kube-root-ca.crt, published in every namespace, is not part of it.
		cms, err := cs.CoreV1().ConfigMaps(f.ns).List(context.Background(), metav1.ListOptions{FieldSelector: "metadata.name!=kube-root-ca.crt"})
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range cms.Items {
			if cm.DeletionTimestamp == nil || !slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents) {
				t.Errorf("%s: deletionTimestamp %v, finalizers %v; want a foreground deletion waiting for the leaf", cm.Name, cm.DeletionTimestamp, cm.Finalizers)
			}
		}
		if len(cms.Items) != 2 {
			t.Errorf("%d ConfigMaps while the leaf is held, want owner and mid", len(cms.Items))
		}
		release(t, cs, f.ns, "leaf")
		f.waitOwner(t, "owner deleted", func(cm *corev1.ConfigMap) bool { return cm == nil })
		if _, err := cs.CoreV1().ConfigMaps(f.ns).Get(context.Background(), "mid", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("mid after the owner is gone: %v, want not found", err)
		}
	})
	t.Run("orphan keeps the dependents without the reference", func(t *testing.T) {
		f := newFixture(t, cs, "gc-orphan", true)
		f.deleteOwner(t, metav1.DeletePropagationOrphan)
		f.waitOwner(t, "owner deleted", func(cm *corev1.ConfigMap) bool { return cm == nil })
		list, err := cs.CoreV1().Secrets(f.ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 2 {
			t.Fatalf("%d secrets left after orphaning, want 2", len(list.Items))
		}
		for _, s := range list.Items {
			if len(s.OwnerReferences) != 0 || s.DeletionTimestamp != nil {
				t.Errorf("orphaned %s: ownerReferences %v, deletionTimestamp %v; want none", s.Name, s.OwnerReferences, s.DeletionTimestamp)
			}
		}
	})
	t.Run("a remaining owner keeps the dependents", func(t *testing.T) {
		keeper, err := cs.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "gc-keeper"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating a cluster-scoped owner: %v", err)
		}
		keep := metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: keeper.Name, UID: keeper.UID}
		f := newFixture(t, cs, "gc-two-owners", false, keep)
		f.deleteOwner(t, metav1.DeletePropagationBackground)
		f.waitSecrets(t, "dangling references removed", func(s map[string]*corev1.Secret) bool {
			return len(s) == 2 && onlyOwner(s["s1"], keeper.UID) && onlyOwner(s["s2"], keeper.UID)
		})
		if err := cs.CoreV1().Nodes().Delete(context.Background(), keeper.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		f.waitSecrets(t, "dependents of the deleted node deleted", func(s map[string]*corev1.Secret) bool { return len(s) == 0 })
	})
	t.Run("a dependent created with an absent owner is deleted", func(t *testing.T) {
		ns := "gc-dangling"
		f := newFixture(t, cs, ns, false)
		ghost := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: types.UID("00000000-0000-0000-0000-00000000dead")}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dangling", OwnerReferences: []metav1.OwnerReference{ghost}}}
		if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		f.waitSecrets(t, "dangling secret deleted", func(s map[string]*corev1.Secret) bool { return len(s) == 2 && s["dangling"] == nil })
	})
}

func onlyOwner(s *corev1.Secret, uid types.UID) bool {
	return s != nil && len(s.OwnerReferences) == 1 && s.OwnerReferences[0].UID == uid
}

// hold adds holdFinalizer to a Secret; release removes it.
func hold(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	patchFinalizers(t, cs, ns, name, []string{holdFinalizer})
}

func release(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	patchFinalizers(t, cs, ns, name, nil)
}

func patchFinalizers(t *testing.T, cs kubernetes.Interface, ns, name string, finalizers []string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers}})
	_, err := cs.CoreV1().Secrets(ns).Patch(context.Background(), name, types.MergePatchType, body, metav1.PatchOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("setting finalizers of %s: %v", name, err)
	}
}
