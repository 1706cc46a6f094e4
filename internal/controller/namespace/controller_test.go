package namespace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

var (
	testNow    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	configmaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secrets    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	pods       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	leases     = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	deploys    = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// testDiscovery is what the fake discovery reports: core configmaps,
// secrets and pods, apps deployments, and leases without deletecollection.
func testDiscovery() []*metav1.APIResourceList {
	all := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	noCollection := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: all},
			{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: all},
			{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: []string{"get", "patch", "update"}},
			{Name: "secrets", Namespaced: true, Kind: "Secret", Verbs: all},
			{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", Namespaced: true, Kind: "Deployment", Verbs: all},
		}},
		{GroupVersion: "coordination.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "leases", Namespaced: true, Kind: "Lease", Verbs: noCollection},
		}},
	}
}

func terminating(name string, finalizers ...corev1.FinalizerName) *corev1.Namespace {
	ts := metav1.NewTime(testNow.Add(-time.Minute))
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), ResourceVersion: "10", DeletionTimestamp: &ts},
		Spec:       corev1.NamespaceSpec{Finalizers: finalizers},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
}

// object is the metadata of one namespaced object of the given type.
func object(gvr schema.GroupVersionResource, kind, ns, name string, finalizers ...string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: gvr.GroupVersion().String(), Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers},
	}
}

// fixture is a controller over fake clients with a preloaded cache.
type fixture struct {
	client *k8sfake.Clientset
	meta   *metadatafake.FakeMetadataClient
	c      *Controller
	// cache is the controller's namespace cache.
	cache cache.Indexer
	// graceful are the pods the fake API deletes gracefully (30s).
	graceful map[string]bool
}

