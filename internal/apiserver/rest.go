package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// serveResource dispatches a resource request to its verb.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, info requestInfo) {
	r = r.WithContext(withWriteRequest(r.Context(), info, w.Header()))
	gvr := schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource}
	if res, ok := s.reviews[gvr]; ok {
		s.serveReview(w, r, res, info)
		return
	}
	rs, ok := s.stores[gvr]
	if !ok {
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, ""))
		return
	}
	if info.Namespace != "" && !rs.res.Namespaced && info.Resource != "namespaces" {
		s.resp.writeError(w, r, apierrors.NewNotFound(rs.gr, info.Name))
		return
	}
	if info.Subresource != "" && !rs.res.HasSubresource(info.Subresource) {
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{Group: rs.gr.Group, Resource: rs.gr.Resource + "/" + info.Subresource}, info.Name))
		return
	}
	if info.Subresource != "" {
		s.serveSubresource(w, r, rs, info)
		return
	}
	var err error
	switch info.Verb {
	case "get":
		err = s.handleGet(w, r, rs, info)
	case "list":
		err = s.handleList(w, r, rs, info)
	case "watch":
		err = s.handleWatch(w, r, rs, info)
	case "create":
		if info.Name != "" {
			err = apierrors.NewMethodNotSupported(rs.gr, "create")
			break
		}
		err = s.handleCreate(w, r, rs, info)
	case "update":
		err = s.handleUpdate(w, r, rs, info, "")
	case "patch":
		err = s.handlePatch(w, r, rs, info, "")
	case "delete":
		err = s.handleDelete(w, r, rs, info)
	case "deletecollection":
		err = s.handleDeleteCollection(w, r, rs, info)
	default:
		err = apierrors.NewMethodNotSupported(rs.gr, r.Method)
	}
	if err != nil {
		s.resp.writeError(w, r, err)
	}
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	var opts metav1.GetOptions
	if err := s.codecs.decodeParams(r.URL.Query(), &opts); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	obj, err := s.getObject(r.Context(), rs, info.Namespace, info.Name, opts.ResourceVersion)
	if err != nil {
		return err
	}
	s.resp.writeObject(w, r, http.StatusOK, obj)
	return nil
}

// getObject reads one object: from the cache for resourceVersion "0",
// otherwise a consistent read from the store.
func (s *Server) getObject(ctx context.Context, rs *resourceStore, ns, name, rv string) (runtime.Object, error) {
	if rv == "0" {
		obj, err := rs.cache.Get(ctx, rs.key(ns, name), rv)
		if err != nil {
			return nil, rs.storageError(err, name)
		}
		if obj == nil {
			return nil, apierrors.NewNotFound(rs.gr, name)
		}
		return obj, nil
	}
	obj, _, err := rs.get(ctx, ns, name)
	return obj, err
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	var opts metav1.CreateOptions
	validation, data, err := s.readWrite(r, &opts, &opts.DryRun)
	if err != nil {
		return err
	}
	obj, warnings, err := s.codecs.decodeObject(data, contentType(r), rs.gvk, rs.newObject(), validation)
	if err != nil {
		return err
	}
	if err := s.setNamespace(rs, obj, info.Namespace); err != nil {
		return err
	}
	m := objectMeta(obj)
	if m.GetName() == "" && m.GetGenerateName() == "" {
		return errInvalid(rs.gvk.GroupKind(), "", fieldErr(requiredName()))
	}
	if err := s.admitCreate(r.Context(), rs, obj); err != nil {
		return err
	}
	out, err := rs.create(r.Context(), obj, writeOptions{DryRun: isDryRun(opts.DryRun), FieldManager: managerName(opts.FieldManager, r)})
	if err != nil {
		return err
	}
	addWarnings(w, warnings)
	s.resp.writeObject(w, r, http.StatusCreated, out)
	return nil
}

