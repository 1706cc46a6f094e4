package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/quota"
)

// quotaWriteTimeout bounds charging (and storing) an object counted by a
// quota, which a client's cancellation does not interrupt.
const quotaWriteTimeout = 30 * time.Second

// chargeQuota is the ResourceQuota plugin on create: every quota of the
// namespace that counts the new object must have room for it. The charge
// is added to the quota's status.used with compare-and-swap, so concurrent
// creates cannot both take the last unit; the quota controller later
// recomputes status.used from the objects (which also returns the charge
// of a create that failed after admission). Each charge is recorded as a
// reservation on the quota (quota.ReservationsAnnotation), so that the
// controller does not drop the charge of an object not yet stored.
// It returns the undo to run if the object is not stored after all: it
// gives the charges back at once.
func (s *Server) chargeQuota(ctx context.Context, rs *resourceStore, obj runtime.Object, dryRun bool) (func(), error) {
	var charged []*corev1.ResourceQuota
	undo := func() {
		for _, q := range charged {
			s.releaseQuota(context.WithoutCancel(ctx), q, objectMeta(obj).GetUID())
		}
	}
	// A client that gives up mid-way must not leave a charge written but
	// unknown to us (it would hold the quota until its reservation
	// expires): the charge runs to its end on its own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), quotaWriteTimeout)
	defer cancel()
	err := s.chargeQuotas(ctx, rs, obj, dryRun, func(q *corev1.ResourceQuota) {
		if !dryRun {
			charged = append(charged, q)
		}
	})
	if err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}

// releaseQuota gives back the charge reserved for the object uid on q,
// if its reservation is still there (the controller may have dropped it
// and recounted already).
func (s *Server) releaseQuota(ctx context.Context, q *corev1.ResourceQuota, uid types.UID) {
	errGone := errors.New("no reservation")
	_, _, _ = s.stores[quotasGVR].update(ctx, q.Namespace, q.Name, func(old runtime.Object) (runtime.Object, error) {
		cur := old.(*corev1.ResourceQuota)
		rs := quota.Reservations(cur)
		i := slices.IndexFunc(rs, func(r quota.Reservation) bool { return r.UID == uid })
		if i < 0 {
			return nil, errGone
		}
		for name, c := range rs[i].Charge {
			if v, ok := cur.Status.Used[name]; ok {
				v.Sub(c)
				cur.Status.Used[name] = v
			}
		}
		quota.SetReservations(cur, slices.Delete(rs, i, i+1))
		cur.ResourceVersion = ""
		return cur, nil
	}, nil, writeOptions{Internal: true})
}

// chargeQuotas charges every quota that counts obj, calling charged for
// each one charged.
func (s *Server) chargeQuotas(ctx context.Context, rs *resourceStore, obj runtime.Object, dryRun bool, charged func(*corev1.ResourceQuota)) error {
	m := objectMeta(obj)
	items, err := listNamespace(ctx, s.stores[quotasGVR], m.GetNamespace())
	if err != nil || len(items) == 0 {
		return err
	}
	objs := quotaObjects(rs.gr, obj)
	qs := s.stores[quotasGVR]
	for _, item := range items {
		q := item.(*corev1.ResourceQuota)
		if err := quotaConstraints(q, obj); err != nil {
			return apierrors.NewForbidden(rs.gr, m.GetName(), err)
		}
		charge := quotaCharge(q, objs)
		if len(charge) == 0 {
			continue
		}
		baseline, err := s.countBaseline(ctx, rs, m.GetNamespace(), objs)
		if err != nil {
			return err
		}
		if err := s.waitQuotaStatus(ctx, q, charge, baseline); err != nil {
			return err
		}
		_, _, err = qs.update(ctx, q.Namespace, q.Name, func(old runtime.Object) (runtime.Object, error) {
			cur := old.(*corev1.ResourceQuota)
			withBaseline(cur, charge, baseline)
			used, err := addCharge(cur, charge)
			if err != nil {
				return nil, apierrors.NewForbidden(rs.gr, m.GetName(), err)
			}
			cur.Status.Used = used
			// The object is stored after this write: the reservation tells
			// the quota controller to keep the charge until it sees it.
			quota.SetReservations(cur, append(quota.Reservations(cur), quota.Reservation{
				UID: m.GetUID(), Name: m.GetName(), Resource: rs.gr.Resource, Charge: charge, At: rs.now().Unix(),
			}))
			cur.ResourceVersion = ""
			return cur, nil
		}, nil, writeOptions{Internal: true, DryRun: dryRun})
		if err != nil {
			return err
		}
		charged(q)
	}
	return nil
}

