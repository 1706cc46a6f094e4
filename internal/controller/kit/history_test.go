package kit

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func TestTemplatePatchRoundTrip(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i:1"}}}}
	data, err := TemplatePatch(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"$patch":"replace"`) {
		t.Errorf("patch %s lacks $patch: replace", data)
	}
	back, err := TemplateFromPatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Spec.Containers[0].Image != "i:1" || back.Labels["app"] != "a" {
		t.Errorf("round trip gave %+v", back)
	}
	if HashRevision(data, nil) == HashRevision(data, ptr.To[int32](1)) {
		t.Error("the collision count does not change the hash")
	}
}

func TestHistoryEnsure(t *testing.T) {
	ctx := context.Background()
	owner := &metav1.ObjectMeta{Name: "ds", Namespace: "ns", UID: "owner"}
	gvk := appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	rev := func(data string, n int64) *appsv1.ControllerRevision {
		return NewRevision(owner, gvk, map[string]string{"app": "a"}, []byte(data), n, ptr.To[int32](0))
	}
	setup := func(objs ...runtime.Object) (History, *fake.Clientset) {
		client := fake.NewClientset(objs...)
		f := informers.NewSharedInformerFactory(client, 0)
		return History{Client: client, Lister: f.Apps().V1().ControllerRevisions().Lister()}, client
	}

	t.Run("new data is created", func(t *testing.T) {
		h, _ := setup()
		got, err := h.Ensure(ctx, nil, rev(`{"a":1}`, 1), ptr.To[int32](0))
		if err != nil || got.Revision != 1 || got.Name != rev(`{"a":1}`, 1).Name {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("rollback renumbers the older equal revision", func(t *testing.T) {
		r1, r2 := rev(`{"a":1}`, 1), rev(`{"a":2}`, 2)
		h, _ := setup(r1, r2)
		got, err := h.Ensure(ctx, []*appsv1.ControllerRevision{r1, r2}, rev(`{"a":1}`, 3), ptr.To[int32](0))
		if err != nil || got.Name != r1.Name || got.Revision != 3 {
			t.Fatalf("got %v, %v; want %s renumbered 3", got, err, r1.Name)
		}
	})
	t.Run("newest equal revision is kept as is", func(t *testing.T) {
		r1 := rev(`{"a":1}`, 1)
		h, client := setup(r1)
		got, err := h.Ensure(ctx, []*appsv1.ControllerRevision{r1}, rev(`{"a":1}`, 2), ptr.To[int32](0))
		if err != nil || got.Revision != 1 || len(client.Actions()) != 0 {
			t.Fatalf("got %v, %v, actions %v", got, err, client.Actions())
		}
	})
	t.Run("a name collision raises the count", func(t *testing.T) {
		clash := rev(`{"a":1}`, 1)
		clash.Data.Raw = []byte(`{"other":true}`) // same name, other data
		h, _ := setup(clash)
		count := int32(0)
		got, err := h.Ensure(ctx, nil, rev(`{"a":1}`, 1), &count)
		if err != nil || count != 1 || got.Name == clash.Name {
			t.Fatalf("got %v, %v, count %d", got, err, count)
		}
	})
	t.Run("truncate spares live revisions", func(t *testing.T) {
		revs := []*appsv1.ControllerRevision{rev(`1`, 1), rev(`2`, 2), rev(`3`, 3), rev(`4`, 4)}
		h, client := setup(revs[0], revs[1], revs[2], revs[3])
		if err := h.TruncateHistory(ctx, revs, map[string]bool{revs[0].Name: true, revs[3].Name: true}, 1); err != nil {
			t.Fatal(err)
		}
		left, err := client.AppsV1().ControllerRevisions("ns").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range left.Items {
			names = append(names, r.Name)
		}
		slices.Sort(names)
		want := []string{revs[0].Name, revs[2].Name, revs[3].Name}
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("left %v, want %v", names, want)
		}
	})
}