func newFixture(t *testing.T, ns *corev1.Namespace, discover DiscoverFunc, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{client: k8sfake.NewClientset(ns), graceful: map[string]bool{}}
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	f.meta = metadatafake.NewSimpleMetadataClient(scheme, objs...)
	f.meta.PrependReactor("delete-collection", "*", f.deleteCollection)
	factory := informers.NewSharedInformerFactory(f.client, 0)
	inf := factory.Core().V1().Namespaces()
	f.cache = inf.Informer().GetIndexer()
	if err := f.cache.Add(ns); err != nil {
		t.Fatal(err)
	}
	if discover == nil {
		discover = func() ([]*metav1.APIResourceList, error) { return testDiscovery(), nil }
	}
	c, err := NewController(Config{Client: f.client, Metadata: f.meta, Discover: discover, Namespaces: inf,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	f.c = c
	f.client.ClearActions()
	return f
}

// deleteCollection acts as the API server does: objects with finalizers
// or graceful pods are marked, the rest removed.
func (f *fixture) deleteCollection(action clienttesting.Action) (bool, runtime.Object, error) {
	tracker := f.meta.Tracker()
	gvr, ns := action.GetResource(), action.GetNamespace()
	// The reactor runs under the fake's lock: read the tracker directly.
	listed, err := tracker.List(gvr, schema.GroupVersionKind{Group: "fake-metadata-client-group", Version: "v1"}, ns)
	if err != nil {
		return true, nil, err
	}
	for _, o := range listed.(*metav1.List).Items {
		item := o.Object.(*metav1.PartialObjectMetadata).DeepCopy()
		switch {
		case len(item.Finalizers) > 0 || f.graceful[item.Name]:
			ts := metav1.NewTime(testNow)
			if f.graceful[item.Name] {
				ts = metav1.NewTime(testNow.Add(30 * time.Second))
			}
			item.DeletionTimestamp = &ts
			err = tracker.Update(gvr, item, ns)
		default:
			err = tracker.Delete(gvr, ns, item.Name)
		}
		if err != nil {
			return true, nil, err
		}
	}
	return true, nil, nil
}

// verbs lists the fake client's actions as "verb resource[/sub]".
func verbs(actions []clienttesting.Action) []string {
	var out []string
	for _, a := range actions {
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		out = append(out, a.GetVerb()+" "+r)
	}
	return out
}

func wantVerbs(t *testing.T, what string, got []clienttesting.Action, want ...string) {
	t.Helper()
	if g := strings.Join(verbs(got), ", "); g != strings.Join(want, ", ") {
		t.Errorf("%s actions:\n got  %s\n want %s", what, g, strings.Join(want, ", "))
	}
}

// condition returns the namespace's condition of type ct.
func conditionOf(t *testing.T, ns *corev1.Namespace, ct corev1.NamespaceConditionType) corev1.NamespaceCondition {
	t.Helper()
	for _, c := range ns.Status.Conditions {
		if c.Type == ct {
			return c
		}
	}
	t.Fatalf("namespace %s has no %s condition: %+v", ns.Name, ct, ns.Status.Conditions)
	return corev1.NamespaceCondition{}
}

func statusUpdate(t *testing.T, actions []clienttesting.Action) *corev1.Namespace {
	t.Helper()
	for _, a := range actions {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			return a.(clienttesting.UpdateAction).GetObject().(*corev1.Namespace)
		}
	}
	t.Fatalf("no status update in %v", verbs(actions))
	return nil
}

func TestSyncIgnoresLiveOrForeignNamespaces(t *testing.T) {
	live := terminating("live", corev1.FinalizerKubernetes)
	live.DeletionTimestamp = nil
	for _, ns := range []*corev1.Namespace{live, terminating("foreign", "example.com/other")} {
		f := newFixture(t, ns, nil, object(configmaps, "ConfigMap", ns.Name, "a"))
		if err := f.c.sync(context.Background(), ns.Name); err != nil {
			t.Fatalf("%s: %v", ns.Name, err)
		}
		wantVerbs(t, ns.Name+" client", f.client.Actions())
		wantVerbs(t, ns.Name+" metadata", f.meta.Actions())
	}
	f := newFixture(t, terminating("other", corev1.FinalizerKubernetes), nil)
	if err := f.c.sync(context.Background(), "missing"); err != nil {
		t.Fatalf("missing namespace: %v", err)
	}
	wantVerbs(t, "missing client", f.client.Actions())
}

func TestSyncDeletesContentThenFinalizes(t *testing.T) {
	ns := terminating("demo", corev1.FinalizerKubernetes)
	f := newFixture(t, ns, nil,
		object(configmaps, "ConfigMap", "demo", "a"), object(configmaps, "ConfigMap", "demo", "b"),
		object(configmaps, "ConfigMap", "elsewhere", "c"),
		object(deploys, "Deployment", "demo", "web"), object(leases, "Lease", "demo", "l1"))
	if err := f.c.sync(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, "metadata", f.meta.Actions(),
		"list configmaps", "delete-collection configmaps", "list configmaps",
		"list pods", "list secrets",
		"list deployments", "delete-collection deployments", "list deployments",
		"list leases", "delete leases", "list leases")
	for _, a := range f.meta.Actions() {
		if d, ok := a.(clienttesting.DeleteActionImpl); ok {
			if p := d.DeleteOptions.PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground {
				t.Errorf("%s: propagation policy %v, want Background", d.Name, p)
			}
		}
	}
	wantVerbs(t, "client", f.client.Actions(), "update namespaces/status", "create namespaces/finalize", "delete namespaces")
	st := statusUpdate(t, f.client.Actions())
	for _, c := range st.Status.Conditions {
		if c.Status != corev1.ConditionFalse {
			t.Errorf("condition %s = %s (%s), want False", c.Type, c.Status, c.Message)
		}
	}
	fin := f.client.Actions()[1].(clienttesting.CreateAction).GetObject().(*corev1.Namespace)
	if len(fin.Spec.Finalizers) != 0 {
		t.Errorf("finalize sent finalizers %v, want none", fin.Spec.Finalizers)
	}
	del := f.client.Actions()[2].(clienttesting.DeleteActionImpl)
	if p := del.DeleteOptions.Preconditions; p == nil || p.UID == nil || *p.UID != ns.UID {
		t.Errorf("namespace delete preconditions %+v, want UID %s", p, ns.UID)
	}
	left, err := f.meta.Resource(configmaps).Namespace("elsewhere").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(left.Items) != 1 {
		t.Errorf("other namespace's configmap: %v, %v", left, err)
	}
}

func TestSyncKeepsOtherFinalizers(t *testing.T) {
	f := newFixture(t, terminating("demo", corev1.FinalizerKubernetes, "example.com/other"), nil)
	if err := f.c.sync(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, "client", f.client.Actions(), "update namespaces/status", "create namespaces/finalize")
	fin := f.client.Actions()[1].(clienttesting.CreateAction).GetObject().(*corev1.Namespace)
	if len(fin.Spec.Finalizers) != 1 || fin.Spec.Finalizers[0] != "example.com/other" {
		t.Errorf("finalize sent %v, want [example.com/other]", fin.Spec.Finalizers)
	}
}

func TestSyncReportsContentHeldByFinalizers(t *testing.T) {
	f := newFixture(t, terminating("demo", corev1.FinalizerKubernetes), nil,
		object(configmaps, "ConfigMap", "demo", "held", "example.com/hold"),
		object(configmaps, "ConfigMap", "demo", "free"),
		object(secrets, "Secret", "demo", "s", "example.com/hold", "example.com/other"))
	if err := f.c.sync(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, "client", f.client.Actions(), "update namespaces/status")
	st := statusUpdate(t, f.client.Actions())
	remaining := conditionOf(t, st, corev1.NamespaceContentRemaining)
	if remaining.Status != corev1.ConditionTrue || remaining.Reason != "SomeResourcesRemain" ||
		remaining.Message != "Some resources are remaining: configmaps has 1 resource instances, secrets has 1 resource instances" {
		t.Errorf("ContentRemaining = %+v", remaining)
	}
	fins := conditionOf(t, st, corev1.NamespaceFinalizersRemaining)
	if fins.Status != corev1.ConditionTrue || fins.Reason != "SomeFinalizersRemain" ||
		fins.Message != "Some content in the namespace has finalizers remaining: example.com/hold in 2 resource instances, example.com/other in 1 resource instances" {
		t.Errorf("FinalizersRemaining = %+v", fins)
	}
	if c := conditionOf(t, st, corev1.NamespaceDeletionContentFailure); c.Status != corev1.ConditionFalse || c.Reason != "ContentDeleted" {
		t.Errorf("ContentFailure = %+v", c)
	}
	if !remaining.LastTransitionTime.Time.Equal(testNow) {
		t.Errorf("transition time %v, want %v", remaining.LastTransitionTime, testNow)
	}

	// A second pass finds the same objects already being deleted: it
	// only lists, and writes nothing since the conditions did not change.
	if err := f.cache.Update(st); err != nil {
		t.Fatal(err)
	}
	f.client.ClearActions()
	f.meta.ClearActions()
	if err := f.c.sync(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	wantVerbs(t, "second pass client", f.client.Actions())
	for _, v := range verbs(f.meta.Actions()) {
		if !strings.HasPrefix(v, "list ") {
			t.Errorf("second pass did %s, want lists only", v)
		}
	}
}

func TestSyncFailuresBlockFinalization(t *testing.T) {
	partial := func() ([]*metav1.APIResourceList, error) {
		return testDiscovery(), &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{
			{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("the server is currently unable to handle the request")}}
	}
	badGV := func() ([]*metav1.APIResourceList, error) {
		return append(testDiscovery(), &metav1.APIResourceList{GroupVersion: "a/b/c"}), nil
	}
	tests := []struct {
		name     string
		discover DiscoverFunc
		failList bool
		cond     corev1.NamespaceConditionType
		reason   string
	}{
		{"discovery", partial, false, corev1.NamespaceDeletionDiscoveryFailure, "DiscoveryFailed"},
		{"group version", badGV, false, corev1.NamespaceDeletionGVParsingFailure, "GroupVersionParsingFailed"},
		{"content", nil, true, corev1.NamespaceDeletionContentFailure, "ContentDeletionFailed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, terminating("demo", corev1.FinalizerKubernetes), tt.discover,
				object(configmaps, "ConfigMap", "demo", "a"))
			if tt.failList {
				f.meta.PrependReactor("list", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewInternalError(errors.New("boom"))
				})
			}
			err := f.c.sync(context.Background(), "demo")
			if err == nil {
				t.Fatal("sync succeeded, want an error so that it is retried")
			}
			wantVerbs(t, "client", f.client.Actions(), "update namespaces/status")
			c := conditionOf(t, statusUpdate(t, f.client.Actions()), tt.cond)
			if c.Status != corev1.ConditionTrue || c.Reason != tt.reason {
				t.Errorf("%s = %+v, want True/%s", tt.cond, c, tt.reason)
			}
			left, _ := f.meta.Resource(configmaps).Namespace("demo").List(context.Background(), metav1.ListOptions{})
			if len(left.Items) != 0 {
				t.Errorf("the content of the namespace was not deleted: %v", left.Items)
			}
		})
	}
}

func TestSyncWaitsForGracefulPods(t *testing.T) {
	f := newFixture(t, terminating("demo", corev1.FinalizerKubernetes), nil,
		object(pods, "Pod", "demo", "running"), object(pods, "Pod", "demo", "pending"))
	f.graceful["running"] = true
	report := f.c.deleteContent(context.Background(), "demo")
	if report.err() != nil {
		t.Fatal(report.err())
	}
	if report.remaining["pods"] != 1 || report.podWait != 30*time.Second {
		t.Errorf("remaining %v, pod wait %v; want 1 pod, 30s", report.remaining, report.podWait)
	}
}

func TestRequeueAfter(t *testing.T) {
	c := &Controller{minRequeue: 3 * time.Second, maxRequeue: 10 * time.Second}
	tests := []struct {
		podWait, want time.Duration
	}{
		{0, 3 * time.Second},
		{-5 * time.Second, 3 * time.Second},
		{4 * time.Second, 5 * time.Second},
		{30 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := c.requeueAfter(contentReport{podWait: tt.podWait}); got != tt.want {
			t.Errorf("podWait %v: requeue after %v, want %v", tt.podWait, got, tt.want)
		}
	}
}
