package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/skiffkube/skiff/internal/auth/rbac"
	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// rbacIndex is the RBAC authorizer's view of the Roles, ClusterRoles and
// their bindings: maps kept current from the server's own watch caches, so
// a decision costs a few map lookups and no I/O. ClusterRoles with an
// aggregationRule are served with their aggregated rules at once (the
// stored objects catch up through aggregateWriter).
type rbacIndex struct {
	// stores are the watch caches read, by kind.
	roles, clusterRoles, roleBindings, clusterRoleBindings *resourceStore
	logger                                                 *slog.Logger

	mu sync.RWMutex
	// byKind holds the current objects of each kind by "namespace/name".
	byKind map[string]map[string]runtime.Object
	// Derived views, rebuilt when their kind changes; the slices and
	// objects are never modified once published.
	roleByKey        map[string]*rbacv1.Role
	effectiveCRs     map[string]*rbacv1.ClusterRole
	rbByNamespace    map[string][]*rbacv1.RoleBinding
	crbList          []*rbacv1.ClusterRoleBinding
	synced           map[string]bool
	syncedCh         chan struct{}
	aggregateChanged chan struct{}
}

var _ rbac.RuleSource = (*rbacIndex)(nil)

// Kinds the index follows.
const (
	kindRole               = "Role"
	kindClusterRole        = "ClusterRole"
	kindRoleBinding        = "RoleBinding"
	kindClusterRoleBinding = "ClusterRoleBinding"
)

// newRBACIndex returns an index over the RBAC stores of s; Run fills it.
func newRBACIndex(s *Server) *rbacIndex {
	get := func(r string) *resourceStore {
		return s.stores[rbacv1.SchemeGroupVersion.WithResource(r)]
	}
	return &rbacIndex{
		roles: get("roles"), clusterRoles: get("clusterroles"),
		roleBindings: get("rolebindings"), clusterRoleBindings: get("clusterrolebindings"),
		logger:           s.cfg.Logger,
		byKind:           map[string]map[string]runtime.Object{},
		roleByKey:        map[string]*rbacv1.Role{},
		effectiveCRs:     map[string]*rbacv1.ClusterRole{},
		rbByNamespace:    map[string][]*rbacv1.RoleBinding{},
		synced:           map[string]bool{},
		syncedCh:         make(chan struct{}),
		aggregateChanged: make(chan struct{}, 1),
	}
}

// Synced is closed once every kind has been loaded.
func (x *rbacIndex) Synced() <-chan struct{} { return x.syncedCh }

// Run follows the four watch caches until ctx is done.
func (x *rbacIndex) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for kind, rs := range map[string]*resourceStore{kindRole: x.roles, kindClusterRole: x.clusterRoles,
		kindRoleBinding: x.roleBindings, kindClusterRoleBinding: x.clusterRoleBindings} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x.follow(ctx, kind, rs)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		x.writeAggregates(ctx)
	}()
	wg.Wait()
}

// follow watches one kind, starting over with a full snapshot whenever the
// watch ends.
func (x *rbacIndex) follow(ctx context.Context, kind string, rs *resourceStore) {
	for ctx.Err() == nil {
		if err := x.watchOnce(ctx, kind, rs); err != nil && ctx.Err() == nil {
			x.logger.Warn("RBAC index watch restarting", "kind", kind, "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// watchOnce loads the current objects of kind into a fresh map, installs
// it at the end of the initial events, then applies changes until the
// watch ends.
func (x *rbacIndex) watchOnce(ctx context.Context, kind string, rs *resourceStore) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	yes := true
	w, err := rs.cache.Watch(ctx, cacher.WatchOptions{ResourceVersion: "0", SendInitialEvents: &yes})
	if err != nil {
		return err
	}
	defer w.Stop()
	initial := map[string]runtime.Object{}
	loading := true
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Bookmark:
			if loading && objectMeta(ev.Object).GetAnnotations()["k8s.io/initial-events-end"] == "true" {
				loading = false
				x.replace(kind, initial)
			}
		case watch.Added, watch.Modified:
			if loading {
				initial[indexKey(ev.Object)] = ev.Object
				continue
			}
			x.apply(kind, ev.Object, false)
		case watch.Deleted:
			if loading {
				delete(initial, indexKey(ev.Object))
				continue
			}
			x.apply(kind, ev.Object, true)
		case watch.Error:
			return fmt.Errorf("watch error: %v", apierrors.FromObject(ev.Object))
		}
	}
	return nil
}

func indexKey(obj runtime.Object) string {
	m := objectMeta(obj)
	return m.GetNamespace() + "/" + m.GetName()
}

// replace installs a complete set of objects of kind.
func (x *rbacIndex) replace(kind string, objs map[string]runtime.Object) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byKind[kind] = objs
	x.rebuildLocked(kind, "")
	if !x.synced[kind] {
		x.synced[kind] = true
		if len(x.synced) == 4 {
			close(x.syncedCh)
		}
	}
}

// apply records one change.
func (x *rbacIndex) apply(kind string, obj runtime.Object, deleted bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	objs := x.byKind[kind]
	if objs == nil {
		objs = map[string]runtime.Object{}
		x.byKind[kind] = objs
	}
	key := indexKey(obj)
	if deleted {
		delete(objs, key)
	} else {
		objs[key] = obj
	}
	x.rebuildLocked(kind, objectMeta(obj).GetNamespace())
}

