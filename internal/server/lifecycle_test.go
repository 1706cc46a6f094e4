package server_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
)

func TestServerSideApply(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "ssa")
	cms := fixture.cs.CoreV1().ConfigMaps(ns)
	alice := applycorev1.ConfigMap("shared", ns).WithData(map[string]string{"k": "alice", "a": "1"})
	out, err := cms.Apply(ctx, alice, metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Data["k"] != "alice" || len(out.ManagedFields) != 1 || out.ManagedFields[0].Manager != "alice" ||
		out.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("after first apply: data=%v managedFields=%+v", out.Data, out.ManagedFields)
	}
	bob := applycorev1.ConfigMap("shared", ns).WithData(map[string]string{"k": "bob"})
	_, err = cms.Apply(ctx, bob, metav1.ApplyOptions{FieldManager: "bob"})
	if !apierrors.IsConflict(err) {
		t.Fatalf("conflicting apply: %v, want Conflict", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != ".data.k" || st.Details.Causes[0].Type != metav1.CauseTypeFieldManagerConflict {
		t.Errorf("conflict causes %+v", st.Details.Causes)
	}
	out, err = cms.Apply(ctx, bob, metav1.ApplyOptions{FieldManager: "bob", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if out.Data["k"] != "bob" || out.Data["a"] != "1" {
		t.Errorf("after forced apply data = %v", out.Data)
	}
	// Alice re-applies without k: she no longer owns it, so it stays.
	out, err = cms.Apply(ctx, applycorev1.ConfigMap("shared", ns).WithData(map[string]string{"a": "1"}), metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil || out.Data["k"] != "bob" {
		t.Errorf("alice re-apply: %v data=%v", err, out.Data)
	}
	// Dropping a field from one's own apply removes it.
	out, err = cms.Apply(ctx, applycorev1.ConfigMap("shared", ns).WithData(map[string]string{}), metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil || out.Data["a"] != "" || out.Data["k"] != "bob" {
		t.Errorf("alice drops a: %v data=%v", err, out.Data)
	}
	// Apply without a field manager is refused.
	r := raw(t, "PATCH", "/api/v1/namespaces/"+ns+"/configmaps/shared", "application/apply-patch+yaml", stringsReader("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n"))
	if r.code != 422 {
		t.Errorf("apply without fieldManager: %d %s", r.code, r.body)
	}
	// Patch types through the typed client.
	if _, err := cms.Patch(ctx, "shared", types.MergePatchType, []byte(`{"data":{"m":"x"}}`), metav1.PatchOptions{FieldManager: "merger"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Patch(ctx, "shared", types.JSONPatchType, []byte(`[{"op":"replace","path":"/data/m","value":"y"}]`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Patch(ctx, "shared", types.StrategicMergePatchType, []byte(`{"data":{"s":"z"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "shared", metav1.GetOptions{})
	if err != nil || got.Data["m"] != "y" || got.Data["s"] != "z" {
		t.Errorf("after patches: %v %v", err, got.Data)
	}
}

func TestFinalizersBlockDeletion(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "fin")
	cms := fixture.cs.CoreV1().ConfigMaps(ns)
	c := cm(ns, "held", nil, nil)
	c.Finalizers = []string{"example.com/hold"}
	if _, err := cms.Create(ctx, c, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil || got.DeletionTimestamp == nil {
		t.Fatalf("finalized object after delete: %v %+v", err, got)
	}
	// No new finalizers while deleting.
	add := got.DeepCopy()
	add.Finalizers = append(add.Finalizers, "example.com/other")
	if _, err := cms.Update(ctx, add, metav1.UpdateOptions{}); !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
		t.Errorf("adding a finalizer while deleting: %v, want refused", err)
	}
	got.Finalizers = nil
	if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after removing the last finalizer: %v, want NotFound", err)
	}
}

func TestGracefulPodDeletion(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "grace")
	pods := fixture.cs.CoreV1().Pods(ns)
	p := pod(ns, "bound")
	p.Spec.NodeName = "node-1"
	if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := pods.Get(ctx, "bound", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("a bound pod is gone at once: %v", err)
	}
	if got.DeletionTimestamp == nil || got.DeletionGracePeriodSeconds == nil || *got.DeletionGracePeriodSeconds != 30 {
		t.Errorf("deletionTimestamp=%v grace=%v, want set and 30", got.DeletionTimestamp, got.DeletionGracePeriodSeconds)
	}
	zero := int64(0)
	if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after gracePeriodSeconds=0: %v, want NotFound", err)
	}

	// Binding sets the node; a second binding conflicts.
	if _, err := pods.Create(ctx, pod(ns, "tobind"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "tobind"}, Target: corev1.ObjectReference{Kind: "Node", Name: "node-2"}}
	if err := pods.Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err = pods.Get(ctx, "tobind", metav1.GetOptions{})
	if err != nil || got.Spec.NodeName != "node-2" {
		t.Errorf("after binding: %v node=%q", err, got.Spec.NodeName)
	}
	if err := pods.Bind(ctx, b, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("second binding: %v, want Conflict", err)
	}
}
