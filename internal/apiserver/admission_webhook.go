package apiserver

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/admission/webhook"
	"github.com/skiffkube/skiff/internal/admission/webhook/celcond"
	"github.com/skiffkube/skiff/internal/auth"
)

// Admission plugin names of the webhook dispatchers.
const (
	AdmissionMutatingWebhook   = "MutatingAdmissionWebhook"
	AdmissionValidatingWebhook = "ValidatingAdmissionWebhook"
)

var (
	mutatingWebhooksGVR   = admissionregistrationv1.SchemeGroupVersion.WithResource("mutatingwebhookconfigurations")
	validatingWebhooksGVR = admissionregistrationv1.SchemeGroupVersion.WithResource("validatingwebhookconfigurations")
	servicesGVR           = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointSlicesGVR     = discoveryv1.SchemeGroupVersion.WithResource("endpointslices")
)

// writeRequestKey is the context key of the request a write serves.
type writeRequestKey struct{}

// writeRequest is what webhook admission needs to know of the HTTP
// request behind a write: which resource and verb it named, and where its
// warnings go.
type writeRequest struct {
	info   requestInfo
	header http.Header
}

// withWriteRequest marks ctx as serving the request info; serveResource
// calls it so that life-cycle hooks can tell a client's write from the
// server's own (bindings, quota status, namespace finalization).
func withWriteRequest(ctx context.Context, info requestInfo, header http.Header) context.Context {
	return context.WithValue(ctx, writeRequestKey{}, &writeRequest{info: info, header: header})
}

// webhookOperation is the admission operation of a write to rs in ctx, or
// "" when the write is not a client's request on rs's main resource.
func webhookOperation(ctx context.Context, rs *resourceStore, creating bool) (*writeRequest, admissionv1.Operation) {
	wr, ok := ctx.Value(writeRequestKey{}).(*writeRequest)
	if !ok || wr.info.Subresource != "" || wr.info.Resource != rs.res.Resource || wr.info.APIGroup != rs.res.Group {
		return nil, ""
	}
	// Webhook configurations never go through webhooks, so that a broken
	// webhook can always be removed.
	if rs.res.GroupVersionResource == mutatingWebhooksGVR || rs.res.GroupVersionResource == validatingWebhooksGVR {
		return nil, ""
	}
	switch wr.info.Verb {
	case "create":
		return wr, admissionv1.Create
	case "update", "patch":
		if creating {
			return wr, admissionv1.Create
		}
		return wr, admissionv1.Update
	case "delete", "deletecollection":
		return wr, admissionv1.Delete
	}
	return nil, ""
}

// newWebhookDispatcher reads configurations, namespaces, services and
// endpoint slices from the watch caches.
func (s *Server) newWebhookDispatcher(compile webhook.CompileFunc) *webhook.Dispatcher {
	return webhook.New(webhook.Config{
		Mutating: func(ctx context.Context) ([]*admissionregistrationv1.MutatingWebhookConfiguration, error) {
			return listTyped[*admissionregistrationv1.MutatingWebhookConfiguration](ctx, s.stores[mutatingWebhooksGVR], "")
		},
		Validating: func(ctx context.Context) ([]*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
			return listTyped[*admissionregistrationv1.ValidatingWebhookConfiguration](ctx, s.stores[validatingWebhooksGVR], "")
		},
		NamespaceLabels: s.namespaceLabels,
		ResolveService:  s.resolveWebhookService,
		Compile:         compile,
	})
}

// listTyped lists one namespace's (or all cluster-scoped) objects of rs
// from the watch cache. The items are shared: never mutate them.
func listTyped[T runtime.Object](ctx context.Context, rs *resourceStore, ns string) ([]T, error) {
	if rs == nil {
		return nil, nil
	}
	items, err := listNamespace(ctx, rs, ns)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		if t, ok := it.(T); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *Server) namespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	obj, err := s.namespaces.cache.Get(ctx, s.namespaces.key("", name), "0")
	if err != nil || obj == nil {
		if obj, _, err = s.namespaces.get(ctx, "", name); err != nil {
			return nil, err
		}
	}
	return obj.(*corev1.Namespace).Labels, nil
}

