package daemonset

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func node(name string, mod ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"zone": "a"}}}
	for _, m := range mod {
		m(n)
	}
	return n
}

func taint(key string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Effect: effect}) }
}

func TestNodePlacement(t *testing.T) {
	affinity := func(op corev1.NodeSelectorOperator, vals ...string) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: op, Values: vals}}}},
		}}}
	}
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		node *corev1.Node
		want placement
	}{
		{"plain node", corev1.PodSpec{}, node("n"), placement{true, true}},
		{"selector matches", corev1.PodSpec{NodeSelector: map[string]string{"zone": "a"}}, node("n"), placement{true, true}},
		{"selector misses", corev1.PodSpec{NodeSelector: map[string]string{"zone": "b"}}, node("n"), placement{}},
		{"affinity In", corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorOpIn, "a", "b")}, node("n"), placement{true, true}},
		{"affinity NotIn", corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorOpNotIn, "a")}, node("n"), placement{}},
		{"nodeName elsewhere", corev1.PodSpec{NodeName: "m"}, node("n"), placement{}},
		{"NoSchedule taint: keep, do not start", corev1.PodSpec{}, node("n", taint("x", corev1.TaintEffectNoSchedule)), placement{false, true}},
		{"NoExecute taint: leave", corev1.PodSpec{}, node("n", taint("x", corev1.TaintEffectNoExecute)), placement{}},
		{"PreferNoSchedule ignored", corev1.PodSpec{}, node("n", taint("x", corev1.TaintEffectPreferNoSchedule)), placement{true, true}},
		{"tolerated", corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: "x", Operator: corev1.TolerationOpExists}}},
			node("n", taint("x", corev1.TaintEffectNoExecute)), placement{true, true}},
		{"cordoned node tolerated by default", corev1.PodSpec{}, node("n", taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), placement{true, true}},
		{"unreachable tolerated by default", corev1.PodSpec{}, node("n", taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)), placement{true, true}},
		{"network unavailable: not tolerated", corev1.PodSpec{}, node("n", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), placement{false, true}},
		{"network unavailable: tolerated with host network", corev1.PodSpec{HostNetwork: true},
			node("n", taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), placement{true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec.DeepCopy()
			addDefaultTolerations(spec)
			if got := nodePlacement(spec, tc.node); got != tc.want {
				t.Errorf("placement = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPinToNode(t *testing.T) {
	spec := &corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}},
		}}}}}
	pinToNode(spec, "n1")
	pod := &corev1.Pod{Spec: *spec}
	if got := targetNode(pod); got != "n1" {
		t.Fatalf("targetNode = %q, want n1", got)
	}
	if !nodeMatches(spec, node("n1")) || nodeMatches(spec, node("n2")) {
		t.Error("pinned spec must match n1 only")
	}
	for i, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if len(term.MatchExpressions) != 1 || len(term.MatchFields) != 1 {
			t.Errorf("term %d = %+v, want its expression kept and one field requirement", i, term)
		}
	}
	empty := &corev1.PodSpec{}
	pinToNode(empty, "n2")
	if got := targetNode(&corev1.Pod{Spec: *empty}); got != "n2" {
		t.Errorf("targetNode of a pod without affinity = %q, want n2", got)
	}
}

