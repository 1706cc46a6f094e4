package resourcequota

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/quota"
)

// sync recomputes one quota's status.used.
//
// Admission charges status.used before it stores the object, so a
// charge may belong to an object no cache or list shows yet. Two rules
// keep status.used from ever dropping below what the objects stored or
// being stored take, so that a create cannot be admitted past the hard
// limit:
//   - admission records each charge as a reservation on the quota, kept
//     (and counted) until the object has been seen, and
//   - usage is lowered only from a consistent read: the quota is read
//     fresh, then the objects are listed (at a revision not older than
//     the quota's), and the status is written with the quota's
//     resourceVersion as a precondition, so a charge made meanwhile
//     makes the write fail and the sync retry.
//
// Raising usage (or keeping it) is always safe, so the common case works
// from the informers' caches.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if err != nil {
		return err
	}
	v, err := c.cachedView(ns)
	if err != nil {
		return err
	}
	used, drop := c.usage(q, v)
	if quota.Lowers(used, q.Status.Used) {
		if q, err = c.client.CoreV1().ResourceQuotas(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("reading quota %s: %w", key, err)
		}
		if v, err = c.liveView(ctx, ns); err != nil {
			return err
		}
		used, drop = c.usage(q, v)
	}
	return c.write(ctx, q, used, drop)
}

// usage is q's usage in view v, reserved charges included, and the
// reservations that can go.
func (c *Controller) usage(q *corev1.ResourceQuota, v *view) (corev1.ResourceList, []quota.Reservation) {
	keep, drop := quota.SplitReservations(quota.Reservations(q), c.now(), func(r quota.Reservation) bool {
		return v.uids.Has(r.UID) || c.deleted.has(r.UID)
	})
	used := quota.Used(q, v.objs)
	quota.AddReserved(used, keep)
	return used, drop
}

// write stores the new status when it changed, then removes the dropped
// reservations; both writes carry the resourceVersion they were computed
// from.
func (c *Controller) write(ctx context.Context, q *corev1.ResourceQuota, used corev1.ResourceList, drop []quota.Reservation) error {
	key := q.Namespace + "/" + q.Name
	st := corev1.ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: used}
	if !equality.Semantic.DeepEqual(st, q.Status) {
		upd := q.DeepCopy()
		upd.Status = st
		out, err := c.client.CoreV1().ResourceQuotas(q.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("updating status of quota %s: %w", key, err)
		}
		q = out
	}
	if len(drop) == 0 {
		return nil
	}
	gone := sets.New[types.UID]()
	for _, r := range drop {
		gone.Insert(r.UID)
	}
	upd := q.DeepCopy()
	quota.SetReservations(upd, slices.DeleteFunc(quota.Reservations(q), func(r quota.Reservation) bool { return gone.Has(r.UID) }))
	if _, err := c.client.CoreV1().ResourceQuotas(q.Namespace).Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("removing reservations of quota %s: %w", key, err)
	}
	return nil
}

// view is a namespace's objects as one source shows them.
type view struct {
	// objs is what the quota accounting counts.
	objs quota.Objects
	// uids are the UIDs of every object listed.
	uids sets.Set[types.UID]
}

func (v *view) saw(objs ...metav1.Object) {
	for _, o := range objs {
		v.uids.Insert(o.GetUID())
	}
}

// cachedView reads the informers' caches.
func (c *Controller) cachedView(ns string) (*view, error) {
	all := labels.Everything()
	v := &view{uids: sets.New[types.UID]()}
	var err error
	if v.objs.Pods, err = c.pods.Pods(ns).List(all); err != nil {
		return nil, err
	}
	if v.objs.Services, err = c.services.Services(ns).List(all); err != nil {
		return nil, err
	}
	if v.objs.Claims, err = c.claims.PersistentVolumeClaims(ns).List(all); err != nil {
		return nil, err
	}
	cms, err := c.cms.ConfigMaps(ns).List(all)
	if err != nil {
		return nil, err
	}
	secrets, err := c.secrets.Secrets(ns).List(all)
	if err != nil {
		return nil, err
	}
	rcs, err := c.rcs.ReplicationControllers(ns).List(all)
	if err != nil {
		return nil, err
	}
	quotas, err := c.quotas.ResourceQuotas(ns).List(all)
	if err != nil {
		return nil, err
	}
	v.objs.ConfigMaps, v.objs.Secrets, v.objs.ReplicationControllers, v.objs.ResourceQuotas = len(cms), len(secrets), len(rcs), len(quotas)
	v.saw(metas(v.objs.Pods)...)
	v.saw(metas(v.objs.Services)...)
	v.saw(metas(v.objs.Claims)...)
	v.saw(metas(cms)...)
	v.saw(metas(secrets)...)
	v.saw(metas(rcs)...)
	v.saw(metas(quotas)...)
	return v, nil
}

// liveView lists from the API server with consistent reads.
func (c *Controller) liveView(ctx context.Context, ns string) (*view, error) {
	core := c.client.CoreV1()
	opts := metav1.ListOptions{}
	v := &view{uids: sets.New[types.UID]()}
	pods, err := core.Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing pods of %s: %w", ns, err)
	}
	svcs, err := core.Services(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing services of %s: %w", ns, err)
	}
	claims, err := core.PersistentVolumeClaims(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing claims of %s: %w", ns, err)
	}
	cms, err := core.ConfigMaps(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing configmaps of %s: %w", ns, err)
	}
	secrets, err := core.Secrets(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing secrets of %s: %w", ns, err)
	}
	rcs, err := core.ReplicationControllers(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing replication controllers of %s: %w", ns, err)
	}
	quotas, err := core.ResourceQuotas(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing quotas of %s: %w", ns, err)
	}
	v.objs.Pods, v.objs.Services, v.objs.Claims = ptrs(pods.Items), ptrs(svcs.Items), ptrs(claims.Items)
	v.objs.ConfigMaps, v.objs.Secrets = len(cms.Items), len(secrets.Items)
	v.objs.ReplicationControllers, v.objs.ResourceQuotas = len(rcs.Items), len(quotas.Items)
	v.saw(metas(v.objs.Pods)...)
	v.saw(metas(v.objs.Services)...)
	v.saw(metas(v.objs.Claims)...)
	v.saw(metas(ptrs(cms.Items))...)
	v.saw(metas(ptrs(secrets.Items))...)
	v.saw(metas(ptrs(rcs.Items))...)
	v.saw(metas(ptrs(quotas.Items))...)
	return v, nil
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

func metas[T metav1.Object](objs []T) []metav1.Object {
	out := make([]metav1.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// uidSet remembers UIDs for quota.ReservationTTL.
type uidSet struct {
	mu   sync.Mutex
	uids map[types.UID]time.Time
}

func newUIDSet() *uidSet { return &uidSet{uids: map[types.UID]time.Time{}} }

func (s *uidSet) add(uid types.UID, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for u, at := range s.uids {
		if now.Sub(at) > quota.ReservationTTL {
			delete(s.uids, u)
		}
	}
	s.uids[uid] = now
}

func (s *uidSet) has(uid types.UID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.uids[uid]
	return ok
}