// resolveWebhookService picks a ready endpoint of the Service, as the
// API server may not reach Service IPs without a proxy on its host.
func (s *Server) resolveWebhookService(ctx context.Context, ref admissionregistrationv1.ServiceReference) (string, error) {
	svcs := s.stores[servicesGVR]
	obj, _, err := svcs.get(ctx, ref.Namespace, ref.Name)
	if err != nil {
		return "", err
	}
	slices, err := listTyped[*discoveryv1.EndpointSlice](ctx, s.stores[endpointSlicesGVR], ref.Namespace)
	if err != nil {
		return "", err
	}
	port := int32(443)
	if ref.Port != nil {
		port = *ref.Port
	}
	return webhook.EndpointFor(obj.(*corev1.Service), slices, port)
}

// installWebhooks runs the webhooks inside the write life cycle of every
// stored type, ahead of the hooks already installed (quota charging among
// them): creates and updates are mutated, checked again by the type's
// strategy when a webhook changed them, then validated.
func (s *Server) installWebhooks() {
	mutating, validating := s.admission.on(AdmissionMutatingWebhook), s.admission.on(AdmissionValidatingWebhook)
	if !mutating && !validating {
		return
	}
	var compile webhook.CompileFunc
	if c, err := celcond.NewCompiler(); err == nil {
		compile = c.Compile
	} else {
		// Without CEL, webhooks with matchConditions fail as their
		// failurePolicy says.
		s.cfg.Logger.Error("admission webhooks: no CEL environment", "err", err)
	}
	d := s.newWebhookDispatcher(compile)
	s.admission.webhooks = &webhookAdmission{d: d, mutating: mutating, validating: validating, configured: s.anyWebhookConfiguration}
	for _, rs := range s.stores {
		if rs.view != nil {
			continue
		}
		rs.hooks.beforeCreate = chainCreate(func(ctx context.Context, obj runtime.Object, dryRun bool) (func(), error) {
			return func() {}, s.admission.webhooks.admitCreate(ctx, rs, obj, dryRun)
		}, rs.hooks.beforeCreate)
		rs.hooks.beforeUpdate = chainUpdate(func(ctx context.Context, obj, old runtime.Object, dryRun bool) (func(), error) {
			return func() {}, s.admission.webhooks.admitUpdate(ctx, rs, obj, old, dryRun)
		}, rs.hooks.beforeUpdate)
	}
}

// webhookAdmission runs the dispatcher for the enabled plugins.
type webhookAdmission struct {
	d                    *webhook.Dispatcher
	mutating, validating bool
	// configured says whether any webhook configuration exists: without
	// one, writes skip webhook admission (no attributes, no copies).
	configured func(context.Context) bool
}

func (w *webhookAdmission) attributes(ctx context.Context, rs *resourceStore, op admissionv1.Operation, obj, old runtime.Object, dryRun bool) *webhook.Attributes {
	ref := obj
	if ref == nil {
		ref = old
	}
	m := objectMeta(ref)
	a := &webhook.Attributes{Operation: op, Kind: rs.gvk, Resource: rs.res.GroupVersionResource,
		Namespace: m.GetNamespace(), Name: m.GetName(), Object: obj, OldObject: old, DryRun: dryRun}
	if u, ok := auth.UserFrom(ctx); ok {
		a.UserInfo = authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
		if len(u.Extra) > 0 {
			a.UserInfo.Extra = map[string]authenticationv1.ExtraValue{}
			for k, v := range u.Extra {
				a.UserInfo.Extra[k] = v
			}
		}
	}
	dr := []string(nil)
	if dryRun {
		dr = []string{metav1.DryRunAll}
	}
	switch op {
	case admissionv1.Create:
		a.Options = &metav1.CreateOptions{TypeMeta: metav1.TypeMeta{Kind: "CreateOptions", APIVersion: "meta.k8s.io/v1"}, DryRun: dr}
	case admissionv1.Update:
		a.Options = &metav1.UpdateOptions{TypeMeta: metav1.TypeMeta{Kind: "UpdateOptions", APIVersion: "meta.k8s.io/v1"}, DryRun: dr}
	case admissionv1.Delete:
		a.Options = &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{Kind: "DeleteOptions", APIVersion: "meta.k8s.io/v1"}, DryRun: dr}
	}
	return a
}

