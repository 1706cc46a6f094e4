package server_test

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
)

// A metadata-only watch (as the garbage collector uses) gets every event,
// bookmarks included, as PartialObjectMetadata.
func TestMetadataWatchBookmarks(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "metadata-watch")
	if _, err := fixture.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm(ns, "one", nil, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mc, err := metadata.NewForConfig(fixture.cfg)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	w, err := mc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns).Watch(ctx, metav1.ListOptions{
		SendInitialEvents: &yes, AllowWatchBookmarks: true, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var types []watch.EventType
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %v", types)
			}
			types = append(types, ev.Type)
			if ev.Type == watch.Error {
				t.Fatalf("error event: %v", ev.Object)
			}
			p, isMeta := ev.Object.(*metav1.PartialObjectMetadata)
			if !isMeta {
				t.Fatalf("%s event carries %T, want *PartialObjectMetadata", ev.Type, ev.Object)
			}
			if ev.Type == watch.Bookmark {
				if p.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
					t.Fatalf("bookmark without the initial-events-end annotation: %v", p.Annotations)
				}
				// The test's ConfigMap and kube-root-ca.crt, then the bookmark.
				if len(types) != 3 || types[0] != watch.Added || types[1] != watch.Added {
					t.Fatalf("events = %v, want [ADDED ADDED BOOKMARK]", types)
				}
				return
			}
		case <-timeout:
			t.Fatalf("no initial-events bookmark; got %v", types)
		}
	}
}
