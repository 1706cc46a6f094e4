package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
)

func TestTypedCRUD(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "crud")
	cs := fixture.cs

	// Pod: defaults as upstream.
	p, err := cs.CoreV1().Pods(ns).Create(ctx, pod(ns, "p1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.UID == "" || p.ResourceVersion == "" || p.CreationTimestamp.IsZero() {
		t.Errorf("server fields not set: uid=%q rv=%q created=%v", p.UID, p.ResourceVersion, p.CreationTimestamp)
	}
	c := p.Spec.Containers[0]
	if p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.DNSPolicy != corev1.DNSClusterFirst ||
		ptr.Deref(p.Spec.TerminationGracePeriodSeconds, 0) != 30 || c.ImagePullPolicy != corev1.PullAlways ||
		c.TerminationMessagePath != "/dev/termination-log" {
		t.Errorf("pod defaults: restart=%s dns=%s grace=%v pull=%s msgpath=%s", p.Spec.RestartPolicy, p.Spec.DNSPolicy,
			p.Spec.TerminationGracePeriodSeconds, c.ImagePullPolicy, c.TerminationMessagePath)
	}
	got, err := cs.CoreV1().Pods(ns).Get(ctx, "p1", metav1.GetOptions{})
	if err != nil || got.UID != p.UID {
		t.Fatalf("get: %v uid=%v", err, got)
	}

	// Deployment: defaults, update bumps generation, status is ignored.
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d1", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d1"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d1"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}},
			},
		},
	}
	d, err = cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(d.Spec.Replicas, 0) != 1 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType ||
		ptr.Deref(d.Spec.RevisionHistoryLimit, 0) != 10 || ptr.Deref(d.Spec.ProgressDeadlineSeconds, 0) != 600 ||
		d.Generation != 1 {
		t.Errorf("deployment defaults: %+v generation=%d", d.Spec, d.Generation)
	}
	d.Spec.Replicas = ptr.To[int32](3)
	d.Status.Replicas = 7
	d, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 3 || d.Generation != 2 || d.Status.Replicas != 0 {
		t.Errorf("after update: replicas=%d generation=%d status.replicas=%d", *d.Spec.Replicas, d.Generation, d.Status.Replicas)
	}
	d.Status.Replicas = 3
	d, err = cs.AppsV1().Deployments(ns).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Status.Replicas != 3 || d.Generation != 2 {
		t.Errorf("status update: %v replicas=%d generation=%d", err, d.Status.Replicas, d.Generation)
	}
	scale, err := cs.AppsV1().Deployments(ns).GetScale(ctx, "d1", metav1.GetOptions{})
	if err != nil || scale.Spec.Replicas != 3 || scale.Status.Selector != "app=d1" {
		t.Errorf("scale: %v %+v", err, scale)
	}

	// Scale through the subresource, with no resourceVersion (as
	// kubectl scale sends it).
	scaled, err := cs.AppsV1().Deployments(ns).Patch(ctx, "d1", types.MergePatchType, []byte(`{"spec":{"replicas":5}}`), metav1.PatchOptions{}, "scale")
	if err != nil {
		t.Fatalf("patching scale: %v", err)
	}
	d, err = cs.AppsV1().Deployments(ns).Get(ctx, "d1", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 5 || d.Generation != 3 {
		t.Errorf("after scale patch (%s): %v replicas=%d generation=%d", scaled.GetResourceVersion(), err, *d.Spec.Replicas, d.Generation)
	}
	// An update without resourceVersion is unconditional.
	d.ResourceVersion = ""
	d.Labels = map[string]string{"x": "y"}
	if d, err = cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil || d.Labels["x"] != "y" {
		t.Errorf("unconditional update: %v", err)
	}

	// Cluster-scoped RBAC object.
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "crud-reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.RbacV1().ClusterRoles().Delete(ctx, "crud-reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "crud-reader", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v, want NotFound", err)
	}

	// Delete of an unbound pod is immediate.
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "p1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).Get(ctx, "p1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("unbound pod after delete: %v, want NotFound", err)
	}
}

