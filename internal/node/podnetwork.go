package node

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/network"
)

// routeResync is how often the pod routes are checked even without Node
// changes (someone may have removed one by hand).
const routeResync = time.Minute

// followPodRoutes keeps the routes to every other node's pod CIDR (via
// that node's InternalIP) in the kernel until ctx ends. Every Node event
// syncs the whole table from the informer's store: the sync is
// level-based, so bursts of events cost a few netlink dumps, no more.
func followPodRoutes(ctx context.Context, client kubernetes.Interface, self string, table network.RouteTable, logger *slog.Logger) {
	syncer := &network.RouteSyncer{Self: self, Table: table, Logger: logger}
	lw := cache.NewListWatchFromClient(client.CoreV1().RESTClient(), "nodes", metav1.NamespaceAll, fields.Everything())
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	store, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &corev1.Node{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { poke() },
			UpdateFunc: func(old, obj any) { poke() },
			DeleteFunc: func(any) { poke() },
		},
	})
	done := make(chan struct{})
	go func() { defer close(done); ctrl.RunWithContext(ctx) }()
	defer func() { <-done }()
	if !cache.WaitForCacheSync(ctx.Done(), ctrl.HasSynced) {
		return
	}
	poke()
	tick := time.NewTicker(routeResync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		case <-tick.C:
		}
		var nodes []*corev1.Node
		for _, obj := range store.List() {
			if n, ok := obj.(*corev1.Node); ok {
				nodes = append(nodes, n)
			}
		}
		if err := syncer.Sync(nodes); err != nil {
			logger.Warn("syncing pod routes", "err", err)
		}
	}
}