// run mutates (when recheck is given, it re-runs the type's defaulting
// and validation after a change) and then validates.
func (w *webhookAdmission) run(ctx context.Context, wr *writeRequest, a *webhook.Attributes, recheck func() error) error {
	if w.mutating {
		before := a.Object
		if before != nil {
			before = before.DeepCopyObject()
		}
		res, err := w.d.Mutate(ctx, a)
		addHeaderWarnings(wr.header, res.Warnings)
		if err != nil {
			return err
		}
		if a.Object != nil && recheck != nil && !equality.Semantic.DeepEqual(before, a.Object) {
			if err := recheck(); err != nil {
				return err
			}
		}
	}
	if w.validating {
		res, err := w.d.Validate(ctx, a)
		addHeaderWarnings(wr.header, res.Warnings)
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *webhookAdmission) admitCreate(ctx context.Context, rs *resourceStore, obj runtime.Object, dryRun bool) error {
	wr, op := webhookOperation(ctx, rs, true)
	if op != admissionv1.Create || !w.configured(ctx) {
		return nil
	}
	a := w.attributes(ctx, rs, op, obj, nil, dryRun)
	return w.run(ctx, wr, a, func() error {
		m := objectMeta(obj)
		uid, created := m.GetUID(), m.GetCreationTimestamp()
		rs.prepareCreate(obj)
		m.SetUID(uid)
		m.SetCreationTimestamp(created)
		return rs.validateCreate(obj)
	})
}

func (w *webhookAdmission) admitUpdate(ctx context.Context, rs *resourceStore, obj, old runtime.Object, dryRun bool) error {
	wr, op := webhookOperation(ctx, rs, false)
	if op != admissionv1.Update || !w.configured(ctx) {
		return nil
	}
	a := w.attributes(ctx, rs, op, obj, old, dryRun)
	return w.run(ctx, wr, a, func() error {
		return rs.prepareUpdate(obj, old, writeOptions{Applied: true})
	})
}

// admitDelete calls the webhooks of a client's delete; the stored object
// is read only when some configuration exists.
func (s *Server) admitDelete(ctx context.Context, rs *resourceStore, ns, name string, opts metav1.DeleteOptions) error {
	w := s.admission.webhooks
	if w == nil || rs.view != nil {
		return nil
	}
	wr, op := webhookOperation(ctx, rs, false)
	if op != admissionv1.Delete || !s.anyWebhookConfiguration(ctx) {
		return nil
	}
	old, _, err := rs.get(ctx, ns, name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	a := w.attributes(ctx, rs, op, nil, old, len(opts.DryRun) > 0)
	return w.run(ctx, wr, a, nil)
}

// anyWebhookConfiguration reports whether a webhook configuration exists.
func (s *Server) anyWebhookConfiguration(ctx context.Context) bool {
	for _, gvr := range []schema.GroupVersionResource{mutatingWebhooksGVR, validatingWebhooksGVR} {
		rs := s.stores[gvr]
		if rs == nil {
			continue
		}
		items, err := listNamespace(ctx, rs, "")
		if err != nil || len(items) > 0 {
			return true
		}
	}
	return false
}

func addHeaderWarnings(h http.Header, warnings []string) {
	for _, msg := range warnings {
		h.Add("Warning", fmt.Sprintf("299 - %q", msg))
	}
}