// dpod is a daemon pod on node with the revision hash; mods adjust it.
func dpod(name, nodeName, hash string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": "d", appsv1.DefaultDaemonSetUniqueLabelKey: hash}}}
	p.Spec.NodeName = nodeName
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(testNow.Add(-time.Hour))}}
	for _, m := range mods {
		m(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions = nil }
func failed(p *corev1.Pod)   { p.Status.Phase = corev1.PodFailed }

func run(name string, pods ...*corev1.Pod) nodeState {
	return nodeState{name: name, place: placement{true, true}, pods: pods}
}

func names(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestMakePlan(t *testing.T) {
	rolling := rollout{hash: "new", rolling: true, maxUnavailable: 1, now: testNow}
	surge := rollout{hash: "new", rolling: true, maxSurge: 1, now: testNow}
	for _, tc := range []struct {
		name       string
		nodes      []nodeState
		r          rollout
		wantCreate []string
		wantDelete []string
	}{
		{"missing pods are created", []nodeState{run("a"), run("b", dpod("pb", "b", "new"))}, rolling, []string{"a"}, nil},
		{"ineligible node loses its pod", []nodeState{{name: "a", pods: []*corev1.Pod{dpod("pa", "a", "new")}}}, rolling, nil, []string{"pa"}},
		{"NoSchedule-tainted node keeps its pod, gets none", []nodeState{{name: "a", place: placement{false, true}, pods: []*corev1.Pod{dpod("pa", "a", "new")}},
			{name: "b", place: placement{false, true}}}, rolling, nil, nil},
		{"failed pod removed, replaced next sync", []nodeState{run("a", dpod("pa", "a", "new", failed))}, rolling, nil, []string{"pa"}},
		{"duplicates: the oldest stays", []nodeState{run("a", dpod("old", "a", "new"), dpod("young", "a", "new"))}, rolling, nil, []string{"young"}},
		{"rolling: one old available pod at a time", []nodeState{run("a", dpod("pa", "a", "old")), run("b", dpod("pb", "b", "old"))}, rolling, nil, []string{"pa"}},
		{"rolling: an unavailable node spends the budget", []nodeState{run("a"), run("b", dpod("pb", "b", "old"))}, rolling, []string{"a"}, nil},
		{"rolling: old unavailable pods go at no cost", []nodeState{run("a", dpod("pa", "a", "old", notReady)), run("b", dpod("pb", "b", "old", notReady)),
			run("c", dpod("pc", "c", "old"))}, rolling, nil, []string{"pa", "pb"}},
		{"rolling: maxUnavailable 2", []nodeState{run("a", dpod("pa", "a", "old")), run("b", dpod("pb", "b", "old")), run("c", dpod("pc", "c", "old"))},
			rollout{hash: "new", rolling: true, maxUnavailable: 2, now: testNow}, nil, []string{"pa", "pb"}},
		{"OnDelete leaves old pods", []nodeState{run("a", dpod("pa", "a", "old"))}, rollout{hash: "new", now: testNow}, nil, nil},
		{"surge: new pod next to the old on one node", []nodeState{run("a", dpod("pa", "a", "old")), run("b", dpod("pb", "b", "old"))}, surge, []string{"a"}, nil},
		{"surge: old pod goes once the new is available", []nodeState{run("a", dpod("pa", "a", "old"), dpod("na", "a", "new")),
			run("b", dpod("pb", "b", "old"))}, surge, []string{"b"}, []string{"pa"}},
		{"surge: budget spent by an unready new pod", []nodeState{run("a", dpod("pa", "a", "old"), dpod("na", "a", "new", notReady)),
			run("b", dpod("pb", "b", "old"))}, surge, nil, nil},
		{"surge: unavailable old pod replaced at once", []nodeState{run("a", dpod("pa", "a", "old"), dpod("na", "a", "new", notReady)),
			run("b", dpod("pb", "b", "old", notReady))}, surge, []string{"b"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := makePlan(tc.nodes, tc.r)
			if !slices.Equal(p.create, tc.wantCreate) {
				t.Errorf("create = %v, want %v", p.create, tc.wantCreate)
			}
			if got := names(p.delete); !slices.Equal(got, append([]string{}, tc.wantDelete...)) {
				t.Errorf("delete = %v, want %v", got, tc.wantDelete)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	r := rollout{hash: "new", minReadySeconds: 10, now: testNow}
	justReady := func(p *corev1.Pod) {
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(testNow.Add(-time.Second))
	}
	got := counts([]nodeState{
		run("a", dpod("pa", "a", "new")),
		run("b", dpod("pb", "b", "old", justReady)),
		run("c", dpod("pc", "c", "new", notReady)),
		run("d"),
		{name: "e", pods: []*corev1.Pod{dpod("pe", "e", "new")}},
		{name: "f"},
	}, r)
	want := appsv1.DaemonSetStatus{DesiredNumberScheduled: 4, CurrentNumberScheduled: 3, NumberMisscheduled: 1,
		NumberReady: 2, NumberAvailable: 1, UpdatedNumberScheduled: 2, NumberUnavailable: 3}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("counts = %+v\nwant %+v", got, want)
	}
}

// fixture is a controller over a fake clientset with preloaded caches.
type fixture struct {
	client *fake.Clientset
	c      *Controller
}

func newFixture(t *testing.T, ds *appsv1.DaemonSet, objs ...runtime.Object) *fixture {
	t.Helper()
	client := fake.NewClientset(append([]runtime.Object{ds}, objs...)...)
	generated := 0
	client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		// The fake API does not generate names; number them.
		if p := a.(clienttesting.CreateAction).GetObject().(*corev1.Pod); p.Name == "" {
			generated++
			p.Name = fmt.Sprintf("%s%d", p.GenerateName, generated)
		}
		return false, nil, nil
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	dsInf, podInf, nodeInf, revInf := factory.Apps().V1().DaemonSets(), factory.Core().V1().Pods(), factory.Core().V1().Nodes(), factory.Apps().V1().ControllerRevisions()
	c, err := New(Config{Client: client, DaemonSets: dsInf, Pods: podInf, Nodes: nodeInf, Revisions: revInf, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	add := func(o runtime.Object) {
		var err error
		switch o := o.(type) {
		case *appsv1.DaemonSet:
			err = dsInf.Informer().GetIndexer().Add(o)
		case *corev1.Pod:
			err = podInf.Informer().GetIndexer().Add(o)
		case *corev1.Node:
			err = nodeInf.Informer().GetIndexer().Add(o)
		case *appsv1.ControllerRevision:
			err = revInf.Informer().GetIndexer().Add(o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	add(ds)
	for _, o := range objs {
		add(o)
	}
	client.ClearActions()
	return &fixture{client: client, c: c}
}

// actions summarizes the client's writes as "verb resource[/sub] name".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if a.GetVerb() == "get" || a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		switch a := a.(type) {
		case clienttesting.CreateActionImpl:
			m, _ := meta(a.GetObject())
			s += " " + m
		case clienttesting.DeleteActionImpl:
			s += " " + a.GetName()
		}
		out = append(out, s)
	}
	return out
}

func meta(o runtime.Object) (string, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return "", fmt.Errorf("%T has no metadata", o)
	}
	if m.GetName() == "" {
		return m.GetGenerateName() + "*", nil
	}
	return m.GetName(), nil
}

func testDaemonSet() *appsv1.DaemonSet {
	lbls := map[string]string{"app": "d"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", UID: "ds-uid", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1))}},
		},
	}
}

func TestSyncCreatesPodsOnEligibleNodes(t *testing.T) {
	ds := testDaemonSet()
	f := newFixture(t, ds, node("n1"), node("n2"), node("tainted", taint("x", corev1.TaintEffectNoSchedule)))
	if err := f.c.sync(context.Background(), "ns/d"); err != nil {
		t.Fatal(err)
	}
	got := f.actions()
	slices.Sort(got)
	want := []string{"create controllerrevisions d-" + revisionHash(t, ds), "create pods d-*", "create pods d-*", "update daemonsets/status"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant %v", got, want)
	}
	pods, err := f.client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, p := range pods.Items {
		targets = append(targets, targetNode(&p))
		if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != revisionHash(t, ds) || p.Labels[templateGenerationLabel] != "2" {
			t.Errorf("pod labels %v", p.Labels)
		}
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.UID != ds.UID || ref.Kind != "DaemonSet" {
			t.Errorf("pod controller %+v", ref)
		}
	}
	slices.Sort(targets)
	if !slices.Equal(targets, []string{"n1", "n2"}) {
		t.Errorf("pods target %v, want [n1 n2]", targets)
	}
	cur, err := f.client.AppsV1().DaemonSets("ns").Get(context.Background(), "d", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := cur.Status; s.DesiredNumberScheduled != 2 || s.CurrentNumberScheduled != 0 || s.NumberUnavailable != 2 || s.ObservedGeneration != 2 {
		t.Errorf("status %+v", s)
	}
	if f.c.expect.Satisfied("ns/d") {
		t.Error("expectations satisfied before the creations were observed")
	}
}

func revisionHash(t *testing.T, ds *appsv1.DaemonSet) string {
	t.Helper()
	data, err := kit.TemplatePatch(&ds.Spec.Template)
	if err != nil {
		t.Fatal(err)
	}
	return kit.HashRevision(data, ptr.To[int32](0))
}

func TestSyncRemovesPodsOfGoneNodesAndRollsOne(t *testing.T) {
	ds := testDaemonSet()
	hash := revisionHash(t, ds)
	data, _ := kit.TemplatePatch(&ds.Spec.Template)
	rev := kit.NewRevision(ds, kind(), ds.Spec.Template.Labels, data, 1, ptr.To[int32](0))
	owned := func(p *corev1.Pod) { p.OwnerReferences = []metav1.OwnerReference{kit.ControllerRef(ds, kind())} }
	f := newFixture(t, ds, rev, node("n1"), node("n2"),
		dpod("gone", "n3", hash, owned),
		dpod("old1", "n1", "stale", owned),
		dpod("old2", "n2", "stale", owned),
	)
	if err := f.c.sync(context.Background(), "ns/d"); err != nil {
		t.Fatal(err)
	}
	got := f.actions()
	// The pod of the vanished node counts as unavailable only if it was
	// wanted; it was not, so one old pod goes under maxUnavailable 1.
	want := []string{"delete pods gone", "delete pods old1", "update daemonsets/status"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("actions = %v\nwant %v", got, want)
	}
	if !strings.HasPrefix(rev.Name, "d-") {
		t.Errorf("revision name %q", rev.Name)
	}
}
