package apiserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/utils/clock"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/cacher"
)

// resourceStore keeps the objects of one resource: it encodes them for the
// store, reads lists and watches through the watch cache, and runs the
// create/update/delete life cycle common to every type.
type resourceStore struct {
	res    registry.Resource
	gvk    schema.GroupVersionKind
	gr     schema.GroupResource
	prefix string // "/registry/[group/]resource/"
	store  storage.Store
	cache  *cacher.Cacher
	codecs *codecs
	clock  clock.PassiveClock
	// fieldManagers by subresource ("" and "status").
	fieldManagers map[string]*managedfields.FieldManager
	// hooks are per-type extensions of the life cycle (service IPs, ...).
	hooks typeHooks
	// view converts to and from the stored type when this resource is
	// another version of one stored elsewhere; nil otherwise.
	view *viewConversion
}

// typeHooks let a type take part in the life cycle beyond its Strategy:
// things that need I/O, like allocating Service IPs.
type typeHooks struct {
	// beforeCreate runs after validation, before the write; its undo runs if
	// the write fails.
	beforeCreate func(ctx context.Context, obj runtime.Object, dryRun bool) (undo func(), err error)
	// beforeUpdate runs after validation of an update.
	beforeUpdate func(ctx context.Context, obj, old runtime.Object, dryRun bool) (undo func(), err error)
	// afterDelete runs once the object is gone from the store.
	afterDelete func(ctx context.Context, obj runtime.Object)
}

func storagePrefix(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return "/registry/" + gvr.Resource + "/"
	}
	return "/registry/" + gvr.Group + "/" + gvr.Resource + "/"
}

func newResourceStore(res registry.Resource, st storage.Store, c *codecs, clk clock.WithTicker, typeConverter managedfields.TypeConverter) (*resourceStore, error) {
	rs := &resourceStore{
		res:    res,
		gvk:    res.GroupVersionKind(),
		gr:     res.GroupResource(),
		prefix: storagePrefix(res.Storage()),
		store:  st,
		codecs: c,
		clock:  clk,
	}
	if res.StorageResource.Resource != "" {
		v, ok := views()[res.GroupVersionKind()]
		if !ok {
			return nil, fmt.Errorf("no conversion for %s, a view of %s", rs.gr, res.StorageResource)
		}
		rs.view = &v
	}
	cfg := cacher.Config{
		Store:   st,
		Prefix:  rs.prefix,
		Decode:  rs.decode,
		NewFunc: rs.newObject,
		Attrs:   rs.attrs,
		Clock:   clk,
	}
	if res.Kind == "Pod" && res.Group == "" {
		cfg.IndexField = "spec.nodeName"
	}
	cache, err := cacher.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("watch cache for %s: %w", rs.gr, err)
	}
	rs.cache = cache
	fms := map[string]*managedfields.FieldManager{}
	gv := rs.gvk.GroupVersion()
	mainReset := map[fieldpath.APIVersion]fieldpath.Filter{
		fieldpath.APIVersion(gv.String()): fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("status"))),
	}
	statusReset := map[fieldpath.APIVersion]fieldpath.Filter{
		fieldpath.APIVersion(gv.String()): fieldpath.NewExcludeSetFilter(fieldpath.NewSet(fieldpath.MakePathOrDie("spec"))),
	}
	if !res.HasSubresource("status") {
		mainReset = nil
	}
	for sub, reset := range map[string]map[fieldpath.APIVersion]fieldpath.Filter{"": mainReset, "status": statusReset} {
		fm, err := managedfields.NewDefaultFieldManager(typeConverter, c.scheme, c.scheme, c.scheme, rs.gvk, gv, sub, reset)
		if err != nil {
			return nil, fmt.Errorf("field manager for %s: %w", rs.gr, err)
		}
		fms[sub] = fm
	}
	rs.fieldManagers = fms
	return rs, nil
}

func (s *resourceStore) newObject() runtime.Object {
	obj := s.res.New()
	obj.GetObjectKind().SetGroupVersionKind(s.gvk)
	return obj
}

func (s *resourceStore) key(ns, name string) string {
	if s.res.Namespaced {
		return s.prefix + ns + "/" + name
	}
	return s.prefix + name
}

// keyPrefix is the prefix of a namespace's keys, or of all keys.
func (s *resourceStore) keyPrefix(ns string) string {
	if s.res.Namespaced && ns != "" {
		return s.prefix + ns + "/"
	}
	return s.prefix
}

// encode serializes an object for the store, without its resourceVersion.
func (s *resourceStore) encode(obj runtime.Object) ([]byte, error) {
	m := objectMeta(obj)
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	defer m.SetResourceVersion(rv)
	obj.GetObjectKind().SetGroupVersionKind(s.gvk)
	stored := obj
	if s.view != nil {
		stored = s.view.toStorage(obj)
		stored.GetObjectKind().SetGroupVersionKind(s.view.storageGVK)
		objectMeta(stored).SetResourceVersion("")
	}
	data, err := runtime.Encode(s.codecs.storage, stored)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %q: %w", s.gvk.Kind, m.GetName(), err)
	}
	return data, nil
}

// decode parses a stored value and stamps its resourceVersion.
func (s *resourceStore) decode(kv storage.KeyValue) (runtime.Object, error) {
	if s.view != nil {
		stored, err := s.codecs.decodeStored(kv.Value, s.view.storageGVK, s.view.newStorage(), s.view.newStorage)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", kv.Key, err)
		}
		obj := s.view.fromStorage(stored)
		obj.GetObjectKind().SetGroupVersionKind(s.gvk)
		objectMeta(obj).SetResourceVersion(fmt.Sprint(kv.ModRevision))
		return obj, nil
	}
	obj, err := s.codecs.decodeStored(kv.Value, s.gvk, s.res.New(), s.newObject)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", kv.Key, err)
	}
	s.codecs.fields.intern(obj)
	obj.GetObjectKind().SetGroupVersionKind(s.gvk)
	objectMeta(obj).SetResourceVersion(fmt.Sprint(kv.ModRevision))
	return obj, nil
}

// attrs gives the label and field sets selectors match against.
func (s *resourceStore) attrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m := objectMeta(obj)
	fs := fieldSet(obj)
	fs["metadata.name"] = m.GetName()
	if s.res.Namespaced {
		fs["metadata.namespace"] = m.GetNamespace()
	}
	return labels.Set(m.GetLabels()), fs, nil
}

// storageError maps store errors to API errors.
func (s *resourceStore) storageError(err error, name string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return apierrors.NewNotFound(s.gr, name)
	case errors.Is(err, storage.ErrKeyExists):
		return apierrors.NewAlreadyExists(s.gr, name)
	case errors.Is(err, storage.ErrConflict):
		return apierrors.NewConflict(s.gr, name, errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	case errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError(fmt.Sprintf("request for %s %q timed out", s.gr, name), 2)
	}
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		return err
	}
	return apierrors.NewInternalError(err)
}

// get reads the latest object from the store (not the cache).
func (s *resourceStore) get(ctx context.Context, ns, name string) (runtime.Object, int64, error) {
	kv, err := s.store.Get(ctx, s.key(ns, name))
	if err != nil {
		return nil, 0, s.storageError(err, name)
	}
	obj, err := s.decode(kv)
	if err != nil {
		return nil, 0, apierrors.NewInternalError(err)
	}
	return obj, kv.ModRevision, nil
}

// now is the server's clock as a metav1.Time (second precision, like
// upstream's timestamps).
func (s *resourceStore) now() metav1.Time {
	return metav1.NewTime(s.clock.Now().Truncate(time.Second))
}