// waitQuotaStatus waits (briefly) for the quota controller's first
// status of a quota created a moment ago.
func (s *Server) waitQuotaStatus(ctx context.Context, q *corev1.ResourceQuota, charge, baseline corev1.ResourceList) error {
	q = q.DeepCopy()
	withBaseline(q, charge, baseline)
	if len(unknownUsage(q, charge)) == 0 {
		return nil
	}
	return s.pollUntil(ctx, func() (bool, error) {
		obj, err := s.lookupObject(ctx, quotasGVR, q.Namespace, q.Name)
		if err != nil || obj == nil {
			return true, err
		}
		return len(unknownUsage(obj.(*corev1.ResourceQuota), charge)) == 0, nil
	})
}

// countBaseline counts the namespace's objects of a type the quota
// controller does not count ("count/<resource>.<group>"), whose usage the
// quota status may therefore lack.
func (s *Server) countBaseline(ctx context.Context, rs *resourceStore, ns string, objs quota.Objects) (corev1.ResourceList, error) {
	if len(objs.Counts) == 0 {
		return nil, nil
	}
	items, err := listNamespace(ctx, rs, ns)
	if err != nil {
		return nil, err
	}
	out := corev1.ResourceList{}
	for name := range objs.Counts {
		out[corev1.ResourceName(name)] = *resource.NewQuantity(int64(len(items)), resource.DecimalSI)
	}
	return out, nil
}

// withBaseline fills the charged resources q's status lacks from the
// baseline.
func withBaseline(q *corev1.ResourceQuota, charge, baseline corev1.ResourceList) {
	for name := range charge {
		b, ok := baseline[name]
		if _, known := q.Status.Used[name]; known || !ok {
			continue
		}
		if q.Status.Used == nil {
			q.Status.Used = corev1.ResourceList{}
		}
		q.Status.Used[name] = b
	}
}

// quotaObjects describes one new object as the quota accounting counts
// objects.
func quotaObjects(gr schema.GroupResource, obj runtime.Object) quota.Objects {
	switch o := obj.(type) {
	case *corev1.Pod:
		return quota.Objects{Pods: []*corev1.Pod{o}}
	case *corev1.Service:
		return quota.Objects{Services: []*corev1.Service{o}}
	case *corev1.ConfigMap:
		return quota.Objects{ConfigMaps: 1}
	case *corev1.Secret:
		return quota.Objects{Secrets: 1}
	case *corev1.ReplicationController:
		return quota.Objects{ReplicationControllers: 1}
	case *corev1.ResourceQuota:
		return quota.Objects{ResourceQuotas: 1}
	case *corev1.PersistentVolumeClaim:
		return quota.Objects{Claims: []*corev1.PersistentVolumeClaim{o}}
	}
	name := "count/" + gr.Resource
	if gr.Group != "" {
		name += "." + gr.Group
	}
	return quota.Objects{Counts: map[string]int{name: 1}}
}

// quotaCharge is what the object adds to the resources q limits; resources
// it does not change are left out.
func quotaCharge(q *corev1.ResourceQuota, objs quota.Objects) corev1.ResourceList {
	charge := quota.Used(q, objs)
	for name, v := range charge {
		if v.IsZero() {
			delete(charge, name)
		}
	}
	return charge
}