// rebuildLocked recomputes the derived view of kind; for RoleBindings only
// namespace's list (all of them when namespace is "").
func (x *rbacIndex) rebuildLocked(kind, namespace string) {
	objs := x.byKind[kind]
	switch kind {
	case kindRole:
		m := make(map[string]*rbacv1.Role, len(objs))
		for k, o := range objs {
			m[k] = o.(*rbacv1.Role)
		}
		x.roleByKey = m
	case kindClusterRole:
		x.rebuildClusterRolesLocked(objs)
	case kindRoleBinding:
		x.rebuildRoleBindingsLocked(objs, namespace)
	case kindClusterRoleBinding:
		list := make([]*rbacv1.ClusterRoleBinding, 0, len(objs))
		for _, o := range objs {
			list = append(list, o.(*rbacv1.ClusterRoleBinding))
		}
		slices.SortFunc(list, func(a, b *rbacv1.ClusterRoleBinding) int { return strings.Compare(a.Name, b.Name) })
		x.crbList = list
	}
}

// rebuildClusterRolesLocked aggregates the ClusterRoles and publishes them.
func (x *rbacIndex) rebuildClusterRolesLocked(objs map[string]runtime.Object) {
	all := make([]*rbacv1.ClusterRole, 0, len(objs))
	for _, o := range objs {
		all = append(all, o.(*rbacv1.ClusterRole))
	}
	m := make(map[string]*rbacv1.ClusterRole, len(all))
	for _, cr := range all {
		m[cr.Name] = cr
	}
	aggregated, err := rbac.AggregateAll(all)
	if err != nil {
		x.logger.Warn("aggregating ClusterRoles", "error", err)
	} else {
		for _, cr := range aggregated {
			if cr.AggregationRule != nil {
				m[cr.Name] = cr
			}
		}
	}
	x.effectiveCRs = m
	select {
	case x.aggregateChanged <- struct{}{}:
	default:
	}
}

// rebuildRoleBindingsLocked rebuilds the per-namespace binding lists.
func (x *rbacIndex) rebuildRoleBindingsLocked(objs map[string]runtime.Object, namespace string) {
	if namespace == "" {
		m := map[string][]*rbacv1.RoleBinding{}
		for _, o := range objs {
			rb := o.(*rbacv1.RoleBinding)
			m[rb.Namespace] = append(m[rb.Namespace], rb)
		}
		for _, list := range m {
			sortBindings(list)
		}
		x.rbByNamespace = m
		return
	}
	var list []*rbacv1.RoleBinding
	for _, o := range objs {
		if rb := o.(*rbacv1.RoleBinding); rb.Namespace == namespace {
			list = append(list, rb)
		}
	}
	sortBindings(list)
	m := make(map[string][]*rbacv1.RoleBinding, len(x.rbByNamespace)+1)
	for ns, l := range x.rbByNamespace {
		m[ns] = l
	}
	if len(list) == 0 {
		delete(m, namespace)
	} else {
		m[namespace] = list
	}
	x.rbByNamespace = m
}

func sortBindings(list []*rbacv1.RoleBinding) {
	slices.SortFunc(list, func(a, b *rbacv1.RoleBinding) int { return strings.Compare(a.Name, b.Name) })
}

// GetRole implements rbac.RuleSource.
func (x *rbacIndex) GetRole(namespace, name string) (*rbacv1.Role, error) {
	x.mu.RLock()
	r, ok := x.roleByKey[namespace+"/"+name]
	x.mu.RUnlock()
	if !ok {
		return nil, apierrors.NewNotFound(rbacv1.Resource("roles"), name)
	}
	return r, nil
}

// GetClusterRole implements rbac.RuleSource; aggregated roles carry their
// aggregated rules.
func (x *rbacIndex) GetClusterRole(name string) (*rbacv1.ClusterRole, error) {
	x.mu.RLock()
	r, ok := x.effectiveCRs[name]
	x.mu.RUnlock()
	if !ok {
		return nil, apierrors.NewNotFound(rbacv1.Resource("clusterroles"), name)
	}
	return r, nil
}

// ListRoleBindings implements rbac.RuleSource.
func (x *rbacIndex) ListRoleBindings(namespace string) ([]*rbacv1.RoleBinding, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.rbByNamespace[namespace], nil
}

// ListClusterRoleBindings implements rbac.RuleSource.
func (x *rbacIndex) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.crbList, nil
}

// writeAggregates stores the aggregated rules of ClusterRoles whose stored
// rules differ, as upstream's aggregation controller does, so that reads
// of admin, edit and view show what they grant.
func (x *rbacIndex) writeAggregates(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.aggregateChanged:
		}
		for _, cr := range x.staleAggregates() {
			_, _, err := x.clusterRoles.update(ctx, "", cr.Name, func(old runtime.Object) (runtime.Object, error) {
				o := old.(*rbacv1.ClusterRole)
				o.Rules = cr.Rules
				o.ResourceVersion = ""
				return o, nil
			}, nil, writeOptions{Internal: true})
			if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
				x.logger.Warn("storing aggregated ClusterRole", "name", cr.Name, "error", err)
			}
		}
	}
}

// staleAggregates returns the aggregated ClusterRoles whose stored rules
// differ from their aggregation.
func (x *rbacIndex) staleAggregates() []*rbacv1.ClusterRole {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []*rbacv1.ClusterRole
	for key, o := range x.byKind[kindClusterRole] {
		stored := o.(*rbacv1.ClusterRole)
		if stored.AggregationRule == nil {
			continue
		}
		eff := x.effectiveCRs[strings.TrimPrefix(key, "/")]
		if eff != nil && eff != stored && !rbacRulesEqual(eff.Rules, stored.Rules) {
			out = append(out, eff)
		}
	}
	return out
}

// rbacRulesEqual compares rule lists, nil and empty alike.
func rbacRulesEqual(a, b []rbacv1.PolicyRule) bool {
	return equality.Semantic.DeepEqual(a, b)
}
