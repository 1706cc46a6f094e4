package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// mapping is how to reach objects of one kind.
type mapping struct {
	gvr        schema.GroupVersionResource
	gvk        schema.GroupVersionKind
	namespaced bool
}

// resourceTable is what discovery found: every resource type by group and
// kind (any version names the same objects, so the preferred one is used),
// and those the collector watches.
type resourceTable struct {
	byKind    map[schema.GroupKind]mapping
	watchable map[schema.GroupVersionResource]mapping
}

// ignoredResources are not watched: events are numerous, short-lived and
// never owners.
func ignoredResource(gr schema.GroupResource) bool {
	return gr.Resource == "events" && (gr.Group == "" || gr.Group == "events.k8s.io")
}

// buildResourceTable turns discovery results into a resource table.
func buildResourceTable(lists []*metav1.APIResourceList) resourceTable {
	t := resourceTable{byKind: map[schema.GroupKind]mapping{}, watchable: map[schema.GroupVersionResource]mapping{}}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue // a subresource
			}
			rgv := gv
			if r.Group != "" || r.Version != "" {
				rgv = schema.GroupVersion{Group: r.Group, Version: r.Version}
			}
			m := mapping{gvr: rgv.WithResource(r.Name), gvk: rgv.WithKind(r.Kind), namespaced: r.Namespaced}
			if _, dup := t.byKind[m.gvk.GroupKind()]; !dup {
				t.byKind[m.gvk.GroupKind()] = m
			}
			verbs := sets(r.Verbs)
			if verbs["list"] && verbs["watch"] && verbs["delete"] && !ignoredResource(m.gvr.GroupResource()) {
				t.watchable[m.gvr] = m
			}
		}
	}
	return t
}

func sets(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// monitor watches the metadata of one resource type.
type monitor struct {
	mapping  mapping
	informer cache.SharedIndexInformer
	// cancel stops the informer; done is closed once it has stopped.
	cancel context.CancelFunc
	done   chan struct{}
}

// monitors are the running monitors and the resource table they follow.
type monitors struct {
	mu      sync.Mutex
	running map[schema.GroupVersionResource]*monitor
	table   resourceTable
	// discovered is true once discovery has succeeded at least once.
	discovered bool
}

// lookup maps an owner reference's kind to its resource.
func (c *Controller) lookup(apiVersion, kind string) (mapping, bool) {
	c.monitors.mu.Lock()
	defer c.monitors.mu.Unlock()
	m, ok := c.monitors.table.byKind[groupKindOf(apiVersion, kind)]
	return m, ok
}

// resyncMonitors looks up the resource types and starts a monitor for each
// new watchable one. Monitors of types that disappeared are stopped, unless
// discovery was partial (a group that failed to answer keeps its monitors).
func (c *Controller) resyncMonitors(ctx context.Context) error {
	lists, err := c.discover()
	var partial *discovery.ErrGroupDiscoveryFailed
	if err != nil && !errors.As(err, &partial) {
		return fmt.Errorf("discovering resource types: %w", err)
	}
	table := buildResourceTable(lists)
	c.monitors.mu.Lock()
	defer c.monitors.mu.Unlock()
	for gk, m := range c.monitors.table.byKind {
		if _, ok := table.byKind[gk]; !ok && partial != nil {
			table.byKind[gk] = m
		}
	}
	c.monitors.table = table
	c.monitors.discovered = true
	for gvr, m := range table.watchable {
		if c.monitors.running[gvr] == nil {
			c.monitors.running[gvr] = c.startMonitor(ctx, m)
			c.logger.Debug("watching resource", "resource", gvr.String())
		}
	}
	if partial != nil {
		return fmt.Errorf("discovering resource types (partial): %w", err)
	}
	for gvr, mon := range c.monitors.running {
		if _, ok := table.watchable[gvr]; !ok {
			mon.cancel()
			<-mon.done
			delete(c.monitors.running, gvr)
			c.logger.Info("stopped watching resource", "resource", gvr.String())
		}
	}
	return nil
}

// startMonitor runs a metadata informer for one resource type, feeding the
// graph.
func (c *Controller) startMonitor(ctx context.Context, m mapping) *monitor {
	informer := metadatainformer.NewFilteredMetadataInformer(c.metadata, m.gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	// The handler cannot fail on an informer that has not started.
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.observe(m, obj) },
		UpdateFunc: func(_, obj any) { c.observe(m, obj) },
		DeleteFunc: func(obj any) { c.forget(obj) },
	})
	mctx, cancel := context.WithCancel(ctx)
	mon := &monitor{mapping: m, informer: informer, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(mon.done)
		informer.RunWithContext(mctx)
	}()
	return mon
}

// stopMonitors stops every monitor and waits for them.
func (c *Controller) stopMonitors() {
	c.monitors.mu.Lock()
	defer c.monitors.mu.Unlock()
	for gvr, mon := range c.monitors.running {
		mon.cancel()
		<-mon.done
		delete(c.monitors.running, gvr)
	}
}

// synced reports whether discovery has run and every monitor has listed
// its resource type, so the graph holds every object.
func (c *Controller) synced() bool {
	c.monitors.mu.Lock()
	defer c.monitors.mu.Unlock()
	if !c.monitors.discovered {
		return false
	}
	for _, mon := range c.monitors.running {
		if !mon.informer.HasSynced() {
			return false
		}
	}
	return true
}

// unsynced names the monitors that have not listed their type yet.
func (c *Controller) unsynced() []string {
	c.monitors.mu.Lock()
	defer c.monitors.mu.Unlock()
	var names []string
	for gvr, mon := range c.monitors.running {
		if !mon.informer.HasSynced() {
			names = append(names, gvr.String())
		}
	}
	return names
}

// observe feeds an added or updated object to the graph.
func (c *Controller) observe(m mapping, obj any) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		c.logger.Warn("ignoring an object without metadata", "resource", m.gvr.String(), "error", err)
		return
	}
	apiVersion, kind := m.gvk.GroupVersion().String(), m.gvk.Kind
	o := observation{
		ref:        objectRef{APIVersion: apiVersion, Kind: kind, Namespace: acc.GetNamespace(), Name: acc.GetName(), UID: acc.GetUID()},
		owners:     acc.GetOwnerReferences(),
		deleting:   acc.GetDeletionTimestamp() != nil,
		finalizers: acc.GetFinalizers(),
	}
	for _, uid := range c.graph.observe(o) {
		c.queue.Add(uid)
	}
}

// forget removes a deleted object from the graph.
func (c *Controller) forget(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	for _, uid := range c.graph.forget(acc.GetUID()) {
		c.queue.Add(uid)
	}
}