// setNamespace reconciles the namespace of the URL with the body's.
func (s *Server) setNamespace(rs *resourceStore, obj runtime.Object, ns string) error {
	m := objectMeta(obj)
	if !rs.res.Namespaced {
		m.SetNamespace("")
		return nil
	}
	if m.GetNamespace() == "" {
		m.SetNamespace(ns)
	}
	if m.GetNamespace() != ns {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo, sub string) error {
	var opts metav1.UpdateOptions
	validation, data, err := s.readWrite(r, &opts, &opts.DryRun)
	if err != nil {
		return err
	}
	obj, warnings, err := s.codecs.decodeObject(data, contentType(r), rs.gvk, rs.newObject(), validation)
	if err != nil {
		return err
	}
	if err := s.setNamespace(rs, obj, info.Namespace); err != nil {
		return err
	}
	if name := objectMeta(obj).GetName(); name != info.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", name, info.Name))
	}
	wo := writeOptions{DryRun: isDryRun(opts.DryRun), FieldManager: managerName(opts.FieldManager, r), Subresource: sub}
	var createFn func() (runtime.Object, error)
	if allowCreateOnUpdate(rs) && sub == "" {
		createFn = func() (runtime.Object, error) {
			if err := s.admitCreate(r.Context(), rs, obj); err != nil {
				return nil, err
			}
			objectMeta(obj).SetResourceVersion("")
			return obj.DeepCopyObject(), nil
		}
	}
	out, created, err := rs.update(r.Context(), info.Namespace, info.Name, func(runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}, createFn, wo)
	if err != nil {
		return err
	}
	addWarnings(w, warnings)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	s.resp.writeObject(w, r, code, out)
	return nil
}

// allowCreateOnUpdate lists the types that upstream lets PUT create.
func allowCreateOnUpdate(rs *resourceStore) bool {
	switch rs.gvk.Kind {
	case "Endpoints", "Event", "Lease", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		return true
	}
	return false
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	opts, err := s.deleteOptions(r)
	if err != nil {
		return err
	}
	res, err := s.deleteObject(r.Context(), rs, info.Namespace, info.Name, opts)
	if err != nil {
		return err
	}
	if !res.gone {
		code := http.StatusOK
		if len(objectMeta(res.obj).GetFinalizers()) > 0 {
			code = http.StatusAccepted
		}
		s.resp.writeObject(w, r, code, res.obj)
		return nil
	}
	if rs.gvk.Kind == "Pod" {
		s.resp.writeObject(w, r, http.StatusOK, res.obj)
		return nil
	}
	m := objectMeta(res.obj)
	s.resp.writeObject(w, r, http.StatusOK, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: m.GetName(), Group: rs.gr.Group, Kind: rs.gr.Resource, UID: m.GetUID()},
	})
	return nil
}

// deleteObject deletes one object; namespaces go through their own
// life cycle.
func (s *Server) deleteObject(ctx context.Context, rs *resourceStore, ns, name string, opts metav1.DeleteOptions) (deleteResult, error) {
	if err := s.admitDelete(ctx, rs, ns, name, opts); err != nil {
		return deleteResult{}, err
	}
	if rs.gvk.Kind == "Namespace" && rs.gvk.Group == "" {
		return s.deleteNamespace(ctx, rs, name, opts)
	}
	return rs.delete(ctx, ns, name, opts)
}

// deleteOptions reads DeleteOptions from the body (if any) and the query.
func (s *Server) deleteOptions(r *http.Request) (metav1.DeleteOptions, error) {
	var opts metav1.DeleteOptions
	data, err := readBody(r)
	if err != nil {
		return opts, err
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := decodeDeleteOptions(data, contentType(r), &opts); err != nil {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("decoding DeleteOptions: %v", err))
		}
	}
	if err := s.codecs.decodeParams(r.URL.Query(), &opts); err != nil {
		return opts, apierrors.NewBadRequest(err.Error())
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			return opts, apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy: Unsupported value: %q: supported values: \"Foreground\", \"Background\", \"Orphan\"", *p))
		}
		if opts.OrphanDependents != nil {
			return opts, apierrors.NewBadRequest("orphanDependents and propagationPolicy cannot both be set")
		}
	}
	for _, d := range opts.DryRun {
		if d != metav1.DryRunAll {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("dryRun: Unsupported value: %q", d))
		}
	}
	return opts, nil
}