// unknownUsage lists the charged resources the quota's status does not
// report yet.
func unknownUsage(q *corev1.ResourceQuota, charge corev1.ResourceList) []string {
	var out []string
	for name := range charge {
		if _, ok := q.Status.Used[name]; !ok {
			out = append(out, string(name))
		}
	}
	return out
}

// addCharge is q's status.used with the charge added, or the upstream
// "exceeded quota" error when a hard limit would be passed.
func addCharge(q *corev1.ResourceQuota, charge corev1.ResourceList) (corev1.ResourceList, error) {
	if unknown := unknownUsage(q, charge); len(unknown) > 0 {
		set := map[string]bool{}
		for _, u := range unknown {
			set[u] = true
		}
		return nil, fmt.Errorf("status unknown for quota: %s, resources: %s", q.Name, strings.Join(sortedKeys(set), ","))
	}
	used := q.Status.Used.DeepCopy()
	requested, usedNow, limited := corev1.ResourceList{}, corev1.ResourceList{}, corev1.ResourceList{}
	for name, c := range charge {
		hard, ok := q.Spec.Hard[name]
		next := used[name].DeepCopy()
		next.Add(c)
		if ok && next.Cmp(hard) > 0 {
			requested[name], usedNow[name], limited[name] = c, used[name], hard
			continue
		}
		used[name] = next
	}
	if len(requested) > 0 {
		return nil, fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
			q.Name, prettyResources(requested), prettyResources(usedNow), prettyResources(limited))
	}
	return used, nil
}

// prettyResources prints a resource list as upstream's messages do:
// "cpu=1,pods=2", sorted by name.
func prettyResources(l corev1.ResourceList) string {
	m := map[string]resource.Quantity{}
	for k, v := range l {
		m[string(k)] = v
	}
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		v := m[k]
		parts = append(parts, k+"="+v.String())
	}
	return strings.Join(parts, ",")
}

// quotaComputeNames are the resources whose quota requires every container
// to state them (upstream keeps this for cpu and memory only).
func quotaComputeNames() []corev1.ResourceName {
	return []corev1.ResourceName{"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
}

// quotaConstraints refuses a pod that a quota on cpu or memory covers but
// that leaves that resource unstated in some container, with upstream's
// "failed quota: <name>: must specify ..." message.
func quotaConstraints(q *corev1.ResourceQuota, obj runtime.Object) error {
	pod, ok := obj.(*corev1.Pod)
	if !ok || !quota.PodCounts(pod) || !quota.MatchesScopes(q, pod) {
		return nil
	}
	missing := map[string][]string{}
	check := func(c *corev1.Container) {
		for _, name := range quotaComputeNames() {
			if _, limited := q.Spec.Hard[name]; !limited {
				continue
			}
			if !containerStates(c, name) {
				missing[string(name)] = append(missing[string(name)], c.Name)
			}
		}
	}
	for i := range pod.Spec.InitContainers {
		check(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		check(&pod.Spec.Containers[i])
	}
	if len(missing) == 0 {
		return nil
	}
	var parts []string
	for _, name := range sortedKeys(missing) {
		names := map[string]bool{}
		for _, c := range missing[name] {
			names[c] = true
		}
		parts = append(parts, name+" for: "+strings.Join(sortedKeys(names), ","))
	}
	return fmt.Errorf("failed quota: %s: must specify %s", q.Name, strings.Join(parts, "; "))
}

// containerStates reports whether a container states the request or
// limit a quota resource name stands for.
func containerStates(c *corev1.Container, name corev1.ResourceName) bool {
	n := string(name)
	switch {
	case strings.HasPrefix(n, "limits."):
		_, ok := c.Resources.Limits[corev1.ResourceName(strings.TrimPrefix(n, "limits."))]
		return ok
	case strings.HasPrefix(n, "requests."):
		n = strings.TrimPrefix(n, "requests.")
	}
	_, ok := c.Resources.Requests[corev1.ResourceName(n)]
	return ok
}