func TestDynamicClient(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "dyn")
	gvr := schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	job := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "batch/v1", "kind": "Job",
		"metadata": map[string]any{"name": "j1"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"restartPolicy": "Never",
			"containers":    []any{map[string]any{"name": "c", "image": "busybox"}},
		}}},
	}}
	out, err := fixture.dyn.Resource(gvr).Namespace(ns).Create(ctx, job, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	backoff, _, _ := unstructured.NestedInt64(out.Object, "spec", "backoffLimit")
	if backoff != 6 {
		t.Errorf("job backoffLimit default = %d, want 6", backoff)
	}
	list, err := fixture.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].GetName() != "j1" {
		t.Fatalf("dynamic list: %v %v", err, list)
	}
	if err := fixture.dyn.Resource(gvr).Namespace(ns).Delete(ctx, "j1", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}); err != nil {
		t.Fatal(err)
	}
	if _, err := fixture.dyn.Resource(gvr).Namespace(ns).Get(ctx, "j1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
}

func TestGenerateNameAndDryRun(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "gen")
	cms := fixture.cs.CoreV1().ConfigMaps(ns)
	names := map[string]bool{}
	for range 3 {
		c, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Name) != len("gen-")+5 || c.Name[:4] != "gen-" {
			t.Errorf("generated name %q", c.Name)
		}
		names[c.Name] = true
	}
	if len(names) != 3 {
		t.Errorf("generated names not unique: %v", names)
	}

	dry, err := cms.Create(ctx, cm(ns, "dry", map[string]string{"a": "1"}, nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil || dry.Name != "dry" || dry.UID == "" {
		t.Fatalf("dry-run create: %v %+v", err, dry)
	}
	if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry-run create persisted: %v", err)
	}
	real, err := cms.Create(ctx, cm(ns, "real", map[string]string{"a": "1"}, nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	real.Data["a"] = "2"
	if _, err := cms.Update(ctx, real, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "real", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	after, err := cms.Get(ctx, "real", metav1.GetOptions{})
	if err != nil || after.Data["a"] != "1" || after.ResourceVersion != real.ResourceVersion {
		t.Errorf("dry-run update/delete changed the object: %v %+v", err, after)
	}
	if _, err := cms.Create(ctx, cm(ns, "x", nil, nil), metav1.CreateOptions{DryRun: []string{"Some"}}); !apierrors.IsBadRequest(err) {
		t.Errorf("dryRun=Some: %v, want BadRequest", err)
	}
}

func TestSelectors(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "sel")
	for i, tier := range []string{"web", "web", "db"} {
		if _, err := fixture.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, fmt.Sprintf("c%d", i), nil, map[string]string{"tier": tier}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		labels, fields string
		want           []string
	}{
		{labels: "tier=web", want: []string{"c0", "c1"}},
		{labels: "tier!=web", want: []string{"c2", rootCAConfigMap}},
		{labels: "tier in (db,cache)", want: []string{"c2"}},
		{labels: "!tier", want: []string{rootCAConfigMap}},
		{fields: "metadata.name=c1", want: []string{"c1"}},
		{fields: "metadata.name!=c1", labels: "tier=web", want: []string{"c0"}},
		{fields: "metadata.namespace=" + ns, want: []string{"c0", "c1", "c2", rootCAConfigMap}},
	} {
		list, err := fixture.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: tc.labels, FieldSelector: tc.fields})
		if err != nil {
			t.Errorf("labels=%q fields=%q: %v", tc.labels, tc.fields, err)
			continue
		}
		var got []string
		for _, c := range list.Items {
			got = append(got, c.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("labels=%q fields=%q: got %v, want %v", tc.labels, tc.fields, got, tc.want)
		}
	}

	// Pod field selectors that upstream supports.
	pending := pod(ns, "bound")
	pending.Spec.NodeName = "node-a"
	if _, err := fixture.cs.CoreV1().Pods(ns).Create(ctx, pending, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fixture.cs.CoreV1().Pods(ns).Create(ctx, pod(ns, "free"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := fixture.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-a"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "bound" {
		t.Errorf("spec.nodeName selector: %v %d items", err, len(list.Items))
	}
	list, err = fixture.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=,status.phase=Pending"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "free" {
		t.Errorf("unscheduled pending selector: %v %v", err, list.Items)
	}

	_, err = fixture.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{FieldSelector: "data.a=1"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("unsupported field label: %v, want BadRequest", err)
	}
	_, err = fixture.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: "tier in (a"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("malformed label selector: %v, want BadRequest", err)
	}
}

func TestPagination(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "page")
	for i := range 7 {
		if _, err := fixture.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, fmt.Sprintf("c%d", i), nil, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	opts := metav1.ListOptions{Limit: 3}
	var pages int
	var firstRV string
	for {
		list, err := fixture.cs.CoreV1().ConfigMaps(ns).List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if pages == 1 {
			firstRV = list.ResourceVersion
			// Seven ConfigMaps and kube-root-ca.crt, three on this page.
			if list.RemainingItemCount == nil || *list.RemainingItemCount != 5 {
				t.Errorf("remainingItemCount = %v, want 5", list.RemainingItemCount)
			}
			// A write between pages is not seen: the list is consistent.
			if _, err := fixture.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, "c9", nil, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		} else if list.ResourceVersion != firstRV {
			t.Errorf("page %d resourceVersion %s, want %s", pages, list.ResourceVersion, firstRV)
		}
		if len(list.Items) > 3 {
			t.Errorf("page of %d items with limit 3", len(list.Items))
		}
		for _, c := range list.Items {
			names = append(names, c.Name)
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	if want := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", rootCAConfigMap}; !slices.Equal(names, want) || pages != 3 {
		t.Errorf("paged names %v in %d pages, want %v in 3", names, pages, want)
	}
	_, err := fixture.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{Limit: 3, Continue: "garbage"})
	if !apierrors.IsBadRequest(err) {
		t.Errorf("bad continue token: %v, want BadRequest", err)
	}
}

func TestResourceVersionSemantics(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "rv")
	cms := fixture.cs.CoreV1().ConfigMaps(ns)
	a, err := cms.Create(ctx, cm(ns, "a", map[string]string{"v": "1"}, nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// resourceVersion="0": any cached state is fine, never an error.
	list, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if rv, _ := strconv.ParseInt(list.ResourceVersion, 10, 64); rv <= 0 {
		t.Errorf("list RV=0 resourceVersion %q", list.ResourceVersion)
	}
	// A consistent list (no RV) sees the create.
	list, err = cms.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 2 || list.Items[0].Name != "a" {
		t.Fatalf("consistent list: %v %v", err, list)
	}
	listRV := list.ResourceVersion

	a.Data["v"] = "2"
	if _, err := cms.Update(ctx, a, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, cm(ns, "b", nil, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Watch from the list's RV replays exactly what came after.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: listRV})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	want := []struct {
		typ  watch.EventType
		name string
	}{{watch.Modified, "a"}, {watch.Added, "b"}}
	for _, ev := range want {
		select {
		case got := <-w.ResultChan():
			c, ok := got.Object.(*corev1.ConfigMap)
			if got.Type != ev.typ || !ok || c.Name != ev.name {
				t.Errorf("watch event %s %v, want %s %s", got.Type, got.Object, ev.typ, ev.name)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no watch event, want %s %s", ev.typ, ev.name)
		}
	}
	// Exact list at the old RV shows the old state.
	old, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: listRV, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if err != nil || len(old.Items) != 2 || old.Items[0].Data["v"] != "1" || old.ResourceVersion != listRV {
		t.Errorf("exact list at %s: %v %+v", listRV, err, old)
	}
	// Get with a stale RV in an update is a Conflict.
	a.Data["v"] = "3"
	if _, err := cms.Update(ctx, a, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("update with stale resourceVersion: %v, want Conflict", err)
	}

	// After compaction, an exact list at a compacted RV is 410 Gone.
	cur, err := fixture.store.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.store.Compact(ctx, cur); err != nil {
		t.Fatal(err)
	}
	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: listRV, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("exact list at compacted RV: %v, want 410 Expired", err)
	}
	// A resourceVersion far in the future is refused with a retry hint.
	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: strconv.FormatInt(cur+1000000, 10), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err == nil {
		t.Error("list NotOlderThan a future RV succeeded")
	}
}