// protobufPrefix starts every Kubernetes protobuf message.
var protobufPrefix = []byte("k8s\x00")

// decodeDeleteOptions reads a DeleteOptions body. Clients send it as
// meta.k8s.io/v1 or as their group's version (the fields are the same), in
// JSON, YAML or protobuf (client-go's typed clients).
func decodeDeleteOptions(data []byte, mt string, opts *metav1.DeleteOptions) error {
	switch mt {
	case mediaProtobuf:
		if !bytes.HasPrefix(data, protobufPrefix) {
			return errors.New("the body is not a Kubernetes protobuf message")
		}
		var u runtime.Unknown
		if err := u.Unmarshal(data[len(protobufPrefix):]); err != nil {
			return err
		}
		if u.Kind != "" && u.Kind != "DeleteOptions" {
			return fmt.Errorf("the body is a %s, not DeleteOptions", u.Kind)
		}
		return opts.Unmarshal(u.Raw)
	case mediaYAML:
		return yaml.Unmarshal(data, opts)
	}
	return json.Unmarshal(data, opts)
}

func (s *Server) handleDeleteCollection(w http.ResponseWriter, r *http.Request, rs *resourceStore, info requestInfo) error {
	opts, err := s.deleteOptions(r)
	if err != nil {
		return err
	}
	var lo metav1.ListOptions
	if err := s.codecs.decodeParams(r.URL.Query(), &lo); err != nil {
		return apierrors.NewBadRequest(err.Error())
	}
	items, _, err := s.listItems(r.Context(), rs, info.Namespace, lo)
	if err != nil {
		return err
	}
	for _, item := range items {
		m := objectMeta(item)
		if _, err := s.deleteObject(r.Context(), rs, m.GetNamespace(), m.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	s.resp.writeObject(w, r, http.StatusOK, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
	})
	return nil
}

func isDryRun(d []string) bool { return len(d) > 0 }

// checkDryRun refuses dryRun values other than "All".
func checkDryRun(d []string) error {
	for _, v := range d {
		if v != metav1.DryRunAll {
			return apierrors.NewBadRequest(fmt.Sprintf("dryRun: Unsupported value: %q: supported values: %q", v, metav1.DryRunAll))
		}
	}
	return nil
}

// managerName is the field manager of a write: the fieldManager parameter,
// or the user agent's program name as upstream derives it.
func managerName(fieldManager string, r *http.Request) string {
	if fieldManager != "" {
		return fieldManager
	}
	ua := r.UserAgent()
	if i := strings.Index(ua, "/"); i >= 0 {
		ua = ua[:i]
	}
	if len(ua) > 128 {
		ua = ua[:128]
	}
	return ua
}

// isTerminal reports whether a pod has finished.
func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// readWrite reads what every write request carries: its query options
// (into opts, whose DryRun field is dryRun), the fieldValidation directive
// and the body.
func (s *Server) readWrite(r *http.Request, opts runtime.Object, dryRun *[]string) (validation string, body []byte, err error) {
	if err := s.codecs.decodeParams(r.URL.Query(), opts); err != nil {
		return "", nil, apierrors.NewBadRequest(err.Error())
	}
	if err := checkDryRun(*dryRun); err != nil {
		return "", nil, err
	}
	if validation, err = fieldValidation(r); err != nil {
		return "", nil, err
	}
	if body, err = readBody(r); err != nil {
		return "", nil, err
	}
	return validation, body, nil
}
