package apiserver

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// Admission plugins Config.Admission may enable, named as upstream names
// them. NamespaceLifecycle always runs.
const (
	AdmissionLimitRanger              = "LimitRanger"
	AdmissionServiceAccount           = "ServiceAccount"
	AdmissionNodeRestriction          = "NodeRestriction"
	AdmissionDefaultTolerationSeconds = "DefaultTolerationSeconds"
	AdmissionResourceQuota            = "ResourceQuota"
	AdmissionTaintNodesByCondition    = "TaintNodesByCondition"
	AdmissionPriority                 = "Priority"
	AdmissionPodSecurity              = "PodSecurity"
	AdmissionDefaultStorageClass      = "DefaultStorageClass"
)

// DefaultAdmissionPlugins are the plugins a full server enables, in
// upstream's order.
func DefaultAdmissionPlugins() []string {
	return []string{AdmissionLimitRanger, AdmissionServiceAccount, AdmissionNodeRestriction,
		AdmissionTaintNodesByCondition, AdmissionPriority, AdmissionDefaultTolerationSeconds,
		AdmissionPodSecurity, AdmissionDefaultStorageClass, AdmissionMutatingWebhook, AdmissionValidatingWebhook, AdmissionResourceQuota}
}

// admissionWait bounds how long admission waits for what a controller
// creates right after a namespace or quota appears (the default service
// account, a quota's first status), as clients would otherwise retry.
const admissionWait = 2 * time.Second

// admissionPoll is how often such a wait looks again.
const admissionPoll = 25 * time.Millisecond

// admission holds the enabled plugins.
type admission struct {
	enabled map[string]bool
	// suffix draws the random part of generated volume names.
	suffix func() string
	// webhooks runs the admission webhooks; nil when both are off.
	webhooks *webhookAdmission
}

func newAdmission(plugins []string, suffix func() string) admission {
	a := admission{enabled: map[string]bool{}, suffix: suffix}
	for _, p := range plugins {
		a.enabled[p] = true
	}
	return a
}

func (a admission) on(name string) bool { return a.enabled[name] }

var (
	podsGVR           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodesGVR          = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	serviceAccountGVR = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	quotasGVR         = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
	limitRangesGVR    = schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}
)

// admitPlugins runs the mutating and validating plugins that apply to a
// create before the object's defaulting and validation, in upstream's
// order. The quota is charged later, after validation (chargeQuota).
func (s *Server) admitPlugins(ctx context.Context, rs *resourceStore, obj runtime.Object) error {
	user, _ := auth.UserFrom(ctx)
	if s.admission.on(AdmissionLimitRanger) {
		if err := s.admitLimitRanger(ctx, rs, obj); err != nil {
			return err
		}
	}
	if s.admission.on(AdmissionServiceAccount) {
		if err := s.admitServiceAccount(ctx, rs, obj); err != nil {
			return err
		}
	}
	if s.admission.on(AdmissionNodeRestriction) {
		if err := admitNodeCreate(rs.gr, user, obj); err != nil {
			return err
		}
	}
	if s.admission.on(AdmissionTaintNodesByCondition) {
		admitTaintNewNode(obj)
	}
	if s.admission.on(AdmissionPriority) {
		if err := s.admitPriority(ctx, rs, obj); err != nil {
			return err
		}
	}
	if s.admission.on(AdmissionDefaultTolerationSeconds) {
		if pod, ok := obj.(*corev1.Pod); ok {
			addDefaultTolerations(pod)
		}
	}
	if s.admission.on(AdmissionPodSecurity) {
		if err := s.admitPodSecurity(ctx, rs, obj); err != nil {
			return err
		}
	}
	if s.admission.on(AdmissionDefaultStorageClass) {
		if err := s.admitDefaultStorageClass(ctx, obj); err != nil {
			return err
		}
	}
	return nil
}

// installAdmission adds the admission steps that run inside the write
// life cycle (after validation) to the types' hooks: quota charging on
// create and NodeRestriction on updates.
func (s *Server) installAdmission() {
	if s.admission.on(AdmissionResourceQuota) {
		for _, rs := range s.stores {
			if !rs.res.Namespaced || rs.gvk.Kind == "Event" {
				continue
			}
			rs.hooks.beforeCreate = chainCreate(func(ctx context.Context, obj runtime.Object, dryRun bool) (func(), error) {
				return s.chargeQuota(ctx, rs, obj, dryRun)
			}, rs.hooks.beforeCreate)
		}
	}
	if s.admission.on(AdmissionNodeRestriction) {
		for _, gvr := range []schema.GroupVersionResource{podsGVR, nodesGVR} {
			rs := s.stores[gvr]
			rs.hooks.beforeUpdate = chainUpdate(func(ctx context.Context, obj, old runtime.Object, _ bool) (func(), error) {
				user, _ := auth.UserFrom(ctx)
				return func() {}, admitNodeUpdate(rs.gr, user, obj)
			}, rs.hooks.beforeUpdate)
		}
	}
	if s.admission.on(AdmissionPriority) {
		s.installPriority()
	}
	if s.admission.on(AdmissionPodSecurity) {
		s.installPodSecurity()
	}
	// Last, so that webhooks run before the hooks above (quota charging).
	s.installWebhooks()
}

type createHook = func(ctx context.Context, obj runtime.Object, dryRun bool) (func(), error)
type updateHook = func(ctx context.Context, obj, old runtime.Object, dryRun bool) (func(), error)

// chainCreate runs next after first; if next fails, first is undone.
func chainCreate(first, next createHook) createHook {
	if next == nil {
		return first
	}
	return func(ctx context.Context, obj runtime.Object, dryRun bool) (func(), error) {
		u1, err := first(ctx, obj, dryRun)
		if err != nil {
			return nil, err
		}
		u2, err := next(ctx, obj, dryRun)
		if err != nil {
			u1()
			return nil, err
		}
		return func() { u2(); u1() }, nil
	}
}

// chainUpdate runs next after first; if next fails, first is undone.
func chainUpdate(first, next updateHook) updateHook {
	if next == nil {
		return first
	}
	return func(ctx context.Context, obj, old runtime.Object, dryRun bool) (func(), error) {
		u1, err := first(ctx, obj, old, dryRun)
		if err != nil {
			return nil, err
		}
		u2, err := next(ctx, obj, old, dryRun)
		if err != nil {
			u1()
			return nil, err
		}
		return func() { u2(); u1() }, nil
	}
}

// listNamespace lists a namespace's objects of one type from the watch
// cache. The items are shared: never mutate them.
func listNamespace(ctx context.Context, rs *resourceStore, ns string) ([]runtime.Object, error) {
	res, err := rs.cache.List(ctx, cacher.ListOptions{KeyPrefix: rs.keyPrefix(ns), ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}

// pollUntil calls done every admissionPoll until it reports true, fails,
// or admissionWait has passed.
func (s *Server) pollUntil(ctx context.Context, done func() (bool, error)) error {
	deadline := s.cfg.Clock.Now().Add(admissionWait)
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if !s.cfg.Clock.Now().Before(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.cfg.Clock.After(admissionPoll):
		}
	}
}

// sortedKeys lists a set's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
